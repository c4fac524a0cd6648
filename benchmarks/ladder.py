"""Why the coarse-to-fine ladder does not pay on the default objective: each style layer's loss
at the output size, for the photo, for the painting itself shrunk and enlarged again, and for a
result optimised at half the size and enlarged as the ladder does.

    NST_WEIGHTS=... python benchmarks/ladder.py [--size 512] [--coarse-steps 150]

The painting's own row would be 0 on every layer without the round trip: what it has left is
what the finest detail alone is worth to each layer.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from keras import ops

from nst import Options, stylize
from nst.core import losses
from nst.core.objective import Objective
from nst.media.images import load_image
from nst.media.resizing import area_resize, resize_pixels

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "examples" / "cat.jpg"
STYLE = ROOT / "examples" / "starry-night.jpg"


def shrunk_and_enlarged(image: np.ndarray, factor: int) -> np.ndarray:
    height, width = image.shape[:2]
    shape = (height // factor, width // factor)
    small = np.stack([area_resize(image[..., channel], shape) for channel in range(3)], axis=-1)
    return resize_pixels(small, image.shape)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--coarse-steps", type=int, default=150)
    args = parser.parse_args()
    options = Options(size=args.size)
    photo, painting = load_image(CONTENT, args.size), load_image(STYLE, args.size)
    on_photo, on_painting = Objective(photo, painting, options), Objective(painting, painting, options)
    coarse = stylize(CONTENT, STYLE, options, size=args.size // 2, steps=args.coarse_steps)
    enlarged = resize_pixels(coarse.pixels, photo.shape)  # as the ladder enlarges a size's result
    rows = [
        ("photo", on_photo, photo),
        ("painting, halved and enlarged", on_painting, shrunk_and_enlarged(painting, 2)),
        ("painting, quartered and enlarged", on_painting, shrunk_and_enlarged(painting, 4)),
        (f"{args.size // 2} px result, {args.coarse_steps} steps, enlarged", on_photo, enlarged),
    ]
    print(f"{args.size} px, style loss per layer (mean form) and the whole objective")
    print(f"{'image':<40}" + "".join(f"{name:>14}" for name in options.style_layers) + f"{'objective':>12}")
    for name, objective, image in rows:
        features = objective.extractor(ops.convert_to_tensor(image[np.newaxis]))
        per_layer = [
            float(losses.style_layer_loss(target, losses.normalized_gram(features[layer])))
            for target, layer in zip(objective.style_targets, options.style_layers, strict=True)
        ]
        total = objective.evaluate(image)["total"]
        print(f"{name:<40}" + "".join(f"{value:>14.3g}" for value in per_layer) + f"{total:>12.3g}")
    print(f"the {args.size // 2} px result's objective at its own size: {coarse.report['final']['total']:.3g}")


if __name__ == "__main__":
    main()
