"""The optimizers over the pixels: Adam (the spec's, :mod:`nst.core.adam`) and box-constrained
L-BFGS (:mod:`nst.core.lbfgs`), and what they share.

Both run one scale: they start from an image, take a step while ``should_step()`` says so,
and report each step through ``on_step(losses, current_image, state)``, where ``state()``
returns what a checkpoint needs to continue (the image, and Adam's moments) and ``state``
given to the optimizer continues from such a checkpoint. A step is one evaluation of
the loss and its gradient, i.e. one VGG19 forward and backward pass, whichever the optimizer:
that is what costs time, so that is what is counted.

A step's targets (what the image is compared with: :attr:`Objective.targets`) are inputs of the
compiled step, not constants of it: given a :class:`CompiledSteps`, runs of the same shape and
settings (a clip's frames) share one compiled step, and a clip compiles once per size.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import numpy as np

from nst.core import backend
from nst.core.losses import Tensor
from nst.core.objective import Objective

OptimizerState = dict[str, np.ndarray]
StepCallback = Callable[[dict[str, float], Callable[[], np.ndarray], Callable[[], OptimizerState]], None]
Kept = TypeVar("Kept")


class CompiledSteps:
    """The optimizers' compiled steps, kept from one run to the next (a clip's frames, in
    :mod:`nst.run.video`; a process's pictures, in :mod:`nst.run.runner`): a run whose objective
    has the same signature and whose optimizer has the same settings takes the step an earlier run
    compiled, with its own targets. Without one, each run compiles its own, which is freed with it.
    With a ``capacity``, the least recently used beyond it are freed."""

    def __init__(self, capacity: int | None = None) -> None:
        self._kept: OrderedDict[Hashable, Any] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()  # a web server's runs and a batch worker's items come from threads

    def get(self, key: Hashable, build: Callable[[], Kept]) -> Kept:
        with self._lock:
            if key not in self._kept:
                self._kept[key] = build()
            self._kept.move_to_end(key)
            while self._capacity is not None and len(self._kept) > self._capacity:
                self._kept.popitem(last=False)
            return self._kept[key]


def kept(
    compiled_steps: CompiledSteps | None, objective: Objective, settings: tuple, build: Callable[[], Kept]
) -> Kept:
    """What ``build`` makes (an optimizer's compiled step, and the variables it changes), kept in
    ``compiled_steps`` for the objective's signature and the optimizer's ``settings``: everything
    the step reads that is not an input. A tiled objective's tiles are compiled with it, and its
    targets are its own: it is never kept."""
    if compiled_steps is None or getattr(objective, "tiled", False):
        return build()
    return compiled_steps.get((objective.signature, *settings), build)


def step_function(objective: Objective, point: Callable, update: Callable, jit_compile: bool) -> Callable:
    """One step of an optimizer, ``step(targets, shift, *state)``: the losses and gradient at
    ``point(*state)`` against ``targets`` (an objective's :attr:`Objective.targets`), as VGG19 sees
    it ``shift`` (0 or 1, where :attr:`Objective.shifts`: in tiles) px further on, then
    ``update(*state, losses, gradient)``. Compiled as one function, which ``objective`` serves only
    for what its signature says; except that a tiled objective runs its tiles itself
    (:mod:`nst.core.tiles`, against its own targets), and then the update runs op by op: a print's
    image is 120 MB, and a compiled update holds 40 to 60 of its temporaries at once (2048 px,
    L-BFGS), where op by op frees each as soon as it is used. Its time is nothing beside the tiles'."""
    if getattr(objective, "tiled", False):
        return lambda targets, shift, *state: update(*state, *objective.value_and_grad(point(*state), int(shift)))
    evaluate = backend.value_and_grad(objective)
    compiled = backend.compile(lambda targets, *state: update(*state, *evaluate(point(*state), targets)), jit_compile)
    # A whole image is always seen at one place (Objective.shifts): its step takes no shift.
    return lambda targets, shift, *state: compiled(targets, *state)


def fetch_later(pixels: Tensor) -> Callable[[], np.ndarray]:
    """A picture on the device, brought to the host only when the caller asks for it."""
    return lambda: backend.to_numpy(pixels)[0]
