"""Runs that stop early keep their picture: a loss that is no longer a number, Ctrl-C, SIGTERM."""

import contextlib
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from keras import ops
from PIL import Image

from nst import StoppedEarly, stylize
from nst.apps import cli
from nst.core.objective import Objective
from nst.media.images import load_image
from nst.run import runner
from tests.helpers import CONTENT, STYLE, started

pytestmark = pytest.mark.e2e


@pytest.mark.core
def test_a_loss_that_turns_nan_stops_the_run_with_the_last_finite_picture(weights, monkeypatch):
    class FailingObjective(Objective):
        """Finite for the photo itself, NaN once the image has moved away from it."""

        def __call__(self, image, targets=None):
            losses = super().__call__(image, targets)
            moved = ops.max(ops.abs(image - self.photo)) > 0
            return {**losses, "total": ops.where(moved, np.float32(np.nan), losses["total"])}

        def __init__(self, content, styles, options, masks=None, **planned):
            super().__init__(content, styles, options, masks, **planned)
            self.photo = ops.convert_to_tensor(content[np.newaxis])

    monkeypatch.setattr(runner, "Objective", FailingObjective)
    with pytest.raises(StoppedEarly, match="the loss became nan at step 2") as stopped:
        stylize(CONTENT, STYLE, size=48, steps=10, optimizer="adam", jit_compile=False, weights=weights)
    kept = stopped.value.result
    np.testing.assert_array_equal(kept.pixels, load_image(CONTENT, 48))  # step 1's image: the photo
    assert kept.report["final"] is None and kept.report["steps_per_scale"] == [2]


@contextlib.contextmanager
def long_run(tmp_path, weights):
    """A run far too long to finish, writing a snapshot after every step so we know it is going."""
    output = tmp_path / "out.png"
    command = [sys.executable, "-m", "nst", CONTENT, STYLE, "-o", output, "--size", 48, "--steps", 100_000]
    command += ["--save-every", 1, "--no-jit-compile", "--weights", weights]
    with started(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        deadline = time.monotonic() + 120
        while not (tmp_path / "out-0003.png").exists():
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.2)
        yield process, output


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_saves_the_picture_so_far(tmp_path, weights, number):
    with long_run(tmp_path, weights) as (process, output):
        process.send_signal(number)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr == f"nst: interrupted; the picture so far is in {output}\n"
    with Image.open(output) as image:
        assert image.size == (48, 32)


def test_a_second_ctrl_c_ends_at_once_and_leaves_no_half_file(tmp_path, weights):
    with long_run(tmp_path, weights) as (process, output):
        process.send_signal(signal.SIGINT)
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
    assert process.returncode in (130, -signal.SIGINT)
    leftovers = [name for name in os.listdir(tmp_path) if name.endswith(".part")]
    assert leftovers == []
    if output.exists():  # the first Ctrl-C got to save: then the file is whole
        with Image.open(output) as image:
            image.load()


def test_a_signal_swallowed_by_a_finalizer_still_stops_the_run_at_the_next_step(capsys):
    class SignalledWhileFinalized:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGTERM)  # its KeyboardInterrupt is raised inside __del__

    before = signal.getsignal(signal.SIGTERM)
    with cli.StopRequests() as stop_requests:
        stop_requests.check()  # nothing asked yet
        SignalledWhileFinalized()  # Python ignores what a finalizer raises, and we go on
        with pytest.raises(KeyboardInterrupt):
            stop_requests.check()
    assert "KeyboardInterrupt" not in capsys.readouterr().err  # the swallowed one is not printed
    assert signal.getsignal(signal.SIGTERM) == before  # the handlers are given back
