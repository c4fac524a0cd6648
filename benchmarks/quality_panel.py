"""The quality panel: candidate methods on photo/painting pairs, judged by the picture too.

    NST_WEIGHTS=... python benchmarks/quality_panel.py --candidates classic,default --size 256
    NST_WEIGHTS=... python benchmarks/quality_panel.py --candidates classic,default,default-init-fast --size 512
    NST_WEIGHTS=... python benchmarks/quality_panel.py --candidates blocks,gaussian --out /tmp/panel

Every bundled photo (cat, coffee) with every bundled painting (The Starry Night, The Scream). Each
candidate runs with its own settings (its steps and sizes: the default's minute against nst 0.2's
100 steps at the output size), and records from that one run:
- ``seconds`` (other work on the machine inflates them; ``benchmarks/minute.py`` times the
  default alone) and the VGG19 passes at each size;
- ``objective`` and ``content``: the plain VGG19's objective and content loss (the spec's
  weights, mean losses), the common yardstick whatever the candidate minimises;
- ``coarse/2`` and ``coarse/4``: the plain network's style loss of the result halved and
  quartered against the painting halved and quartered, over the photo's: lower means the
  picture carries the painting's larger structures, not only its finest texture;
- the picture measures of the report's ``final`` (nst.media.measures): ``grid``, ``noise``,
  ``outliers`` (per mille; ``outliers_painting``: the painting's own), ``lattice``, ``lines``;
- each style layer's share of the candidate's own style loss.
It writes each result, a contact sheet per candidate (rows: pairs; photo, painting, result), a
sheet of 400% crops of every candidate side by side, and the table as JSON, into --out.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PAIRS = [(photo, painting) for photo in ("cat", "coffee") for painting in ("starry-night", "the-scream")]
CLASSIC = {"preset": "classic"}
# Each candidate: a preset and the options it changes. nst 0.2's candidates are the classic preset's.
CANDIDATES: dict[str, dict] = {
    "default": {},  # nst 0.3: photo-relative losses, the painting ladder, detail enlargements
    "default-init-fast": {"init": "fast"},  # the same, starting from the fast network's picture (nst[fast])
    # The default keeping more of the photo: the content bound against nst 0.2 at 512 px (docs/quality.md).
    "default-content-0.8": {"content_weight": 0.8},
    "default-content-1.6": {"content_weight": 1.6},
    "classic": CLASSIC,  # nst 0.2's default: the spec's objective, 100 L-BFGS steps at the output size
    "blocks": {**CLASSIC, "preconditioner": "blocks"},  # the default before 0.2: block-mean pyramid
    "gaussian": CLASSIC,  # the smooth pyramid, nst 0.2's name for its default
    "none": {**CLASSIC, "preconditioner": "none"},  # L-BFGS without a preconditioner
    # Gatys et al.'s normalised VGG19, at the strength docs/quality.md chose for it.
    "gatys": {**CLASSIC, "vgg_normalization": "gatys", "content_weight": 1e6, "style_weight": 5e6},
    "balanced": {**CLASSIC, "balance_style_layers": True},
    "spec-adam": {**CLASSIC, "optimizer": "adam"},  # the spec's Adam loop, 100 steps
    # The TensorFlow tutorial's full recipe: the spec's loop, 1000 steps, total variation 30 (sum form).
    "tutorial": {"preset": "spec", "steps": 1000, "tv_per_pixel": 30.0},
}


def candidate_options(settings: dict, size: int, shape: tuple[int, ...]):
    """The Options of a candidate at ``size``, for a photo of ``shape`` at that size."""
    from nst import Options

    settings = dict(settings)
    if "tv_per_pixel" in settings:  # the tutorial's weight on the summed variation, in nst's mean form
        settings["tv_weight"] = settings.pop("tv_per_pixel") * shape[0] * shape[1]
    preset = settings.pop("preset", None)
    return Options.preset(preset, size=size, **settings) if preset else Options(size=size, **settings)


def run_candidate(name: str, settings: dict, photo: str, painting: str, size: int, out: Path) -> dict:
    from nst import Options, score, stylize
    from nst.core.objective import Objective
    from nst.media.images import load_image
    from nst.media.saving import save_image
    from nst.run.api import PLAIN_OBJECTIVE, coarse_style

    photo_path, painting_path = EXAMPLES / f"{photo}.jpg", EXAMPLES / f"{painting}.jpg"
    photo_pixels = load_image(photo_path, size)
    options = candidate_options(settings, size, photo_pixels.shape)
    started = time.perf_counter()
    result = stylize(photo_path, painting_path, options)
    seconds = time.perf_counter() - started
    save_image(result.pixels, out / f"{name}-{photo}-{painting}-{size}.png")
    yardstick = score(result.pixels, photo_path, painting_path, Options(size=size, **PLAIN_OBJECTIVE))
    terms = Objective(photo_pixels, load_image(painting_path, size), options).style_layer_losses(result.pixels)
    final = result.report["final"]
    return {
        "candidate": name,
        "pair": f"{photo}/{painting}",
        "size": size,
        "passes": {str(entry["size"]): entry["steps"] for entry in result.report["sizes"]},
        "seconds": round(seconds, 1),
        "objective": yardstick["total"],
        "content": yardstick["content"],
        **{f"coarse/{n}": coarse_style(result.pixels, photo_path, painting_path, size, n) for n in (2, 4)},
        **{key: final[key] for key in ("grid", "noise", "outliers", "outliers_painting", "lattice", "lines")},
        "shares": {layer: term / sum(terms.values()) for layer, term in terms.items()},
    }


def contact_sheet(rows: list[dict], out: Path, size: int) -> None:
    """Per candidate: one line per pair (photo, painting, result); and one 400% crop sheet."""
    by_candidate: dict[str, list[dict]] = {}
    for row in rows:
        by_candidate.setdefault(row["candidate"], []).append(row)
    for name, entries in by_candidate.items():
        lines = []
        for row in entries:
            photo, painting = row["pair"].split("/")
            result = Image.open(out / f"{name}-{photo}-{painting}-{size}.png").convert("RGB")
            originals = [_fit(EXAMPLES / f"{stem}.jpg", result.size) for stem in (photo, painting)]
            lines.append(_row([*originals, result]))
        _labelled(_column(lines), name).save(out / f"sheet-{name}-{size}.png")
    crops = []
    for name, entries in by_candidate.items():
        images = []
        for row in entries:
            photo, painting = row["pair"].split("/")
            result = Image.open(out / f"{name}-{photo}-{painting}-{size}.png").convert("RGB")
            left, top = result.width // 2 - 32, result.height // 2 - 32
            images.append(result.crop((left, top, left + 64, top + 64)).resize((256, 256), Image.Resampling.NEAREST))
        crops.append(_labelled(_row(images), name))
    _column(crops).save(out / f"zoom400-{size}.png")


def _labelled(image: Image.Image, label: str) -> Image.Image:
    sheet = Image.new("RGB", (image.width, image.height + 14), "white")
    sheet.paste(image, (0, 14))
    ImageDraw.Draw(sheet).text((2, 1), label, fill="black")
    return sheet


def _fit(path: Path, size: tuple[int, int]) -> Image.Image:
    image = Image.open(path).convert("RGB")
    image.thumbnail(size, Image.Resampling.LANCZOS)
    return image


def _row(images: list[Image.Image]) -> Image.Image:
    sheet = Image.new("RGB", (sum(i.width for i in images) + 4 * len(images), max(i.height for i in images)), "white")
    x = 0
    for image in images:
        sheet.paste(image, (x, 0))
        x += image.width + 4
    return sheet


def _column(images: list[Image.Image]) -> Image.Image:
    sheet = Image.new("RGB", (max(i.width for i in images), sum(i.height for i in images) + 4 * len(images)), "white")
    y = 0
    for image in images:
        sheet.paste(image, (0, y))
        y += image.height + 4
    return sheet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--pairs", type=int, help="only the first N pairs")
    parser.add_argument("--candidates", default="classic,default")
    parser.add_argument("--out", type=Path, default=Path("/tmp/nst-panel"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    names = args.candidates.split(",")
    for name in names:
        for photo, painting in PAIRS[: args.pairs]:
            row = run_candidate(name, CANDIDATES[name], photo, painting, args.size, args.out)
            rows.append(row)
            print(
                f"{name:>18} {row['pair']:>20} {args.size} objective {row['objective']:.3e}"
                f" content {row['content']:.0f}"
                f" coarse/2 {row['coarse/2']:.3f} coarse/4 {row['coarse/4']:.3f} grid {row['grid']:.3f}"
                f" noise {row['noise']:.2f} outliers {row['outliers']:.1f} ({row['outliers_painting']:.1f})"
                f" lattice {row['lattice']:.2f} lines {row['lines']:.2f} passes {row['passes']} {row['seconds']} s",
                flush=True,
            )
    (args.out / f"panel-{args.size}.json").write_text(json.dumps(rows, indent=1))
    contact_sheet(rows, args.out, args.size)
    print("\nmedian over pairs (max in brackets):")
    for name in names:
        mine = [row for row in rows if row["candidate"] == name]
        cells = []
        for key in ("content", "coarse/2", "coarse/4", "grid", "noise", "outliers", "lattice", "seconds"):
            values = [row[key] for row in mine]
            cells.append(f"{key} {statistics.median(values):.4g} ({max(values):.4g})")
        print(f"{name:>18} " + ", ".join(cells))


if __name__ == "__main__":
    main()
