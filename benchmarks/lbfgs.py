"""nst's projected L-BFGS against SciPy's L-BFGS-B: the objective after the same evaluations.

    NST_WEIGHTS=... python benchmarks/lbfgs.py [--size 256] [--steps 200]

nst replaced SciPy's L-BFGS-B (the reference implementation of box-constrained L-BFGS) with a
projected L-BFGS of its own so that a checkpoint can hold the whole optimizer state. This
shows what that costs: both run in this process on the same objective (the default loss at
``--size``, the same correction pairs), and the table gives the best objective each has after
N evaluations (one VGG19 forward and backward pass each) and seconds per evaluation.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

import numpy as np
import scipy.optimize
from keras import ops

from nst import stylize
from nst.core import backend
from nst.core.lbfgs import run_lbfgs
from nst.options import Options
from nst.run import runner

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "examples" / "cat.jpg"
STYLE = ROOT / "examples" / "starry-night.jpg"


class _Exhausted(Exception):
    pass


def scipy_lbfgs(
    objective, image, options: Options, should_step, on_step, state=None, compiled_steps=None
) -> np.ndarray:
    """What nst ran before: SciPy's L-BFGS-B, bounded to [0, 1], stopped by the step budget."""
    evaluate = backend.compile(backend.value_and_grad(objective), options.jit_compile)
    best = {"total": np.inf, "image": image}

    def loss_and_gradient(flat: np.ndarray) -> tuple[float, np.ndarray]:
        if not should_step():
            raise _Exhausted
        pixels = flat.reshape(image.shape).astype(np.float32)
        losses, gradient = evaluate(ops.convert_to_tensor(pixels[np.newaxis]))
        losses = backend.floats(losses)
        if losses["total"] < best["total"]:
            best.update(total=losses["total"], image=pixels)
        on_step(losses, lambda: pixels, lambda: {"image": best["image"]})
        return losses["total"], backend.to_numpy(gradient).reshape(-1).astype(np.float64)

    with contextlib.suppress(_Exhausted):
        scipy.optimize.minimize(
            loss_and_gradient,
            image.reshape(-1).astype(np.float64),
            jac=True,
            method="L-BFGS-B",
            bounds=scipy.optimize.Bounds(0.0, 1.0),
            options={"maxcor": options.lbfgs_history, "maxiter": 10**9, "maxfun": 10**9, "ftol": 0.0, "gtol": 0.0},
        )
    return best["image"]


def curve(method, size: int, steps: int) -> tuple[np.ndarray, float]:
    """Best objective after each evaluation, and seconds per evaluation after the first."""
    runner.OPTIMIZERS["lbfgs"] = method
    result = stylize(CONTENT, STYLE, size=size, steps=steps, history_every=1)
    history = result.report["history"]
    seconds = (history[-2]["elapsed_s"] - history[1]["elapsed_s"]) / (len(history) - 3)
    return np.minimum.accumulate([entry["total"] for entry in history[:-1]]), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    ours, ours_seconds = curve(run_lbfgs, args.size, args.steps)
    theirs, theirs_seconds = curve(scipy_lbfgs, args.size, args.steps)
    print(f"{args.size} px, {Options().lbfgs_history} correction pairs, best objective after N evaluations")
    print(f"{'N':>5} {'nst':>10} {'SciPy':>10} {'nst/SciPy':>9}")
    for count in (10, 25, 50, 100, 150, 200, 300, 500):
        if count <= args.steps:
            nst, reference = ours[count - 1], theirs[count - 1]
            print(f"{count:>5} {nst:>10.4g} {reference:>10.4g} {nst / reference:>9.3f}")
    print(f"seconds per evaluation: nst {ours_seconds:.3f}, SciPy {theirs_seconds:.3f}")


if __name__ == "__main__":
    main()
