"""The ``nst`` command as a person runs it: its exit code and what it prints. A few run it as a real
process (what the terminal shows, TensorFlow's start); the others call it in this process."""

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time

import pytest
from PIL import Image

from nst.apps import cli
from tests.helpers import CONTENT, STYLE, check_reproduced, nst_here, run_nst, started


@pytest.mark.e2e
def test_at_a_terminal_the_progress_bar_names_the_device(tmp_path, weights):
    controller, terminal = pty.openpty()  # stderr a terminal of 24 x 120, as a person's is: the bar is shown
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    command = [sys.executable, "-m", "nst", CONTENT, STYLE, "-o", tmp_path / "out.png", "--size", 32, "--steps", 3]
    shown = b""
    try:
        with started([*command, "--weights", weights], stdout=subprocess.DEVNULL, stderr=terminal) as process:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                if select.select([controller], [], [], 0.2)[0]:
                    shown += os.read(controller, 4096)
                elif process.poll() is not None:  # ended, and all it wrote has been read
                    break
            assert process.wait(timeout=10) == 0
    finally:
        os.close(controller)
        os.close(terminal)
    text = shown.decode(errors="replace")
    # The device the backend reports, whatever it is: "CPU" here, "GPU (NVIDIA H200)" on such a machine.
    assert f"{cli.device()}: 100%" in text and "3/3" in text and "loss" in text


@pytest.mark.e2e
def test_tiny_run_writes_the_image_and_report_and_nothing_noisy(tmp_path, weights):
    output, report = tmp_path / "out.jpg", tmp_path / "out.json"
    env = {**os.environ, "NST_WEIGHTS": weights}
    animation = tmp_path / "run.gif"
    result = run_nst(
        *(CONTENT, STYLE, "-o", output, "--size", 48, "--steps", 3, "--report", report),
        *("--save-every", 3, "--animation", animation),
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no TensorFlow start-up notices, no warnings
    assert result.stdout.startswith(f"wrote {output} (48x32, 3 steps")
    with Image.open(output) as image:
        assert (image.format, image.size) == ("JPEG", (48, 32))
    data = json.loads(report.read_text())
    assert [entry["step"] for entry in data["history"]] == [0, 3]
    assert data["params"]["weights"] == weights
    assert (tmp_path / "out-0003.jpg").is_file() and animation.is_file()


@pytest.mark.e2e
def test_weights_option_overrides_the_environment(tmp_path, weights, monkeypatch):
    monkeypatch.setenv("NST_WEIGHTS", str(tmp_path / "missing.h5"))
    result = nst_here(CONTENT, STYLE, "-o", tmp_path / "out.png", "--size", 32, "--steps", 1, "--weights", weights)
    assert result.returncode == 0, result.stderr


@pytest.mark.e2e
def test_missing_weights_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("NST_WEIGHTS", str(tmp_path / "missing.h5"))
    result = nst_here(CONTENT, STYLE, "-o", tmp_path / "out.png", "--size", 32, "--steps", 1)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "does not exist" in result.stderr and "NST_WEIGHTS" in result.stderr
    assert not (tmp_path / "out.png").exists()


@pytest.mark.e2e
def test_reproduce_makes_the_same_picture_from_the_png_alone(tmp_path, weights, monkeypatch):
    first, again = tmp_path / "first.png", tmp_path / "again.png"
    monkeypatch.setenv("NST_WEIGHTS", weights)
    made = nst_here(CONTENT, STYLE, "-o", first, "--size", 40, "--steps", 4, "--style-scale", 1.5, "--init", "noise",
                    "--seed", 5)  # fmt: skip
    assert made.returncode == 0, made.stderr
    check_reproduced(first, again, "40x27, 4 steps")
