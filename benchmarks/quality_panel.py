"""The quality panel: candidate methods on photo/painting pairs, judged by the picture too.

    NST_WEIGHTS=... python benchmarks/quality_panel.py                       # every candidate, 256 px
    NST_WEIGHTS=... python benchmarks/quality_panel.py --size 512 --pairs 3  # three pairs at 512 px
    NST_WEIGHTS=... python benchmarks/quality_panel.py --candidates blocks,gaussian --out /tmp/panel

For each candidate and pair it records, from one run at the candidate's settings and the same
number of evaluations (load-independent, unlike seconds):
- ``objective``: the plain VGG19's objective (the spec's weights, mean losses, equal layer
  weights; the default), the common yardstick; ``content``: its content loss;
- ``grid`` and ``noise`` (nst.media.measures), and each style layer's share of the candidate's own
  style loss;
- ``coarse/2`` and ``coarse/4``: the style loss of the result halved and quartered against the
  painting halved and quartered, divided by the photo's: below 1 the picture carries the
  painting's larger structures, not only its finest texture.
It writes each result, a contact sheet per candidate (rows: pairs; photo, painting, result),
a sheet of 400% crops of every candidate side by side, and the table as JSON, into --out.
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
PHOTOS = ("cat.jpg", "coffee.jpg")
PAINTINGS = ("starry-night.jpg", "the-scream.jpg")
# As different as possible: an animal and an object, swirls and long flat strokes.
PAIRS_512 = (("cat.jpg", "starry-night.jpg"), ("coffee.jpg", "the-scream.jpg"), ("coffee.jpg", "starry-night.jpg"))

# Each candidate: the options it changes from the defaults. Every candidate gets the same number
# of VGG19 passes at the output size (``--steps``), the ladder the same in full-size passes.
# The loss settings of the plain VGG19 (the spec's weights): the default objective.
PLAIN = {"vgg_normalization": "none", "content_weight": 1e4, "style_weight": 1e-2}
CANDIDATES: dict[str, dict] = {
    "blocks": {**PLAIN, "preconditioner": "blocks"},  # the default until this panel: block-mean pyramid
    "gaussian": {**PLAIN, "preconditioner": "gaussian"},  # the smooth pyramid: the default since the panel
    "none": {**PLAIN, "preconditioner": "none"},  # L-BFGS without a preconditioner
    # Gatys et al.'s normalised VGG19 with the smooth pyramid, at the strength docs/quality.md chose.
    "gatys": {"vgg_normalization": "gatys", "content_weight": 1e6, "style_weight": 5e6},
    "balanced": {**PLAIN, "balance_style_layers": True},
    "ladder-balanced": {**PLAIN, "balance_style_layers": True, "scales": "ladder", "coarse_steps": 100},
    "spec-adam": {**PLAIN, "optimizer": "adam"},  # the spec's Adam loop, same number of steps
    # The TensorFlow tutorial's full recipe: the spec's loop, 1000 steps, total variation 30 (sum form).
    "tutorial": {"preset": "spec", "steps": 1000, "tv_per_pixel": 30.0},
}


def candidate_options(settings: dict, size: int, steps: int, shape: tuple[int, ...]):
    """The Options of a candidate at ``size``, for a photo of ``shape`` at that size."""
    from nst import Options

    settings = dict(settings)
    if settings.pop("scales", 1) == "ladder":  # 128 px up to the size, coarse passes paid from the budget
        settings.update(scales=2 if size <= 256 else 3, scale_start=128)
        sizes = Options(size=size, **settings).scale_sizes()
        coarse = settings["coarse_steps"] * sum((other / size) ** 2 for other in sizes[:-1])
        steps = max(1, round(steps - coarse))
    if "tv_per_pixel" in settings:  # the tutorial's weight on the summed variation, in nst's mean form
        settings["tv_weight"] = settings.pop("tv_per_pixel") * shape[0] * shape[1]
    steps = settings.pop("steps", steps)
    preset = settings.pop("preset", None)
    if preset:
        return Options.preset(preset, size=size, steps=steps, **settings)
    return Options(size=size, steps=steps, **settings)


def pairs(size: int, count: int | None) -> list[tuple[str, str]]:
    chosen = [(photo, painting) for photo in PHOTOS for painting in PAINTINGS] if size <= 256 else list(PAIRS_512)
    return chosen[:count] if count else chosen


def run_candidate(name: str, settings: dict, photo: str, painting: str, size: int, steps: int, out: Path) -> dict:
    from nst import Options, score, stylize
    from nst.core.objective import Objective
    from nst.media.images import load_image, save_image

    photo_pixels = load_image(EXAMPLES / photo, size)
    painting_pixels = load_image(EXAMPLES / painting, size)
    options = candidate_options(settings, size, steps, photo_pixels.shape)
    started = time.perf_counter()
    result = stylize(EXAMPLES / photo, EXAMPLES / painting, options)
    seconds = time.perf_counter() - started
    path = out / f"{name}-{Path(photo).stem}-{Path(painting).stem}-{size}.png"
    save_image(result.pixels, path)
    yardstick = score(result.pixels, EXAMPLES / photo, EXAMPLES / painting, Options(size=size, **PLAIN))
    terms = Objective(photo_pixels, painting_pixels, options).style_layer_losses(result.pixels)
    row = {
        "candidate": name,
        "pair": f"{Path(photo).stem}/{Path(painting).stem}",
        "size": size,
        "steps": options.steps,
        "seconds": round(seconds, 1),
        "objective": yardstick["total"],
        "content": yardstick["content"],
        "grid": result.report["final"]["grid"],
        "noise": result.report["final"]["noise"],
        "shares": {layer: term / sum(terms.values()) for layer, term in terms.items()},
    }
    for divisor in (2, 4):
        coarse = Options(size=size // divisor, **PLAIN)
        result_style = score(result.pixels, EXAMPLES / photo, EXAMPLES / painting, coarse)["style"]
        photo_style = score(EXAMPLES / photo, EXAMPLES / photo, EXAMPLES / painting, coarse)["style"]
        row[f"coarse/{divisor}"] = result_style / photo_style
    return row


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
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--pairs", type=int, help="only the first N pairs")
    parser.add_argument("--candidates", default=",".join(CANDIDATES))
    parser.add_argument("--out", type=Path, default=Path("/tmp/nst-panel"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in args.candidates.split(","):
        for photo, painting in pairs(args.size, args.pairs):
            row = run_candidate(name, CANDIDATES[name], photo, painting, args.size, args.steps, args.out)
            rows.append(row)
            shares = " ".join(f"{share:.3f}" for share in row["shares"].values())
            print(
                f"{name:>12} {row['pair']:>24} {args.size} objective {row['objective']:.3e}"
                f" content {row['content']:.3e}"
                f" grid {row['grid']:.3f} noise {row['noise']:.3f} coarse/2 {row['coarse/2']:.3f}"
                f" coarse/4 {row['coarse/4']:.3f} shares {shares} {row['seconds']} s",
                flush=True,
            )
    (args.out / f"panel-{args.size}.json").write_text(json.dumps(rows, indent=1))
    contact_sheet(rows, args.out, args.size)
    print("\nmedian over pairs:")
    for name in args.candidates.split(","):
        mine = [row for row in rows if row["candidate"] == name]
        medians = {
            key: statistics.median(row[key] for row in mine) for key in ("objective", "grid", "noise", "coarse/2")
        }
        print(f"{name:>12} " + " ".join(f"{key} {value:.4g}" for key, value in medians.items()))


if __name__ == "__main__":
    main()
