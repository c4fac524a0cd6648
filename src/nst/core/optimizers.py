"""The optimizers over the pixels: Adam (the spec's, :mod:`nst.core.adam`) and box-constrained
L-BFGS (:mod:`nst.core.lbfgs`), and what they share.

Both run one scale: they start from an image, take a step while ``should_step()`` says so,
and report each step through ``on_step(losses, current_image, state)``, where ``state()``
returns what a checkpoint needs to continue (the image, and Adam's moments) and ``state``
given to the optimizer continues from such a checkpoint. A step is one evaluation of
the loss and its gradient, i.e. one VGG19 forward and backward pass, whichever the optimizer:
that is what costs time, so that is what is counted.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nst.core import backend
from nst.core.losses import Tensor
from nst.core.objective import Objective

OptimizerState = dict[str, np.ndarray]
StepCallback = Callable[[dict[str, float], Callable[[], np.ndarray], Callable[[], OptimizerState]], None]


def step_function(objective: Objective, point: Callable, update: Callable, jit_compile: bool) -> Callable:
    """One step of an optimizer: the losses and gradient at ``point(*state)``, then
    ``update(*state, losses, gradient)``. Compiled as one function; except that a tiled objective
    runs its tiles itself (:mod:`nst.core.tiles`), and then the update runs op by op: a print's image
    is 120 MB, and a compiled update holds 40 to 60 of its temporaries at once (2048 px, L-BFGS),
    where op by op frees each as soon as it is used. Its time is nothing beside the tiles'."""
    if getattr(objective, "tiled", False):
        return lambda *state: update(*state, *objective.value_and_grad(point(*state)))
    evaluate = backend.value_and_grad(objective)
    return backend.compile(lambda *state: update(*state, *evaluate(point(*state))), jit_compile)


def fetch_later(pixels: Tensor) -> Callable[[], np.ndarray]:
    """A picture on the device, brought to the host only when the caller asks for it."""
    return lambda: backend.to_numpy(pixels)[0]
