"""Computes the per-filter scale factors of the normalised VGG19 (``--vgg-normalization gatys``).

    NST_WEIGHTS=... python docs/make_gatys_scales.py IMAGE... -o src/nst/data/vgg19_gatys_scales.npz

Gatys et al. (2016) scaled each filter's weights so that its mean activation over images and
positions is 1. Because ReLU and max pooling commute with a positive per-channel factor, that
network's activations are exactly the plain network's divided by these means, layer by layer;
so nst ships the means and divides the features by them (nst.core.features). The shipped file was
made from the seven free photos and paintings of the project's test set (3 photos: astronaut,
cat, coffee; 4 paintings: Composition VII, The Shipwreck, The Starry Night, The Scream; each
at its longer side of 512 px or less, as they are stored), with the offline VGG19 weights (the
ImageNet weights quantized to 256 levels a layer, whose activations differ from the original's
by the quantization error only).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def mean_activations(extractor, images) -> dict[str, np.ndarray]:
    """Each layer's per-filter activation averaged over positions, then over ``images``."""
    from keras import ops

    sums: dict[str, np.ndarray] = {}
    for image in images:
        for name, value in extractor(ops.convert_to_tensor(image[np.newaxis])).items():
            sums[name] = sums.get(name, 0.0) + ops.convert_to_numpy(value).mean(axis=(0, 1, 2))
    return {name: total / len(images) for name, total in sums.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="+", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()

    from nst.core.features import FeatureExtractor
    from nst.media.images import load_image
    from nst.options import VGG19_LAYERS, Options

    layers = [name for name in VGG19_LAYERS if "conv" in name]
    extractor = FeatureExtractor(layers, Options().resolved_weights())
    means = mean_activations(extractor, [load_image(path) for path in args.images])
    np.savez_compressed(args.output, **{name: value.astype(np.float32) for name, value in means.items()})
    for name, value in means.items():
        print(f"{name:>14}: {value.size} filters, mean activation {value.mean():.4g}, dead {int((value == 0).sum())}")


if __name__ == "__main__":
    main()
