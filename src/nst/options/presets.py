"""Named sets of settings (:data:`PRESETS`, ``--preset``), and the settings runs had before each
was added, which an older picture is made again with (:meth:`Options.from_dict
<nst.options.Options.from_dict>`)."""

from __future__ import annotations

from typing import Any

from nst.options.layers import CONTENT_LAYERS, STYLE_LAYERS

# What runs did before each of these settings was added (PNGs and reports of nst 0.1 lack them).
BEFORE_THE_SETTING_EXISTED: dict[str, Any] = {
    "preconditioner": "blocks",
    "ladder": "print",
    "enlarge": "bicubic",
    "shift_pooling_grid": False,
}

# The spec's plain loop, as the TensorFlow tutorial runs it: Adam (0.02, 0.99, 0.1) from the
# photo, clipped to [0, 1], one scale, 1000 steps, mean losses with alpha 1e4, beta 1e-2.
PRESETS: dict[str, dict[str, Any]] = {
    "spec": {
        "optimizer": "adam",
        "learning_rate": 0.02,
        "beta_1": 0.99,
        "epsilon": 0.1,
        "init": "content",
        "scales": 1,
        "steps": 1000,
        "normalization": "mean",
        "content_weight": 1e4,
        "style_weight": 1e-2,
        "vgg_normalization": "none",
        "tv_weight": 0.0,
        "content_layers": CONTENT_LAYERS,
        "style_layers": STYLE_LAYERS,
        "style_layer_weights": None,
        "shift_pooling_grid": False,
    },
    # nst 0.2's default (docs/quality.md): the spec's objective (mean losses, alpha 1e4, beta 1e-2)
    # by L-BFGS from the smooth preconditioner, 100 steps at the output size alone (a print from
    # 512 px up), every size compiled with XLA. Its pictures are the photo under a fine texture in
    # the painting's colours; PNGs made by it carry these settings and reproduce as they were.
    "classic": {
        "optimizer": "lbfgs",
        "init": "content",
        "steps": 100,
        "coarse_steps": 100,
        "ladder": "print",
        "enlarge": "bicubic",
        "normalization": "mean",
        "content_weight": 1e4,
        "style_weight": 1e-2,
        "epsilon": 0.1,
        "vgg_normalization": "none",
        "balance_style_layers": False,
        "preconditioner": "gaussian",
        "jit_compile": True,
        "shift_pooling_grid": False,
        "tv_weight": 0.0,
        "content_layers": CONTENT_LAYERS,
        "style_layers": STYLE_LAYERS,
        "style_layer_weights": None,
    },
}
