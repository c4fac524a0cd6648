"""What --tileable costs: an L-BFGS step of a picture that wraps around next to a plain one, at
the same size, alternated in one process (so that whatever else runs on the machine weighs on
both alike), medians of the steps after the first two.

    NST_WEIGHTS=... python benchmarks/tileable.py [--size 256] [--steps 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "examples" / "cat.jpg"
STYLE = ROOT / "examples" / "starry-night.jpg"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from step_cost import step_times  # this folder's: the same clock as the other step timings

    from nst import Options
    from nst.core.lbfgs import run_lbfgs
    from nst.core.objective import Objective
    from nst.media import textures
    from nst.media.images import load_image

    photo = load_image(CONTENT, args.size)
    photo = photo[: len(photo) // 16 * 16]  # both at the tileable picture's shape
    painting = load_image(STYLE, args.size)
    runs = {}
    for tileable in (False, True):
        options = Options(size=args.size, tileable=tileable)
        target = textures.wrapped(photo) if tileable else photo
        runs[tileable] = (Objective(target, painting, options), target, options)
    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.rounds):
        for tileable, (objective, start, options) in runs.items():
            times[tileable] += step_times(run_lbfgs, objective, start, options, args.steps)
    plain, wrapped = (statistics.median(times[tileable]) for tileable in (False, True))
    print(
        f"| size | shape | plain step | tileable step | tileable / plain |\n|---|---|---|---|---|\n"
        f"| {args.size} | {photo.shape[1]}x{photo.shape[0]} | {plain:.3f} s | {wrapped:.3f} s | {wrapped / plain:.2f} |"
    )


if __name__ == "__main__":
    main()
