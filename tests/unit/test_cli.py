"""The ``nst`` command's refusals, called in this process: its help, bad arguments and output paths,
a PNG without parameters to reproduce; one line on stderr, exit code 2, nothing written."""

from types import SimpleNamespace

import pytest

from tests.helpers import CONTENT, STYLE, nst_here


def test_help_lists_the_options():
    result = nst_here("--help")
    assert result.returncode == 0
    for option in ("--size", "--steps", "--style-weight", "--normalization", "--weights", "--report", "--quiet"):
        assert option in result.stdout


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
    result = nst_here(*arguments(tmp_path), "-o", output)
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
    result = nst_here(CONTENT, STYLE, "-o", tmp_path / output, "--report", tmp_path / "report.json")
    assert result.returncode == 2
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # no run, no report, no probe left behind


def test_reproduce_refuses_an_image_without_parameters(tmp_path):
    result = nst_here("reproduce", CONTENT, "-o", tmp_path / "again.png")
    assert result.returncode == 2
    assert (
        result.stderr
        == f"nst: error: {CONTENT}: carries no nst parameters (nst stores them in the PNGs and TIFFs it writes)\n"
    )
    assert not (tmp_path / "again.png").exists()


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["photo.jpg", "painting.jpg"], "stylize"),
        (["--size", "800", "photo.jpg", "painting.jpg"], "stylize"),  # flags first: still the photo
        (["score", "out.png", "--content", "photo.jpg", "--style", "painting.jpg"], "score"),
        (["reproduce", "out.png"], "reproduce"),
    ],
)
def test_argparse_chooses_the_command_and_a_photo_first_is_the_default_command(argv, command):
    from nst.apps import cli

    _, args = cli.parse(argv)
    assert args.command == command
    if command == "stylize":
        assert (args.content, args.style) == ("photo.jpg", ["painting.jpg"])


def test_on_workers_the_command_keeps_a_checkpoint_beside_the_output_and_the_same_command_goes_on(
    tmp_path, monkeypatch
):
    """The command's side of losing every Ray worker, on a stand-in run (the run's side, on two
    Ray nodes: tests/test_cluster.py): the first run stops with one line and its checkpoint beside
    the output; the same command goes on from it, says so, and deletes it once the picture is made."""
    import numpy as np

    from nst.apps.cli import picture
    from nst.errors import WorkersLost
    from nst.run.checkpoints import Checkpoint, save_checkpoint
    from nst.run.result import Result

    output = tmp_path / "print.png"
    kept = tmp_path / "print.png.checkpoint.npz"
    runs = []

    def stylize(content, style, options, **keywords):
        runs.append((options.checkpoint, options.resume, keywords["cluster"].count))
        if len(runs) == 1:
            save_checkpoint(options.checkpoint, Checkpoint({"image": np.zeros((2, 2, 3), np.float32)}, [1], [], "adam"))
            raise WorkersLost(f"every Ray worker was lost (2 of 2); the run so far is in {options.checkpoint}")
        params = {"output_size": [64, 43]}
        workers = {"workers": 2, "tiles": {"node-a": 30, "node-b": 32}, "resent": 3, "lost": 0}
        return Result(np.zeros((43, 64, 3), np.float32), {"params": params, "steps_per_scale": [4], "wall_s": 1.0,
                                                          "workers": workers})  # fmt: skip

    monkeypatch.setattr(picture, "load_run", lambda: SimpleNamespace(stylize=stylize))
    command = [CONTENT, STYLE, "-o", output, "--workers", 2, "--size", 64]
    stopped = nst_here(*command)
    assert stopped.returncode == 2 and stopped.stderr.count("\n") == 1
    assert stopped.stderr == (f"nst: error: every Ray worker was lost (2 of 2); the run so far is in {kept}; the same"
                              " command goes on from it\n")  # fmt: skip
    assert kept.exists() and not output.exists()
    again = nst_here(*command)
    assert again.returncode == 0, again.stderr
    assert runs == [(str(kept), None, 2), (str(kept), str(kept), 2)]
    assert again.stderr == f"nst: going on from {kept}\n" and output.exists() and not kept.exists()
    assert again.stdout.endswith("; tiles on 2 Ray workers: 30 and 32 tile passes, 3 tiles sent again\n")
