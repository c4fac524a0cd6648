"""Adam on the pixels (the spec's optimizer), one scale at a time: see :mod:`nst.core.optimizers`."""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
from keras import ops

from nst.core import backend
from nst.core.losses import Tensor
from nst.core.objective import Objective
from nst.core.optimizers import OptimizerState, StepCallback, fetch_later, step_function
from nst.options import Options


def run_adam(
    objective: Objective,
    image: np.ndarray,
    options: Options,
    should_step: Callable[[], bool],
    on_step: StepCallback,
    state: OptimizerState | None = None,
) -> np.ndarray:
    """Adam on the pixels, clipped to [0, 1] after every step (the spec's loop): Keras's Adam,
    on whichever backend Keras runs."""
    variable = keras.Variable(image[np.newaxis], name="generated_image")
    optimizer = keras.optimizers.Adam(
        learning_rate=options.learning_rate, beta_1=options.beta_1, epsilon=options.epsilon
    )
    optimizer.build([variable])  # Keras creates its slot variables here, before the first step.
    if state is not None:  # the step count and both moments: the run goes on exactly as before
        for index, slot in enumerate(optimizer.variables):
            slot.assign(state[f"adam/{index}"])

    def current_state() -> OptimizerState:
        slots = {f"adam/{index}": backend.to_numpy(slot) for index, slot in enumerate(optimizer.variables)}
        return {"image": backend.to_numpy(variable)[0], **slots}

    def in_place_update(losses: dict[str, Tensor], gradient: Tensor) -> dict[str, Tensor]:
        optimizer.apply([gradient], [variable])
        variable.assign(ops.clip(variable.value, 0.0, 1.0))
        return losses

    def pure_update(
        image: Tensor, slots: list[Tensor], losses: dict[str, Tensor], gradient: Tensor
    ) -> tuple[dict[str, Tensor], Tensor, list[Tensor]]:
        [image], slots = optimizer.stateless_apply(slots, [gradient], [image])
        return losses, ops.clip(image, 0.0, 1.0), slots

    if backend.stateless():  # a compiled function may not change variables: it returns their new values
        compiled = step_function(objective, lambda image, slots: image, pure_update, options.jit_compile)

        def step() -> dict[str, Tensor]:
            losses, image, slots = compiled(variable.value, [slot.value for slot in optimizer.variables])
            variable.assign(image)
            for slot, value in zip(optimizer.variables, slots, strict=True):
                slot.assign(value)
            return losses

    else:
        step = step_function(objective, lambda: variable.value, in_place_update, options.jit_compile)

    while should_step():
        losses = step()
        pixels = ops.copy(variable.value)  # this step's picture, kept on the device until asked for
        on_step(backend.floats(losses), fetch_later(pixels), current_state)
    return backend.to_numpy(variable)[0]
