"""Makes docs/print/tileable-2x2.png with the project itself: a texture made with --tileable and
one made without, each placed 2x2 at 100%, side by side, and prints their seam measures.

NST_WEIGHTS=... python docs/make_tileable_sheet.py [--size 256] [--steps 100]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from nst import stylize
from nst.media import pattern_measures
from nst.media.images import to_pil

ROOT = Path(__file__).resolve().parent.parent
GAP = 16


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()
    content, style = ROOT / "examples" / "cat.jpg", ROOT / "examples" / "starry-night.jpg"
    repeats = []
    for tileable in (True, False):
        result = stylize(content, style, size=args.size, steps=args.steps, tileable=tileable)
        pixels = result.pixels
        repeats.append(to_pil(np.tile(pixels, (2, 2, 1))))
        print(f"tileable={tileable}: {pixels.shape[1]}x{pixels.shape[0]} px, seam {pattern_measures.seam(pixels):.3f}")
    width, height = sum(image.width for image in repeats) + GAP, max(image.height for image in repeats)
    sheet = Image.new("RGB", (width, height), "white")
    sheet.paste(repeats[0], (0, 0))
    sheet.paste(repeats[1], (repeats[0].width + GAP, 0))
    path = ROOT / "docs" / "print" / "tileable-2x2.png"
    sheet.save(path, optimize=True)
    print(f"wrote {path} ({width}x{height})")


if __name__ == "__main__":
    main()
