"""Where nst 0.2's prints got their straight lines: the ladder's enlargements, without VGG19.

    python benchmarks/enlargement_lines.py [--fresh 0.3,0.05]

Noise at 512x320 px, brought through a print's ladder (861, 1448, 2435, 4096 px: 1.68 times a
size) by bicubic enlargements (nst 0.2) or by the detail enlargement (today's ``--enlarge
detail``, here with noise for the photo), with ``fresh`` times the noise added at each size: a
size whose few steps change the picture little. For each row and column, its mean |difference|
to the next over the median of its 9 neighbours (``pattern_measures.line_prominence``); the
table gives the ranks and values of the rows and columns where nst 0.2's 4096 px prints had
their lines.
docs/print.md has the results.
"""

from __future__ import annotations

import argparse

import numpy as np

SIZES = [(320, 512), (538, 861), (905, 1448), (1522, 2435), (2560, 4096)]
OLD_LINES = {"rows": (328, 481, 809, 1751, 2407), "columns": (224, 328, 1270, 2407)}


def ladder(enlarge, fresh: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    picture = None
    for shape in SIZES:
        noise = (0.5 + 0.1 * rng.standard_normal((*shape, 3))).astype(np.float32)
        picture = noise if picture is None else np.clip(enlarge(picture, noise) + fresh * (noise - 0.5), 0, 1)
    return picture.astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fresh", default="0.3,0.05", help="the fresh noise at each size, over the first's")
    args = parser.parse_args()

    from nst.media import pattern_measures
    from nst.media.resizing import enlarged_with_detail, resize_pixels

    reach = pattern_measures.LINE_REACH
    enlargements = {
        "bicubic": lambda picture, noise: resize_pixels(picture, noise.shape),
        "detail": enlarged_with_detail,
    }
    print("| enlargement | fresh | axis | old lines: rank (prominence) | median | most prominent (where) |")
    print("|---|---|---|---|---|---|")
    for fresh in (float(value) for value in args.fresh.split(",")):
        for name, enlarge in enlargements.items():
            picture = ladder(enlarge, fresh)
            for (axis, places), profile in zip(
                OLD_LINES.items(), pattern_measures.difference_profiles(picture), strict=True
            ):
                ratio = pattern_measures.line_ratios(profile)
                order = list(np.argsort(ratio)[::-1])
                # The boundary after row (column) p - 1, as docs/print.md counts them.
                ranks = [
                    f"{place}: {order.index(place - reach - 1) + 1} ({ratio[place - reach - 1]:.2f})"
                    for place in places
                ]
                top = int(order[0])
                print(f"| {name} | {fresh:g} | {axis} of {len(ratio)} | {', '.join(ranks)} | {np.median(ratio):.2f} "
                      f"| {ratio[top]:.2f} ({top + reach + 1}) |")  # fmt: skip


if __name__ == "__main__":
    main()
