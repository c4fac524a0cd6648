"""Makes the README's before/after picture with the project itself, at the default settings.

NST_WEIGHTS=... python docs/make_readme_images.py
"""

from __future__ import annotations

import json
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


def main() -> None:
    content, style = ROOT / "examples" / "cat.jpg", ROOT / "examples" / "starry-night.jpg"
    result = stylize(content, style)  # the defaults: 512 px, 300 Adam steps
    strip([content, style, result.image], ROOT / "docs" / "before-after.jpg")
    summary = {
        "wall_s": result.report["wall_s"],
        "final": result.report["final"],
        "size": result.report["params"]["output_size"],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
