"""The optimizers over the pixels: Adam (the spec's) and box-constrained L-BFGS.

Both run one scale: they start from an image, take a step while ``should_step()`` says so,
and report each step through ``on_step(losses, current_image, state)``, where ``state()``
returns what a checkpoint needs to continue (the image, and Adam's moments) and ``state``
given to the optimizer continues from such a checkpoint. A step is one evaluation of
the loss and its gradient, i.e. one VGG19 forward and backward pass, whichever the optimizer:
that is what costs time, so that is what is counted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import keras
import numpy as np
import scipy.optimize
import tensorflow as tf

from nst.objective import Objective
from nst.options import Options

OptimizerState = dict[str, np.ndarray]
StepCallback = Callable[[dict[str, float], Callable[[], np.ndarray], Callable[[], OptimizerState]], None]


def _loss_and_gradient(objective: Objective, jit_compile: bool) -> Callable[[tf.Tensor], tuple[dict, tf.Tensor]]:
    @tf.function(jit_compile=jit_compile)
    def evaluate(image: tf.Tensor) -> tuple[dict[str, tf.Tensor], tf.Tensor]:
        with tf.GradientTape() as tape:
            tape.watch(image)
            losses = objective(image)
        return losses, tape.gradient(losses["total"], image)

    return evaluate


def run_adam(
    objective: Objective,
    image: np.ndarray,
    options: Options,
    should_step: Callable[[], bool],
    on_step: StepCallback,
    state: OptimizerState | None = None,
) -> np.ndarray:
    """Adam on the pixels, clipped to [0, 1] after every step (the spec's loop)."""
    variable = tf.Variable(image[np.newaxis], name="generated_image")
    optimizer = keras.optimizers.Adam(
        learning_rate=options.learning_rate, beta_1=options.beta_1, epsilon=options.epsilon
    )
    optimizer.build([variable])  # Keras creates its slot variables here, outside the compiled step.
    if state is not None:  # the step count and both moments: the run goes on exactly as before
        for index, slot in enumerate(optimizer.variables):
            slot.assign(state[f"adam/{index}"])

    def current_state() -> OptimizerState:
        slots = {f"adam/{index}": slot.numpy() for index, slot in enumerate(optimizer.variables)}
        return {"image": variable.numpy()[0], **slots}

    @tf.function(jit_compile=options.jit_compile)
    def step() -> dict[str, tf.Tensor]:
        with tf.GradientTape() as tape:
            losses = objective(variable)
        optimizer.apply_gradients([(tape.gradient(losses["total"], variable), variable)])
        variable.assign(tf.clip_by_value(variable, 0.0, 1.0))
        return losses

    while should_step():
        losses = step()
        on_step({name: float(value) for name, value in losses.items()}, lambda: variable.numpy()[0], current_state)
    return variable.numpy()[0]


class _Exhausted(Exception):
    """Ends SciPy's L-BFGS-B from inside the objective when the step budget is spent."""


def run_lbfgs(
    objective: Objective,
    image: np.ndarray,
    options: Options,
    should_step: Callable[[], bool],
    on_step: StepCallback,
    state: OptimizerState | None = None,
) -> np.ndarray:
    """SciPy's L-BFGS-B with every pixel bounded to [0, 1]; returns the best image evaluated.

    L-BFGS-B keeps the bounds exactly, without clipping that would break its curvature pairs,
    and SciPy's implementation is the reference one. Loss and gradient stay one compiled
    TensorFlow function; only the image and its gradient cross to NumPy, once per step.
    SciPy does not expose its curvature pairs, so a checkpoint holds the best image only and a
    resumed run starts its curvature afresh from it (``state`` is not needed).
    """
    shape = image.shape
    evaluate = _loss_and_gradient(objective, options.jit_compile)
    best = {"total": np.inf, "image": image}

    def loss_and_gradient(flat: np.ndarray) -> tuple[float, np.ndarray]:
        if not should_step():
            raise _Exhausted
        pixels = flat.reshape(shape).astype(np.float32)
        losses, gradient = evaluate(tf.constant(pixels[np.newaxis]))
        losses = {name: float(value) for name, value in losses.items()}
        if losses["total"] < best["total"]:
            best.update(total=losses["total"], image=pixels)
        on_step(losses, lambda: pixels, lambda: {"image": best["image"]})
        return losses["total"], gradient.numpy().reshape(-1).astype(np.float64)

    with contextlib.suppress(_Exhausted):
        scipy.optimize.minimize(
            loss_and_gradient,
            image.reshape(-1).astype(np.float64),
            jac=True,
            method="L-BFGS-B",
            bounds=scipy.optimize.Bounds(0.0, 1.0),
            # The step budget ends the run; SciPy's own limits must not end it earlier.
            options={"maxcor": options.lbfgs_history, "maxiter": 10**9, "maxfun": 10**9, "ftol": 0.0, "gtol": 0.0},
        )
    return best["image"]


OPTIMIZERS = {"adam": run_adam, "lbfgs": run_lbfgs}
