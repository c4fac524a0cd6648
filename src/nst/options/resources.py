"""The settings of what a run loads, fits in and keeps (:class:`ResourceSettings`): the VGG19
weights, the memory and the tiles, the checkpoints and the report's history; and ``fast``, the
fast network's picture without a run."""

from __future__ import annotations

import os
from dataclasses import dataclass

from nst.options.environment import WEIGHTS_ENV
from nst.options.schema import LOSSES, OPTIMISATION, PICTURE_COMMANDS, RUN_COMMANDS, STYLIZE, setting


@dataclass(frozen=True)
class ResourceSettings:
    """What a run loads, fits in and keeps (fields of :class:`~nst.options.Options`): the VGG19
    weights, memory and tiles, checkpoints, the report's history; and the fast picture instead."""

    weights: str | None = setting(
        None,
        f"Keras VGG19 weights file (default ${WEIGHTS_ENV}, else imagenet)",
        LOSSES,
        PICTURE_COMMANDS,
        kind="text",
        metavar="PATH",
        details="See [offline weights](reliability.md#offline-weights).",
    )
    history_every: int = setting(10, "the report's history has the losses of every N-th step", None, (), kind="int")
    max_memory: float | None = setting(
        None,
        "stay within this many MB: a size too large for it is run in tiles, and a run that would not fit even"
        " so is refused (default: $NST_MAX_MEMORY, else what is available)",
        OPTIMISATION,
        RUN_COMMANDS,
        kind="float",
        details="A refused run is told the largest --size that fits; see [print](print.md).",
    )
    tile: int | None = setting(
        None,
        "run in tiles of this many px (a multiple of 16; default: only when memory needs it, as large as fits)",
        OPTIMISATION,
        RUN_COMMANDS,
        kind="int",
    )
    halo: int = setting(
        48,
        "px of the image around each tile that VGG19 sees with it (a multiple of 16)",
        OPTIMISATION,
        RUN_COMMANDS,
        kind="int",
        details="See [print](print.md).",
    )
    checkpoint: str | None = setting(
        None,
        "save the image and optimizer state here every --checkpoint-every steps and on Ctrl-C",
        OPTIMISATION,
        (STYLIZE,),
        kind="text",
        metavar="PATH.npz",
    )
    checkpoint_every: int = setting(50, "steps between checkpoints", OPTIMISATION, (STYLIZE,), kind="int")
    resume: str | None = setting(
        None,
        "continue from a checkpoint (same options; --steps counts from the start)",
        OPTIMISATION,
        (STYLIZE,),
        kind="text",
        metavar="PATH.npz",
    )
    fast: bool = setting(
        False,
        "the fast network's picture alone, in about a second: no optimisation, softer, the painting's colours"
        " more than its forms (needs nst[fast])",
        OPTIMISATION,
        (STYLIZE,),
        kind="flag",
        details="Magenta's arbitrary-style network (Ghiasi et al. 2017) on onnxruntime; TensorFlow never loads.",
    )

    def resolved_weights(self) -> str:
        """The VGG19 weights to load: this option, else $NST_WEIGHTS, else Keras's "imagenet"."""
        return self.weights or os.environ.get(WEIGHTS_ENV) or "imagenet"
