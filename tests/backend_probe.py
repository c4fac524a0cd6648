"""Run under a chosen ``KERAS_BACKEND`` by tests/test_backends.py, in a process of its own (or,
on TensorFlow, in the tests' own).

``python -m tests.backend_probe losses OUT.npz``: the losses and gradient of a small image and a
short run's picture (:func:`losses`). ``python -m tests.backend_probe jax FOLDER``: on JAX, those
into FOLDER/jax.npz, then what one process can tell of JAX's compiled steps, printed as JSON:
L-BFGS steps with every copy of an array to the host recorded (:func:`lbfgs`; on the CPU, JAX's
transfer guard lets them all pass), first without and then with the progress callback asking for
each step's picture, a 6-frame clip's steps (:func:`clip`), and the ``nst`` command
(:func:`command`). One process, not five: each starts JAX and loads VGG19 anew. The L-BFGS steps
go first and keep their compiled step where a process's runs keep theirs, so that the short run
and the command, at the same size, take it instead of compiling their own."""

import contextlib
import io
import json
import sys
from pathlib import Path

import numpy as np
from keras import ops

from nst import Options, stylize
from nst.apps import cli
from nst.core import backend
from nst.core.lbfgs import run_lbfgs
from nst.core.objective import Objective
from nst.media.images import load_image
from tests.helpers import CONTENT, STYLE, frames_folder, rng

SIZE = 48
SHORT_RUN_STEPS = 10  # a run of this many steps keeps as many L-BFGS pairs (nst.run.memory.plan_size)


def losses(path: str) -> None:
    options = Options(size=SIZE)
    photo, painting = load_image(CONTENT, SIZE), load_image(STYLE, SIZE)
    image = np.clip(photo + rng(0).normal(0, 0.1, photo.shape), 0, 1).astype(np.float32)
    objective = Objective(photo, painting, options)
    evaluate = backend.compile(backend.value_and_grad(objective), jit_compile=False)  # JAX: one compile, not one per op
    values, gradient = evaluate(ops.convert_to_tensor(image[np.newaxis]))
    picture = stylize(CONTENT, STYLE, options, steps=SHORT_RUN_STEPS).pixels
    gradient = backend.to_numpy(gradient)[0]
    np.savez(path, gradient=gradient, picture=picture, backend=backend.name(), **backend.floats(values))


def lbfgs(steps: int = 6) -> dict:
    """What was compiled, called and copied to the host over L-BFGS steps: ``steps`` with the
    progress callback asking only for the losses, then as many asking for each step's picture too,
    as a deliberate host copy."""
    import jax
    from jax._src.array import ArrayImpl

    from nst.run.runner import KEPT_LBFGS_STEPS

    # A short run's settings at SIZE: the step kept here is the one the short run and the command take.
    options = Options(size=SIZE, jit_compile=False, lbfgs_history=SHORT_RUN_STEPS)
    photo = load_image(CONTENT, SIZE)
    objective = Objective(photo, load_image(STYLE, SIZE), options)
    compiled = []

    def compile_and_count(function, jit_compile=True):
        jitted = jax.jit(function)
        compiled.append({"calls": 0, "function": jitted})

        def call(*args):
            compiled[-1]["calls"] += 1
            return jitted(*args)

        return call

    copied = []  # the number of values in each array copied to the host, in the loop
    # np.asarray(array) goes through __array__, float(array) and jax.device_get through _value.
    compile, to_numpy, value = backend.compile, ArrayImpl.__array__, ArrayImpl._value

    def recorded(array, *args, **kwargs):
        copied.append(array.size)
        return to_numpy(array, *args, **kwargs)

    totals, largest_copies = [], []

    def should_step() -> bool:
        if not totals:
            copied.clear()  # what setting up copied (the targets, the weights) is not a step's
        return len(totals) < 2 * steps

    def on_step(losses, current, state):
        if len(totals) >= steps:
            current()
        totals.append(losses["total"])
        largest_copies.append(max(copied, default=0))
        copied.clear()

    backend.compile, ArrayImpl.__array__ = compile_and_count, recorded
    ArrayImpl._value = property(lambda array: copied.append(array.size) or value.fget(array))
    try:
        run_lbfgs(objective, photo, options, should_step, on_step, compiled_steps=KEPT_LBFGS_STEPS)
    finally:
        backend.compile, ArrayImpl.__array__, ArrayImpl._value = compile, to_numpy, value
    return {
        "compiled": len(compiled),
        "calls": [entry["calls"] for entry in compiled],
        "compilations": [entry["function"]._cache_size() for entry in compiled],
        "totals": totals,
        "largest_copy_per_step": largest_copies,
    }


def clip(folder: Path) -> dict:
    """A 6-frame clip stylized into ``folder``: how often its steps were traced, and how many
    compiled versions each holds."""
    import jax

    from nst.run.video import stylize_video

    traces, compiled = [], []

    def compile_and_count(function, jit_compile=True):
        def traced(*args):
            traces.append(len(traces) + 1)
            return function(*args)

        compiled.append(jax.jit(traced))
        return compiled[-1]

    kept, backend.compile = backend.compile, compile_and_count
    try:
        frames = frames_folder(folder / "frames")
        result = stylize_video(frames, STYLE, folder / "styled", size=32, first_steps=3, steps=8, jit_compile=False)
    finally:
        backend.compile = kept
    return {"frames": result.computed, "traces": traces, "compilations": [each._cache_size() for each in compiled]}


def command(folder: Path) -> dict:
    """``nst`` run in this process: what it printed, its report's parameters, and whether
    TensorFlow was ever loaded."""
    output, report = folder / "out.png", folder / "out.json"
    said = io.StringIO()
    with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
        code = cli.main([str(CONTENT), str(STYLE), "-o", str(output), "--size", str(SIZE),
                         "--steps", str(SHORT_RUN_STEPS), "--report", str(report)])  # fmt: skip
    params = json.loads(report.read_text())["params"] if report.is_file() else {}
    return {"returncode": code, "said": said.getvalue(), "written": output.is_file(), "params": params,
            "tensorflow": "tensorflow" in sys.modules}  # fmt: skip


def jax_checks(folder: Path) -> None:
    checks = {"lbfgs": lbfgs()}
    losses(folder / "jax.npz")
    checks |= {"clip": clip(folder), "command": command(folder)}
    print(json.dumps(checks))


if __name__ == "__main__":
    if sys.argv[1] == "losses":
        losses(sys.argv[2])
    else:
        jax_checks(Path(sys.argv[2]))
