"""The ``nst`` command as a person runs it: a real process, its exit code and what it prints."""

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
from tests.helpers import CONTENT, STYLE, check_reproduced, started
from tests.helpers import run_nst as nst

pytestmark = pytest.mark.e2e


def test_help_lists_the_options():
    result = nst("--help")
    assert result.returncode == 0
    for option in ("--size", "--steps", "--style-weight", "--normalization", "--weights", "--report", "--quiet"):
        assert option in result.stdout


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


def test_tiny_run_writes_the_image_and_report_and_nothing_noisy(tmp_path, weights):
    output, report = tmp_path / "out.jpg", tmp_path / "out.json"
    env = {**os.environ, "NST_WEIGHTS": weights}
    animation = tmp_path / "run.gif"
    result = nst(
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


def test_weights_option_overrides_the_environment(tmp_path, weights):
    env = {**os.environ, "NST_WEIGHTS": str(tmp_path / "missing.h5")}
    result = nst(CONTENT, STYLE, "-o", tmp_path / "out.png", "--size", 32, "--steps", 1, "--weights", weights, env=env)
    assert result.returncode == 0, result.stderr


def test_missing_weights_say_what_to_do(tmp_path):
    env = {**os.environ, "NST_WEIGHTS": str(tmp_path / "missing.h5")}
    result = nst(CONTENT, STYLE, "-o", tmp_path / "out.png", "--size", 32, "--steps", 1, env=env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "does not exist" in result.stderr and "NST_WEIGHTS" in result.stderr
    assert not (tmp_path / "out.png").exists()


def text_file_named_jpg(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("this is not an image\n")
    return path


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (lambda tmp: [tmp / "nope.jpg", STYLE], "nope.jpg: no such file"),
        (lambda tmp: [CONTENT, text_file_named_jpg(tmp)], "notes.jpg: not an image"),
        (lambda tmp: [CONTENT, tmp], "is a folder"),
        (lambda tmp: [CONTENT, STYLE, "--steps", "-5"], "steps must be 0 or more, got -5"),
        (
            lambda tmp: [CONTENT, STYLE, "--style-layers", "block1_conv1,block9_conv9"],
            "unknown VGG19 layer 'block9_conv9'",
        ),
        (lambda tmp: [CONTENT, STYLE, "--steps", "many"], "argument --steps: invalid int value: 'many'"),
        (lambda tmp: [CONTENT, STYLE, "--normalization", "max"], "argument --normalization: invalid choice"),
        (lambda tmp: [CONTENT, STYLE, "--size", "4"], "size must be at least 16"),
        (lambda tmp: [CONTENT], "the following arguments are required: style"),
        (lambda tmp: [CONTENT, STYLE, STYLE, "--style-blend", "1,2,3"], "style_blend has 3 weights for 2 style images"),
        (lambda tmp: [CONTENT, STYLE, "--preserve-colors", "hue"], "argument --preserve-colors: invalid choice"),
        (lambda tmp: [CONTENT, STYLE, "--init", tmp / "start.png"], "start.png: no such file"),
        (lambda tmp: [CONTENT, STYLE, "--animation", tmp / "run.avi"], "run.avi: the animation is written as GIF"),
    ],
    ids=[
        "missing",
        "not-an-image",
        "folder",
        "negative-steps",
        "unknown-layer",
        "not-a-number",
        "bad-choice",
        "tiny",
        "one-file",
        "blend-count",
        "colors-choice",
        "init-missing",
        "animation-format",
    ],
)
def test_bad_arguments_give_one_clear_line_and_no_output(tmp_path, arguments, message):
    output = tmp_path / "out.png"
    result = nst(*arguments(tmp_path), "-o", output)
    assert result.returncode == 2
    assert result.stderr.startswith("nst: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not output.exists()


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("out.bmp", "unknown output format '.bmp'"),
        ("no/such/folder/out.png", "does not exist"),
        ("/proc/out.png", "/proc/out.png: cannot write the picture there"),  # a folder that takes no files
    ],
)
def test_bad_output_paths_are_refused_before_the_run(tmp_path, output, message):
    result = nst(CONTENT, STYLE, "-o", tmp_path / output, "--report", tmp_path / "report.json")
    assert result.returncode == 2
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # no run, no report, no probe left behind


def test_reproduce_makes_the_same_picture_from_the_png_alone(tmp_path, weights):
    first, again = tmp_path / "first.png", tmp_path / "again.png"
    env = {**os.environ, "NST_WEIGHTS": weights}
    made = nst(
        CONTENT,
        STYLE,
        "-o",
        first,
        "--size",
        40,
        "--steps",
        4,
        "--style-scale",
        1.5,
        "--init",
        "noise",
        "--seed",
        5,
        env=env,
    )
    assert made.returncode == 0, made.stderr
    check_reproduced(first, again, "40x27, 4 steps", env=env)


def test_reproduce_refuses_an_image_without_parameters(tmp_path):
    result = nst("reproduce", CONTENT, "-o", tmp_path / "again.png")
    assert result.returncode == 2
    assert (
        result.stderr
        == f"nst: error: {CONTENT}: carries no nst parameters (nst stores them in the PNGs and TIFFs it writes)\n"
    )
    assert not (tmp_path / "again.png").exists()
