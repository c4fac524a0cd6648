"""The settings of the losses: their weights and how they are scaled, VGG19's layers and its
normalisation (:class:`LossSettings`), and what is computed from them."""

from __future__ import annotations

from dataclasses import dataclass

from nst.options.choices import LOSS_WEIGHTS, NORMALIZATIONS, VGG_NORMALIZATIONS
from nst.options.layers import CONTENT_LAYERS, STYLE_LAYERS, layer_stride
from nst.options.schema import LOSSES, PICTURE_COMMANDS, setting


@dataclass(frozen=True)
class LossSettings:
    """What the picture is compared with the photo and the paintings by (fields of
    :class:`~nst.options.Options`): the losses' weights and scaling, VGG19's layers and normalisation."""

    content_weight: float | None = setting(
        None,
        "alpha, weight of the content loss (default: the measured one for --normalization)",
        LOSSES,
        PICTURE_COMMANDS,
        kind="float",
        details=", ".join(f"{content:g} for {name}" for name, (content, _) in LOSS_WEIGHTS.items()) + ".",
    )
    style_weight: float | None = setting(
        None,
        "beta, weight of the style loss (default: the measured one for --normalization)",
        LOSSES,
        PICTURE_COMMANDS,
        kind="float",
        details=", ".join(f"{style:g} for {name}" for name, (_, style) in LOSS_WEIGHTS.items())
        + ". The web form's style strength multiplies it.",
    )
    tv_weight: float = setting(
        0.0,
        "weight of total-variation smoothing",
        LOSSES,
        PICTURE_COMMANDS,
        kind="float",
        details="Not in the spec.",
    )
    normalization: str = setting(
        "photo",
        "'mean' (the TensorFlow tutorial's; balance kept across sizes), 'sum' (the spec's) or 'photo' (each loss"
        " a fraction of the photo's own: every style layer counts, one balance for every pair)",
        LOSSES,
        PICTURE_COMMANDS,
        kind="text",
        choices=NORMALIZATIONS,
        metavar="{mean,sum,photo}",
        details="See [the losses](method.md#losses).",
    )
    vgg_normalization: str = setting(
        "none",
        "'gatys': VGG19 with each filter's mean activation scaled to 1 (Gatys et al. 2016), 'none': as trained",
        LOSSES,
        PICTURE_COMMANDS,
        kind="text",
        choices=VGG_NORMALIZATIONS,
        metavar="{none,gatys}",
        details="With `gatys` every style layer counts and the strokes are bolder; use it with --content-weight 1e6"
        " --style-weight 5e6, see [quality](quality.md).",
    )
    content_layers: tuple[str, ...] = setting(
        CONTENT_LAYERS, "VGG19 layers for content", LOSSES, PICTURE_COMMANDS, kind="names", metavar="L1,L2"
    )
    style_layers: tuple[str, ...] = setting(
        STYLE_LAYERS, "VGG19 layers for style", LOSSES, PICTURE_COMMANDS, kind="names", metavar="L1,L2"
    )
    style_layer_weights: tuple[float, ...] | None = setting(
        None,
        "one weight per style layer (default 1 each)",
        LOSSES,
        PICTURE_COMMANDS,
        kind="numbers",
        metavar="W1,W2",
        details="The spec's w_l.",
    )
    balance_style_layers: bool = setting(
        False,
        "scale the style layers' weights so that each counts equally for the photo",
        LOSSES,
        PICTURE_COMMANDS,
        kind="switch",
    )

    @property
    def alignment(self) -> int:
        """The stride of the deepest layer used: an image's positions on its multiples are on every layer's grid."""
        return max(layer_stride(name) for name in self.content_layers + self.style_layers)

    @property
    def layer_weights(self) -> tuple[float, ...]:
        """The per-layer style weights w_l, one per style layer (1 each unless given)."""
        return self.style_layer_weights or (1.0,) * len(self.style_layers)
