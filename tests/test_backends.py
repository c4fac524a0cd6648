"""The same results on every Keras backend (TensorFlow, JAX, PyTorch), and the run on JAX:
one compiled function a step, no image copied to the host between steps. JAX and PyTorch each run
in a process of their own, started with the KERAS_BACKEND it tests (tests/backend_probe.py);
TensorFlow's reference, in the tests' own."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests import backend_probe
from tests.helpers import ROOT, relative_difference, relative_error, within

pytestmark = pytest.mark.slow

OTHER_BACKENDS = ("jax", "torch")


def run_python(arguments: list, backend: str, weights: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KERAS_BACKEND": backend, "NST_WEIGHTS": weights}
    result = subprocess.run(
        [sys.executable, *map(str, arguments)], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def checks(tmp_path_factory, weights) -> tuple[dict[str, dict[str, np.ndarray]], dict]:
    """Each backend's probe of the losses (tests/backend_probe.py), and JAX's own checks."""
    folder = tmp_path_factory.mktemp("backends")
    backend_probe.losses(folder / "tensorflow.npz")
    run_python(["-m", "tests.backend_probe", "losses", folder / "torch.npz"], "torch", weights)
    jax_checks = run_python(["-m", "tests.backend_probe", "jax", folder], "jax", weights)
    results = {}
    for backend in ("tensorflow", *OTHER_BACKENDS):
        with np.load(folder / f"{backend}.npz") as saved:
            results[backend] = dict(saved)
    return results, json.loads(jax_checks.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def probes(checks) -> dict[str, dict[str, np.ndarray]]:
    return checks[0]


def test_each_probe_ran_on_its_own_backend(probes):
    assert {name: str(result["backend"]) for name, result in probes.items()} == {name: name for name in probes}


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_losses_and_gradients_agree_with_tensorflow(probes, backend):
    reference, other = probes["tensorflow"], probes[backend]
    for name in ("total", "content", "style", "tv"):
        difference = relative_difference(other[name], reference[name])
        within(f"{backend}: {name} loss against TensorFlow's, relative", difference, at_most=1e-4)
    difference = relative_error(other["gradient"], reference["gradient"])
    within(f"{backend}: gradient against TensorFlow's, relative L2", difference, at_most=1e-4)


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_a_short_run_paints_the_same_picture_on_every_backend(probes, backend):
    """10 L-BFGS steps at 48 px: every pixel within 1/255 of TensorFlow's (docs/backends.md)."""
    difference = np.abs(probes[backend]["picture"] - probes["tensorflow"]["picture"])
    within(f"{backend}: 10 L-BFGS steps' picture against TensorFlow's, largest pixel difference", difference.max(),
           at_most=1 / 255)  # fmt: skip
    # The mean moves with TensorFlow's kernels: 2.4e-7 on oneDNN, 5.4e-6 on Eigen, 1.09e-4 with oneDNN
    # held to AVX2 (docs/tests.md); 5e-4 keeps it an eighth of the largest pixel's bound.
    within(f"{backend}: the same, mean pixel difference", difference.mean(), at_most=5e-4)


def test_under_jax_an_lbfgs_step_is_one_compiled_function_with_no_copy_to_the_host(checks):
    report = checks[1]["lbfgs"]
    assert report["compiled"] == 1  # loss, gradient and the search's update: one function
    assert report["calls"] == [12] and report["compilations"] == [1]  # called every step, compiled once
    assert report["totals"][-1] < report["totals"][0]
    # After the first step (which compiles): only the four losses cross while the callback asks for
    # nothing more; once it asks for the picture (48 x 32 x 3 values), that copy is seen too.
    assert report["largest_copy_per_step"][1:] == [4] * 5 + [48 * 32 * 3] * 6


def test_under_jax_a_clip_compiles_its_step_once(checks):
    """Video frames share their step (its targets are inputs): jitted and traced once for 6 frames."""
    report = checks[1]["clip"]
    assert report["frames"] == list(range(6))
    assert report["traces"] == [1] and report["compilations"] == [1]


def test_the_command_runs_on_jax_and_says_so_in_its_report(checks):
    """``nst`` in the JAX probe's process, started with KERAS_BACKEND=jax: TensorFlow never loads."""
    ran = checks[1]["command"]
    assert ran["returncode"] == 0 and ran["written"] and ran["said"].startswith("wrote "), ran["said"]
    params = ran["params"]
    assert (params["backend"], params["device"]) == ("jax", "CPU")
    assert "jax" in params["versions"] and "tensorflow" not in params["versions"]
    assert not ran["tensorflow"] and "tensorflow" not in ran["said"].lower()
