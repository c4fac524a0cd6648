"""Makes the README's pictures with the project itself: before/after at the defaults, and the controls.

NST_WEIGHTS=... python docs/make_readme_images.py [--controls-only]
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from PIL import Image

from nst import stylize

ROOT = Path(__file__).resolve().parent.parent
HEIGHT = 240  # of each panel in the strip


def strip(paths_or_images: list[Path | Image.Image], path: Path) -> None:
    """Photo | painting | result side by side, each scaled to the same height."""
    panels = [item if isinstance(item, Image.Image) else Image.open(item).convert("RGB") for item in paths_or_images]
    panels = [panel.resize((round(panel.width * HEIGHT / panel.height), HEIGHT), Image.LANCZOS) for panel in panels]
    canvas = Image.new("RGB", (sum(panel.width for panel in panels) + 8 * (len(panels) - 1), HEIGHT), "white")
    x = 0
    for panel in panels:
        canvas.paste(panel, (x, 0))
        x += panel.width + 8
    canvas.save(path, quality=88)


def half_masks(size: tuple[int, int]) -> tuple[Image.Image, Image.Image]:
    """Left half white, and right half white: the regions of the style-masks example."""
    left = Image.new("L", size, 0)
    left.paste(255, (0, 0, size[0] // 2, size[1]))
    return left, Image.eval(left, lambda value: 255 - value)


def controls(content: Path, style: Path, scream: Path, folder: Path) -> dict:
    """The controls, at 256 px to keep the script short."""
    left, right = half_masks((256, 170))
    masks = [folder / "left.png", folder / "right.png"]
    for mask, path in zip((left, right), masks, strict=True):
        mask.save(path)
    runs = {
        "luminance": stylize(content, style, size=256, preserve_colors="luminance"),
        "histogram": stylize(content, style, size=256, preserve_colors="histogram"),
        "blend": stylize(content, [style, scream], size=256, style_blend=(0.5, 0.5)),
        "style-scale": stylize(content, style, size=256, style_scale=2.0),
        "style-masks": stylize(content, [style, scream], size=256, style_masks=tuple(map(str, masks))),
    }
    strip([run.image for run in runs.values()], ROOT / "docs" / "controls.jpg")
    return {name: {"wall_s": run.report["wall_s"]} for name, run in runs.items()}


def main() -> None:
    content, style = ROOT / "examples" / "cat.jpg", ROOT / "examples" / "starry-night.jpg"
    scream = ROOT / "examples" / "the-scream.jpg"
    summary = {}
    if "--controls-only" not in sys.argv:
        result = stylize(content, style)  # the defaults: 512 px, from 128 and 256 px
        strip([content, style, result.image], ROOT / "docs" / "before-after.jpg")
        summary["before-after"] = {"wall_s": result.report["wall_s"], "final": result.report["final"]}
    with tempfile.TemporaryDirectory() as folder:
        summary.update(controls(content, style, scream, Path(folder)))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
