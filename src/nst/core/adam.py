"""Adam on the pixels (the spec's optimizer), one scale at a time: see :mod:`nst.core.optimizers`."""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
from keras import ops

from nst.core import backend
from nst.core.losses import Tensor
from nst.core.objective import Objective
from nst.core.optimizers import CompiledSteps, OptimizerState, StepCallback, fetch_later, kept, step_function
from nst.options import Options


class _KerasAdam:
    """Keras's Adam over an image of one shape: the image's variable, the optimizer's and the
    compiled step that changes them, which a later run of the same shape and settings (a clip's
    next frame) starts afresh instead of compiling its own."""

    def __init__(self, objective: Objective, shape: tuple[int, ...], options: Options) -> None:
        # In tiles VGG19 sees the picture 1 px further on every other step: its pooling grid then
        # leaves no period-2 pattern (nst.core.tiles.TiledObjective.value_and_grad).
        self.alternates = objective.shifts
        self.variable = keras.Variable(np.zeros((1, *shape), np.float32), name="generated_image")
        self.optimizer = keras.optimizers.Adam(
            learning_rate=options.learning_rate, beta_1=options.beta_1, epsilon=options.epsilon
        )
        self.optimizer.build([self.variable])  # Keras creates its slot variables here, before the first step.
        self.used = False
        if backend.stateless():  # a compiled function may not change variables: it returns their new values
            self.compiled = step_function(objective, lambda image, slots: image, self._pure_update, options.jit_compile)
        else:
            self.compiled = step_function(
                objective, lambda: self.variable.value, self._in_place_update, options.jit_compile
            )

    def start(self, image: np.ndarray, learning_rate: float, state: OptimizerState | None) -> None:
        """From ``image``, with fresh moments, or those of ``state`` (a checkpoint's)."""
        self.variable.assign(image[np.newaxis])
        if state is not None:  # the step count and both moments: the run goes on exactly as before
            for index, slot in enumerate(self.optimizer.variables):
                slot.assign(state[f"adam/{index}"])
        elif self.used:  # an earlier run's step count and moments
            for slot in self.optimizer.variables:
                slot.assign(ops.zeros_like(slot.value))
            self.optimizer.learning_rate = learning_rate
        self.used = True

    def state(self) -> OptimizerState:
        slots = {f"adam/{index}": backend.to_numpy(slot) for index, slot in enumerate(self.optimizer.variables)}
        return {"image": backend.to_numpy(self.variable)[0], **slots}

    def step(self, targets: dict) -> dict[str, Tensor]:
        # From the step count, which a checkpoint keeps: a resumed run alternates as it would have.
        shift = int(backend.to_numpy(self.optimizer.iterations)) % 2 if self.alternates else 0
        if not backend.stateless():
            return self.compiled(targets, shift)
        slots = self.optimizer.variables
        losses, image, values = self.compiled(targets, shift, self.variable.value, [slot.value for slot in slots])
        self.variable.assign(image)
        for slot, value in zip(slots, values, strict=True):
            slot.assign(value)
        return losses

    def _in_place_update(self, losses: dict[str, Tensor], gradient: Tensor) -> dict[str, Tensor]:
        self.optimizer.apply([gradient], [self.variable])
        self.variable.assign(ops.clip(self.variable.value, 0.0, 1.0))
        return losses

    def _pure_update(
        self, image: Tensor, slots: list[Tensor], losses: dict[str, Tensor], gradient: Tensor
    ) -> tuple[dict[str, Tensor], Tensor, list[Tensor]]:
        [image], slots = self.optimizer.stateless_apply(slots, [gradient], [image])
        return losses, ops.clip(image, 0.0, 1.0), slots


def run_adam(
    objective: Objective,
    image: np.ndarray,
    options: Options,
    should_step: Callable[[], bool],
    on_step: StepCallback,
    state: OptimizerState | None = None,
    compiled_steps: CompiledSteps | None = None,
) -> np.ndarray:
    """Adam on the pixels, clipped to [0, 1] after every step (the spec's loop): Keras's Adam,
    on whichever backend Keras runs. Its variables and compiled step are kept in
    ``compiled_steps``, if given, for later runs of the same shape and settings."""
    settings = ("adam", image.shape, options.beta_1, options.epsilon, options.jit_compile)
    adam = kept(compiled_steps, objective, settings, lambda: _KerasAdam(objective, image.shape, options))
    adam.start(image, options.learning_rate, state)
    while should_step():
        losses = adam.step(objective.targets)
        pixels = ops.copy(adam.variable.value)  # this step's picture, kept on the device until asked for
        on_step(backend.floats(losses), fetch_later(pixels), adam.state)
    return backend.to_numpy(adam.variable)[0]
