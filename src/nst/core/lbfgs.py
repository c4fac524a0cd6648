"""Box-constrained L-BFGS on the pixels, on the device and checkpointable: see :mod:`nst.core.optimizers`
for what every optimizer does, and :mod:`nst.core.preconditioners` for where its recursion starts."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import numpy as np
from keras import ops

from nst.core import backend
from nst.core.losses import Tensor
from nst.core.objective import Objective
from nst.core.optimizers import CompiledSteps, OptimizerState, StepCallback, fetch_later, kept, step_function
from nst.core.preconditioners import PRECONDITIONERS
from nst.options import Options

_ARMIJO = 1e-4  # the sufficient decrease every accepted step must make
_FIRST_STEP_RMS = 0.02  # root-mean-square pixel change of a step taken without curvature pairs
_CURVATURE_EPSILON = 1e-10  # pairs with less curvature than this would make the direction unstable


class _ProjectedLbfgs:
    """L-BFGS kept inside the box [0, 1], advanced one evaluation at a time: the method over one
    image shape, and its compiled step; each run's state is a :class:`_Search`.

    Each iteration takes the quasi-Newton direction over the free pixels (a pixel at a bound
    whose gradient pushes it outward is held), moves along it projected onto the box, and
    backtracks until the loss falls enough (Armijo). Pixels are never clipped after the fact,
    so the curvature pairs stay true to the steps taken.

    The whole state (point, trial, gradient, direction, step size, the curvature pairs, the best
    image so far) is a dictionary of tensors on the device, and one step (the loss and gradient
    at the trial point, then the choice of the next trial) is one compiled function of it, in
    ``keras.ops``: no image crosses to the host between steps. The pairs live in fixed-size
    ring buffers, so that the compiled shapes never change: a new pair is written over the
    oldest, into the slot ``head`` points at, and the last ``count`` slots before ``head`` are
    the valid ones. Where the update runs op by op (a tiled objective), the buffers are written
    in place (:func:`nst.core.backend.write`): pushing a pair by copying the buffers held both
    copies at once, 2 images a pair more. A checkpoint holds the pairs oldest first, and a
    resumed run takes the very same steps.

    The recursion starts from a pyramid preconditioner instead of the identity (``PRECONDITIONERS``):
    the gradient, lightly smoothed, plus its Gaussian-pyramid levels (blurred and halved 1, 2...
    times, then enlarged back), each level weighted 1.4 times the next finer, down to a
    sixteenth of the image's longer side. Moving whole regions at once is what the style loss
    wants early and what a pixel-wise step does slowly; it is the same as optimising a
    Laplacian-pyramid parametrisation of the image, without changing what is minimised. Block
    means (``"blocks"``, the earlier default) did the same with flat squares, and left them in
    the picture as a grid; docs/quality.md has the comparison."""

    def __init__(self, objective: Objective, shape: tuple[int, ...], options: Options) -> None:
        self.history = options.lbfgs_history
        levels = max(0, round(math.log2(max(shape[:2]) / 16)))
        precondition = PRECONDITIONERS[options.preconditioner]
        self.precondition = lambda vector: precondition(vector, levels, options.tileable)
        # step(targets, state): what every run of this shape and these settings steps with (no
        # run's state is held here, so that keeping the step between runs keeps no image).
        self.step = step_function(objective, lambda state: state["trial"][None], self._update, options.jit_compile)

    def _update(
        self, state: dict[str, Tensor], losses: dict[str, Tensor], gradient: Tensor
    ) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """Given the trial point's losses and gradient, chooses the next one: one iteration of the
        search, or one backtrack of its line search."""
        loss, gradient = losses["total"], gradient[0]
        better = loss < state["best_total"]
        state = {
            **state,
            "best_total": ops.where(better, loss, state["best_total"]),
            "best_image": ops.where(better, state["trial"], state["best_image"]),
        }
        return losses, self._observe(state, loss, gradient)

    def _observe(self, state: dict[str, Tensor], loss: Tensor, gradient: Tensor) -> dict[str, Tensor]:
        step = state["trial"] - state["point"]
        slope = _dot(state["gradient"], step)
        finite = ops.isfinite(loss)
        accepted = finite & (loss <= state["loss"] + _ARMIJO * slope)

        # An accepted point whose step shows positive curvature gives a new pair.
        change = gradient - state["gradient"]
        curvature = _dot(step, change)
        keep = accepted & (curvature > _CURVATURE_EPSILON * _dot(change, change))
        # Always written (a pair not kept writes the slot's own contents back): no branch to hold
        # the buffers' old and new values at once, and op by op the write is in place.
        head = state["head"]
        steps = backend.write(state["steps"], head, ops.where(keep, step, _at(state["steps"], head)))
        changes = backend.write(state["changes"], head, ops.where(keep, change, _at(state["changes"], head)))
        curvatures = ops.where(keep & (ops.arange(self.history) == head), curvature, state["curvatures"])
        head = ops.where(keep, (head + 1) % self.history, head)
        count = ops.where(keep, ops.minimum(state["count"] + 1, self.history), state["count"])

        # A rejected point: the minimum of the quadratic through the loss, its slope and the new
        # loss, kept between a tenth and a half of the step (the classic safeguarded backtracking).
        rise = loss - state["loss"] - slope
        shrink = ops.where(finite & (rise > 0), -slope / (2 * ops.where(rise > 0, rise, 1.0)), 0.5)
        backtracked = state["step_size"] * ops.clip(shrink, 0.1, 0.5)
        # No step along this direction helps: forget the curvature and go down the (preconditioned) gradient.
        stuck = ~accepted & (backtracked * ops.max(ops.abs(state["direction"])) < 1e-12)
        count = ops.where(stuck, 0, count)

        point = ops.where(accepted, state["trial"], state["point"])
        gradient = ops.where(accepted, gradient, state["gradient"])
        fresh = accepted | stuck
        direction, count = ops.cond(
            fresh,
            lambda: self._direction(point, gradient, steps, changes, curvatures, head, count),
            lambda: (state["direction"], count),
        )
        step_size = ops.where(fresh, ops.where(count > 0, 1.0, _first_step(direction)), backtracked)
        return {
            **state,
            "trial": ops.clip(point + step_size * direction, 0.0, 1.0),
            "point": point,
            "loss": ops.where(accepted, loss, state["loss"]),
            "gradient": gradient,
            "direction": direction,
            "step_size": step_size,
            "steps": steps,
            "changes": changes,
            "curvatures": curvatures,
            "head": head,
            "count": count,
        }

    def _direction(
        self,
        point: Tensor,
        gradient: Tensor,
        steps: Tensor,
        changes: Tensor,
        curvatures: Tensor,
        head: Tensor,
        count: Tensor,
    ) -> tuple[Tensor, Tensor]:
        """The two-loop recursion over the pixels free to move (Nocedal and Wright, alg. 7.4),
        over the last ``count`` pairs (the slots before ``head``, the newest last); and the number
        of pairs kept (0 if they had to go)."""
        free = ~(((point <= 0.0) & (gradient > 0.0)) | ((point >= 1.0) & (gradient < 0.0)))
        slots = ops.arange(self.history)

        def newest_first(position: Tensor, carry: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
            direction, weights = carry
            index = (head - 1 - position) % self.history
            weight = _dot(_at(steps, index), direction) / _at(curvatures, index)
            return direction - weight * _at(changes, index), ops.where(slots == index, weight, weights)

        def oldest_first(position: Tensor, direction: Tensor) -> Tensor:
            index = (head - count + position) % self.history
            correction = _at(weights, index) - _dot(_at(changes, index), direction) / _at(curvatures, index)
            return direction + correction * _at(steps, index)

        # Loops over the valid pairs only (not unrolled: one body each, quick to compile).
        initial = (ops.where(free, gradient, 0.0), ops.zeros((self.history,), "float32"))
        direction, weights = ops.fori_loop(0, count, newest_first, initial)
        direction = self.precondition(direction)
        # The newest pair sets the scale (the usual gamma, measured through the preconditioner).
        newest_slot = (head - 1) % self.history
        newest = _at(changes, newest_slot)
        scale = ops.where(count > 0, _at(curvatures, newest_slot) / _dot(newest, self.precondition(newest)), 1.0)
        direction = ops.fori_loop(0, count, oldest_first, direction * scale)
        direction = -ops.where(free, direction, 0.0)
        # Not downhill (rare, numerical): start afresh from the plain gradient.
        downhill = _dot(direction, gradient) < 0.0
        return ops.where(downhill, direction, -ops.where(free, gradient, 0.0)), ops.where(downhill, count, 0)


class _Search:
    """One run's state of the projected L-BFGS (:class:`_ProjectedLbfgs`, whose step advances it),
    on the device; checkpointed and restored as arrays. ``in_place``: the update runs op by op
    (a tiled objective), and the pairs' buffers are written in place."""

    def __init__(self, history: int, image: np.ndarray, in_place: bool = False) -> None:
        self.history, self.in_place = history, in_place
        pixels = ops.convert_to_tensor(np.asarray(image, np.float32))
        self.state: dict[str, Tensor] = {
            "trial": pixels,  # the point evaluated next
            "point": pixels,  # the last accepted point, its loss and gradient (none yet: loss infinite)
            "loss": ops.convert_to_tensor(np.float32(np.inf)),
            "gradient": ops.zeros_like(pixels),
            "direction": ops.zeros_like(pixels),
            "step_size": ops.convert_to_tensor(np.float32(0.0)),
            "steps": self._buffer(image.shape),  # curvature pairs s = x' - x, y = g' - g, in a ring
            "changes": self._buffer(image.shape),
            "curvatures": ops.zeros((self.history,), "float32"),  # s.y of each pair
            "head": ops.convert_to_tensor(np.int32(0)),  # the slot the next pair is written into
            "count": ops.convert_to_tensor(np.int32(0)),  # valid pairs: the `count` slots before `head`
            "best_total": ops.convert_to_tensor(np.float32(np.inf)),
            "best_image": pixels,
        }

    def _buffer(self, shape: tuple[int, ...], pairs: Sequence[np.ndarray] = ()) -> Tensor:
        """A ring of ``history`` images, ``pairs`` in its first slots and zeros after them, filled
        slot by slot (never a stacked copy of them all beside it); written in place where the
        update runs op by op."""
        zeros = backend.mutable_zeros if self.in_place else functools.partial(ops.zeros, dtype="float32")
        buffer = zeros((self.history, *shape))
        for slot, pair in enumerate(pairs):
            buffer = backend.write(buffer, slot, ops.convert_to_tensor(pair))
        return buffer

    def best_image(self) -> np.ndarray:
        return backend.to_numpy(self.state["best_image"])

    def checkpoint(self) -> OptimizerState:
        """The state as arrays: the pairs one entry each (not stacked, which would copy them all
        at once), oldest first."""
        state = {name: backend.to_numpy(value) for name, value in self.state.items() if name not in _PAIRS}
        count, head = int(state.pop("count")), int(state.pop("head"))
        slots = [(head - count + number) % self.history for number in range(count)]  # oldest first
        return {
            "image": state.pop("best_image"),
            "lbfgs/best_total": np.float64(state.pop("best_total")),
            **{f"lbfgs/{name}": value for name, value in state.items()},
            **{
                f"lbfgs/{kind}/{number:03d}": backend.to_numpy(_at(self.state[f"{kind}s"], slot))
                for kind in ("step", "change")
                for number, slot in enumerate(slots)
            },
            "lbfgs/curvatures": backend.to_numpy(self.state["curvatures"])[slots],
        }

    def restore(self, saved: OptimizerState) -> None:
        shape = tuple(self.state["point"].shape)
        steps = [saved[name].reshape(shape) for name in sorted(saved) if name.startswith("lbfgs/step/")]
        changes = [saved[name].reshape(shape) for name in sorted(saved) if name.startswith("lbfgs/change/")]
        steps, changes = steps[-self.history :], changes[-self.history :]
        curvatures = saved.get("lbfgs/curvatures")
        if curvatures is None:  # a checkpoint from before the pairs' curvatures were kept
            curvatures = np.array([np.dot(s.ravel(), y.ravel()) for s, y in zip(steps, changes, strict=True)])
        count = len(steps)  # into slots 0 to count - 1, oldest first: the next goes into slot count
        kept_curvatures = np.zeros(self.history, np.float32)
        kept_curvatures[:count] = np.asarray(curvatures, np.float32)[len(curvatures) - count :]

        self.state = {
            **self.state,
            **{
                name: ops.convert_to_tensor(np.asarray(saved[f"lbfgs/{name}"], np.float32).reshape(shape))
                for name in ("trial", "point", "gradient", "direction")
            },
            "loss": ops.convert_to_tensor(np.float32(saved["lbfgs/loss"])),
            "step_size": ops.convert_to_tensor(np.float32(saved["lbfgs/step_size"])),
            "steps": self._buffer(shape, steps),
            "changes": self._buffer(shape, changes),
            "curvatures": ops.convert_to_tensor(kept_curvatures),
            "head": ops.convert_to_tensor(np.int32(count % self.history)),
            "count": ops.convert_to_tensor(np.int32(count)),
            "best_total": ops.convert_to_tensor(np.float32(saved["lbfgs/best_total"])),
            "best_image": ops.convert_to_tensor(np.asarray(saved["image"], np.float32)),
        }


_PAIRS = ("steps", "changes", "curvatures")


def run_lbfgs(
    objective: Objective,
    image: np.ndarray,
    options: Options,
    should_step: Callable[[], bool],
    on_step: StepCallback,
    state: OptimizerState | None = None,
    compiled_steps: CompiledSteps | None = None,
) -> np.ndarray:
    """L-BFGS with every pixel bounded to [0, 1]; returns the best image evaluated. Its compiled
    step is kept in ``compiled_steps``, if given, for later runs of the same shape and settings.

    A projected L-BFGS of our own rather than SciPy's L-BFGS-B: with its pyramid preconditioner
    it needs fewer evaluations for a given loss after the first few dozen (benchmarks/lbfgs.py),
    its whole state (curvature pairs, line search) is ours to checkpoint, so a resumed run
    continues exactly, and it runs on the device: one compiled function a step, and only the
    losses cross to the host.
    """
    settings = (
        "lbfgs",
        image.shape,
        options.lbfgs_history,
        options.preconditioner,
        options.tileable,
        options.jit_compile,
    )
    method = kept(compiled_steps, objective, settings, lambda: _ProjectedLbfgs(objective, image.shape, options))
    search = _Search(options.lbfgs_history, image, in_place=getattr(objective, "tiled", False))
    if state is not None and "lbfgs/point" in state:
        search.restore(state)
    while should_step():
        evaluated = search.state["trial"]
        # Always where VGG19 first saw the picture: its line search and pairs compare losses of one
        # place (moving by turns was tried, and rejected: docs/quality.md#vgg19s-pooling-grid).
        losses, search.state = method.step(objective.targets, 0, search.state)
        on_step(backend.floats(losses), fetch_later(evaluated[None]), search.checkpoint)
    return search.best_image()


def _dot(first: Tensor, second: Tensor) -> Tensor:
    return ops.sum(first * second)


def _at(buffer: Tensor, index: Tensor) -> Tensor:
    """``buffer[index]`` for an index known only when the step runs: a gather, which XLA compiles
    once for every index (slicing would have it compile again for each value)."""
    return ops.take(buffer, index, axis=0)


def _first_step(direction: Tensor) -> Tensor:
    # Without curvature pairs the step has no scale of its own. SciPy's length 1 moves a
    # pixel by ~0.003 at 256 px; this moves them as much as Adam's first step (its learning
    # rate): 9.2e7 after 10 evaluations at 256 px against 3.1e8 (benchmarks/lbfgs.py).
    root_mean_square = ops.sqrt(_dot(direction, direction) / float(np.prod(direction.shape)))
    return _FIRST_STEP_RMS / ops.maximum(root_mean_square, 1e-30)
