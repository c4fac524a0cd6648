"""VGG19's layers as the settings name them, the run's default content and style layers, the
smallest side its deepest layers see, and where a layer's positions lie on the image (its stride,
the shape of its map)."""

from __future__ import annotations

# Convolution blocks of VGG19 (block number, number of convolutions in it).
_VGG19_BLOCKS = ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4))
VGG19_LAYERS: tuple[str, ...] = tuple(
    name
    for block, convolutions in _VGG19_BLOCKS
    for name in [f"block{block}_conv{i}" for i in range(1, convolutions + 1)] + [f"block{block}_pool"]
)
CONTENT_LAYERS: tuple[str, ...] = ("block5_conv2",)
STYLE_LAYERS: tuple[str, ...] = tuple(f"block{block}_conv1" for block in range(1, 6))
# VGG19 halves the image four times before block5; below this the deepest maps vanish.
MIN_SIDE = 16


def layer_stride(name: str) -> int:
    """How many pixels apart a VGG19 layer's positions are: 2^(poolings before it)."""
    block = int(name[len("block")])
    return 2 ** (block if name.endswith("pool") else block - 1)


def layer_shape(name: str, shape: tuple[int, ...]) -> tuple[int, int]:
    """The (height, width) of VGG19 layer ``name``'s map for an image of ``shape``: its convolutions
    keep the size and each pooling before it halves it, rounding down."""
    stride = layer_stride(name)
    return shape[0] // stride, shape[1] // stride
