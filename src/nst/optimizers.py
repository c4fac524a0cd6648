"""The optimizers over the pixels: Adam (the spec's) and box-constrained L-BFGS.

Both run one scale: they start from an image, take a step while ``should_step()`` says so,
and report each step through ``on_step(losses, current_image, state)``, where ``state()``
returns what a checkpoint needs to continue (the image, and Adam's moments) and ``state``
given to the optimizer continues from such a checkpoint. A step is one evaluation of
the loss and its gradient, i.e. one VGG19 forward and backward pass, whichever the optimizer:
that is what costs time, so that is what is counted.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from nst.objective import Objective
from nst.options import Options

OptimizerState = dict[str, np.ndarray]
_ARMIJO = 1e-4  # the sufficient decrease every accepted step must make
# Of each preconditioner level over the next finer, fitted with the block pyramid (not yet refitted
# for the smooth one): objective after 150 evaluations at 256 px with weights 1, 1.4, 1.7, 2
# and 3: 9.13e6, 9.07e6, 9.12e6, 9.25e6, 9.76e6.
_PYRAMID_WEIGHT = 1.4
_FIRST_STEP_RMS = 0.02  # root-mean-square pixel change of a step taken without curvature pairs
_CURVATURE_EPSILON = 1e-10  # pairs with less curvature than this would make the direction unstable

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


class _ProjectedLbfgs:
    """L-BFGS kept inside the box [0, 1]: the state of one run, advanced one evaluation at a time.

    Each iteration takes the quasi-Newton direction over the free pixels (a pixel at a bound
    whose gradient pushes it outward is held), moves along it projected onto the box, and
    backtracks until the loss falls enough (Armijo). Pixels are never clipped after the fact,
    so the curvature pairs stay true to the steps taken. All of it is plain arrays, which is
    what lets a checkpoint hold the whole state and a resumed run take the very same steps.

    The recursion starts from a pyramid preconditioner instead of the identity (``PRECONDITIONERS``):
    the gradient, lightly smoothed, plus its Gaussian-pyramid levels (blurred and halved 1, 2...
    times, then enlarged back), each level weighted 1.4 times the next finer, down to a
    sixteenth of the image's longer side. Moving whole regions at once is what the style loss
    wants early and what a pixel-wise step does slowly; it is the same as optimising a
    Laplacian-pyramid parametrisation of the image, without changing what is minimised. Block
    means (``"blocks"``, the earlier default) did the same with flat squares, and left them in
    the picture as a grid; docs/quality.md has the comparison."""

    def __init__(self, image: np.ndarray, history: int, preconditioner: str = "gaussian") -> None:
        self.history = history
        self.preconditioner = preconditioner
        self.shape = image.shape
        self.levels = max(0, round(math.log2(max(image.shape[:2]) / 16)))
        # float32, as the image and gradient are: half the memory and time of float64 vectors.
        self.trial = image.reshape(-1).astype(np.float32)  # the point evaluated next
        self.point: np.ndarray | None = None  # the last accepted point, its loss and gradient
        self.loss = np.inf
        self.gradient = np.zeros_like(self.trial)
        self.direction = np.zeros_like(self.trial)
        self.step_size = 0.0
        self.steps: list[np.ndarray] = []  # curvature pairs s = x' - x, y = g' - g, oldest first
        self.changes: list[np.ndarray] = []

    def observe(self, loss: float, gradient: np.ndarray) -> None:
        """Takes the loss and gradient at ``trial`` and chooses the next ``trial``."""
        if self.point is not None:
            step = self.trial - self.point
            slope = _dot(self.gradient, step)
            if not (math.isfinite(loss) and loss <= self.loss + _ARMIJO * slope):
                self._backtrack(loss, slope)
                return
            change = gradient - self.gradient
            if _dot(step, change) > _CURVATURE_EPSILON * _dot(change, change):
                self.steps.append(step)
                self.changes.append(change)
                del self.steps[: -self.history], self.changes[: -self.history]
        self.point, self.loss, self.gradient = self.trial, loss, gradient
        self.direction = self._direction()
        self.step_size = 1.0 if self.steps else self._first_step()
        self.trial = self._project(self.step_size)

    def _backtrack(self, loss: float, slope: float) -> None:
        # The minimum of the quadratic through the loss, its slope and the new loss, kept
        # between a tenth and a half of the step: the classic safeguarded backtracking.
        size = self.step_size
        curvature = loss - self.loss - slope
        shrink = -slope / (2 * curvature) if math.isfinite(loss) and curvature > 0 else 0.5
        self.step_size = size * min(0.5, max(0.1, shrink))
        if self.step_size * float(np.abs(self.direction).max(initial=0.0)) < 1e-12:
            # No step along this direction helps: forget the curvature and go down the
            # (preconditioned) gradient.
            self.steps, self.changes = [], []
            self.direction = self._direction()
            self.step_size = self._first_step()
        self.trial = self._project(self.step_size)

    def _first_step(self) -> float:
        # Without curvature pairs the step has no scale of its own. SciPy's length 1 moves a
        # pixel by ~0.003 at 256 px; this moves them as much as Adam's first step (its learning
        # rate): 9.2e7 after 10 evaluations at 256 px against 3.1e8 (benchmarks/lbfgs.py).
        root_mean_square = math.sqrt(_dot(self.direction, self.direction) / self.direction.size)
        return _FIRST_STEP_RMS / max(root_mean_square, 1e-30)

    def _direction(self) -> np.ndarray:
        """The two-loop recursion over the pixels free to move (Nocedal and Wright, alg. 7.4)."""
        free = ~(((self.point <= 0.0) & (self.gradient > 0.0)) | ((self.point >= 1.0) & (self.gradient < 0.0)))
        direction = np.where(free, self.gradient, np.float32(0.0))
        weights = []
        for step, change in zip(reversed(self.steps), reversed(self.changes), strict=True):
            weight = _dot(step, direction) / _dot(step, change)
            direction -= np.float32(weight) * change
            weights.append(weight)
        direction = self._precondition(direction)
        if self.steps:  # the newest pair sets the scale (the usual gamma, measured through the preconditioner)
            newest = self.changes[-1]
            direction *= np.float32(_dot(self.steps[-1], newest) / _dot(newest, self._precondition(newest)))
        for step, change, weight in zip(self.steps, self.changes, reversed(weights), strict=True):
            direction += np.float32(weight - _dot(change, direction) / _dot(step, change)) * step
        direction = -np.where(free, direction, np.float32(0.0))
        if _dot(direction, self.gradient) >= 0.0:  # not downhill (rare, numerical): start afresh
            self.steps, self.changes = [], []
            return -np.where(free, self.gradient, np.float32(0.0))
        return direction

    def _precondition(self, vector: np.ndarray) -> np.ndarray:
        image = vector.reshape(self.shape)
        return PRECONDITIONERS[self.preconditioner](image, self.levels).reshape(-1)

    def _project(self, size: float) -> np.ndarray:
        return np.clip(self.point + size * self.direction, 0.0, 1.0)

    def state(self) -> OptimizerState:
        return {
            "lbfgs/trial": self.trial,
            "lbfgs/point": self.point,
            "lbfgs/loss": np.float64(self.loss),
            "lbfgs/gradient": self.gradient,
            "lbfgs/direction": self.direction,
            "lbfgs/step_size": np.float64(self.step_size),
            # One entry per vector, not stacked: stacking would copy all the pairs at once.
            **{f"lbfgs/step/{index:03d}": step for index, step in enumerate(self.steps)},
            **{f"lbfgs/change/{index:03d}": change for index, change in enumerate(self.changes)},
        }

    def restore(self, state: OptimizerState) -> None:
        self.trial, self.point, self.gradient = state["lbfgs/trial"], state["lbfgs/point"], state["lbfgs/gradient"]
        self.direction = state["lbfgs/direction"]
        self.loss, self.step_size = float(state["lbfgs/loss"]), float(state["lbfgs/step_size"])
        self.steps = [state[name] for name in sorted(state) if name.startswith("lbfgs/step/")]
        self.changes = [state[name] for name in sorted(state) if name.startswith("lbfgs/change/")]


def run_lbfgs(
    objective: Objective,
    image: np.ndarray,
    options: Options,
    should_step: Callable[[], bool],
    on_step: StepCallback,
    state: OptimizerState | None = None,
) -> np.ndarray:
    """L-BFGS with every pixel bounded to [0, 1]; returns the best image evaluated.

    A projected L-BFGS of our own rather than SciPy's L-BFGS-B: with its pyramid preconditioner
    it needs fewer evaluations for a given loss after the first few dozen (benchmarks/lbfgs.py),
    and its whole state (curvature pairs, line search) is ours to checkpoint, so a resumed run
    continues exactly. Loss and gradient stay one compiled TensorFlow function; only the image
    and its gradient cross to NumPy, once per step.
    """
    shape = image.shape
    evaluate = _loss_and_gradient(objective, options.jit_compile)
    search = _ProjectedLbfgs(image, options.lbfgs_history, options.preconditioner)
    best = {"total": np.inf, "image": image}
    if state is not None and "lbfgs/point" in state:
        search.restore(state)
        best.update(total=float(state["lbfgs/best_total"]), image=state["image"])

    def current_state() -> OptimizerState:
        return {"image": best["image"], "lbfgs/best_total": np.float64(best["total"]), **search.state()}

    while should_step():
        pixels = search.trial.reshape(shape)
        losses, gradient = evaluate(tf.constant(pixels[np.newaxis]))
        losses = {name: float(value) for name, value in losses.items()}
        if losses["total"] < best["total"]:
            best.update(total=losses["total"], image=pixels)
        search.observe(losses["total"], gradient.numpy().reshape(-1))
        on_step(losses, lambda pixels=pixels: pixels, current_state)
    return best["image"]


def _dot(first: np.ndarray, second: np.ndarray) -> float:
    """A dot product without BLAS: OpenBLAS's threads, started for vectors this long, fight
    TensorFlow's for the cores and made one product ~50x slower here than einsum's loop."""
    return float(np.einsum("i,i->", first, second))


def _block_pyramid(image: np.ndarray, levels: int) -> np.ndarray:
    """Sum over levels of the image's 2^l x 2^l block means, weighted ``_PYRAMID_WEIGHT``^l:
    piecewise constant, so it leaves a grid of flat squares in the picture (the old default)."""
    blocks = (_PYRAMID_WEIGHT**level * _block_means(image, 2**level) for level in range(1, levels + 1))
    return sum(blocks, np.zeros_like(image))


def _gaussian_pyramid(image: np.ndarray, levels: int) -> np.ndarray:
    r"""Sum over levels l of E^l R^l x, weighted ``_PYRAMID_WEIGHT``^l, where R blurs with the
    binomial kernel [1 4 6 4 1]/16 and keeps every second row and column (Burt and Adelson's
    REDUCE) and E = 4 R^T (their EXPAND). E^l R^l = 4^l (R^l)^T R^l is symmetric positive
    semi-definite, so the preconditioner stays symmetric positive definite; unlike block means
    it is smooth, so what it adds to a step has no edges on a lattice. Evaluated from the
    coarsest level up, one EXPAND per level:

        sum_l w^l E^l a_l = E (w a_1 + E (w^2 a_2 + E (...)))   with a_l = R^l x
    """
    reduced = [image]
    for _ in range(levels):
        reduced.append(_reduce(_reduce(reduced[-1], 0), 1))
    total = np.zeros_like(reduced[-1])
    for level in range(levels, 0, -1):
        total = _expand(total + np.float32(_PYRAMID_WEIGHT**level) * reduced[level], reduced[level - 1].shape)
    return total


_BINOMIAL = np.array([1, 4, 6, 4, 1], np.float32) / 16
_BINOMIAL_3 = np.array([1, 2, 1], np.float32) / 4


def _blur(image: np.ndarray, axis: int, kernel: np.ndarray = _BINOMIAL) -> np.ndarray:
    """A symmetric blur along ``axis``, zeros beyond the edges: a symmetric matrix, positive
    semi-definite for a binomial kernel (its Fourier transform is a power of a cosine)."""
    length, reach = image.shape[axis], len(kernel) // 2
    padding = [(0, 0)] * image.ndim
    padding[axis] = (reach, reach)
    padded = np.pad(image, padding)
    return sum(weight * np.take(padded, range(tap, tap + length), axis=axis) for tap, weight in enumerate(kernel))


def _reduce(image: np.ndarray, axis: int) -> np.ndarray:
    return np.take(_blur(image, axis), range(0, image.shape[axis], 2), axis=axis)


def _expand(image: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """4 R^T: the transpose of :func:`_reduce` along both axes, times 4 so that it keeps the
    mean (each R^T halves it along its axis)."""
    for axis in (0, 1):
        spread_shape = list(image.shape)
        spread_shape[axis] = shape[axis]
        spread = np.zeros(spread_shape, image.dtype)
        index = [slice(None)] * image.ndim
        index[axis] = slice(0, None, 2)
        spread[tuple(index)] = image
        image = 2 * _blur(spread, axis)
    return image


def _block_means(image: np.ndarray, block: int) -> np.ndarray:
    """The image with each ``block`` x ``block`` tile (smaller at the edges) set to its mean:
    an orthogonal projection, so the preconditioner stays symmetric and positive definite."""
    height, width = image.shape[:2]
    rows, columns = np.arange(0, height, block), np.arange(0, width, block)
    sums = np.add.reduceat(np.add.reduceat(image, rows, axis=0), columns, axis=1)
    row_counts, column_counts = np.diff([*rows, height]), np.diff([*columns, width])
    means = sums / (row_counts[:, None, None] * column_counts[None, :, None]).astype(image.dtype)
    return np.repeat(np.repeat(means, row_counts, axis=0), column_counts, axis=1)


def _smooth_identity(image: np.ndarray) -> np.ndarray:
    """(I + B) / 2 with B the binomial blur [1 2 1]/4 along both axes: passes smooth changes
    whole and halves a checkerboard. Without it, L-BFGS's pixel-wise part grows a period-2
    pattern (VGG19's pooling grid) and speckle: at 256 px, 100 evaluations, grid 1.047 -> 1.028
    and noise 0.85 -> 0.80 on cat / Starry Night, for a 0.2% higher objective."""
    blurred = image
    for axis in (0, 1):
        blurred = _blur(blurred, axis, _BINOMIAL_3)
    return 0.5 * (image + blurred)


# Each maps an image-shaped vector and the number of pyramid levels to H0 times it, the start
# of the two-loop recursion: symmetric positive definite, as L-BFGS needs.
PRECONDITIONERS = {
    "gaussian": lambda image, levels: _smooth_identity(image) + _gaussian_pyramid(image, levels),
    "blocks": lambda image, levels: image + _block_pyramid(image, levels),
    "none": lambda image, levels: image,
}
OPTIMIZERS = {"adam": run_adam, "lbfgs": run_lbfgs}
