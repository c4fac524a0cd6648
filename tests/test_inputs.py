"""Pictures people have, through a real run: transparency kept, a save that fails kept safe; the
library refusing a size before anything is resized; TensorFlow's allocator (the files read and
refused: tests/unit/test_inputs.py)."""

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from nst import NstError, Options, score, stylize
from tests.helpers import CONTENT, STYLE


@pytest.mark.e2e
def test_transparency_comes_back_in_png_and_is_white_in_jpeg(weights, tmp_path):
    photo = Image.open(CONTENT).convert("RGBA").resize((64, 43))
    alpha = Image.new("L", photo.size, 255)
    alpha.paste(0, (0, 0, 20, 43))
    photo.putalpha(alpha)
    path = tmp_path / "cutout.png"
    photo.save(path)
    result = stylize(path, STYLE, size=64, steps=3, jit_compile=False, weights=weights)
    with Image.open(result.save(tmp_path / "out.png")) as png:
        assert png.mode == "RGBA"
        np.testing.assert_array_equal(np.asarray(png.getchannel("A")), np.asarray(alpha))
    with Image.open(result.save(tmp_path / "out.jpg")) as jpeg:
        assert jpeg.mode == "RGB"
        assert min(jpeg.getpixel((5, 20))) > 245  # transparent in the photo: white


@pytest.mark.e2e
def test_a_failed_save_goes_to_the_temporary_folder(weights, tmp_path):
    result = stylize(CONTENT, STYLE, size=32, steps=1, jit_compile=False, weights=weights)
    gone = tmp_path / "gone"  # the folder disappeared during the run
    with pytest.raises(NstError, match="the picture is safe in ") as caught:
        result.save(gone / "out.png", fallback=True)
    spare = str(caught.value).split("the picture is safe in ")[1]
    assert Image.open(spare).size == (32, 21)


@pytest.mark.e2e
def test_the_library_refuses_a_size_before_anything_is_resized(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("an image was resized before the size was checked")

    monkeypatch.setattr(Image.Image, "resize", refuse)
    with pytest.raises(NstError, match="100000 px needs about"):
        stylize(CONTENT, STYLE, size=100_000)
    with pytest.raises(NstError, match="the painting at 100000 px needs about"):
        score(CONTENT, CONTENT, STYLE, Options(style_size=100_000))


# The variable as `import nst` leaves it, and as TensorFlow finds it when the run imports it.
SEEN_BY_TENSORFLOW = """
import builtins, os
seen, load = [], builtins.__import__
def watch(name, *arguments, **keywords):
    if name == "tensorflow" and not seen:
        seen.append(os.environ.get("TF_ONEDNN_USE_SYSTEM_ALLOCATOR", "unset"))
    return load(name, *arguments, **keywords)
builtins.__import__ = watch
import nst
after_import = os.environ.get("TF_ONEDNN_USE_SYSTEM_ALLOCATOR", "unset")
import nst.core
print(after_import, seen[0])
"""


@pytest.mark.parametrize(("given", "used"), [(None, "1"), ("0", "0")], ids=["default", "user's choice"])
@pytest.mark.e2e
def test_tensorflow_takes_the_system_allocator_unless_the_user_chose(given, used):
    """The estimates are fitted on the system's allocator: oneDNN's pool never gives memory back
    (2.8 GB kept after an 861 px run, docs/print.md). The variable is read when TensorFlow starts."""
    environment = {key: value for key, value in os.environ.items() if key != "TF_ONEDNN_USE_SYSTEM_ALLOCATOR"}
    if given is not None:
        environment["TF_ONEDNN_USE_SYSTEM_ALLOCATOR"] = given
    completed = subprocess.run([sys.executable, "-c", SEEN_BY_TENSORFLOW], capture_output=True, text=True,
                               env=environment)  # fmt: skip
    # `import nst` sets nothing; the run starting TensorFlow sets it, before TensorFlow reads it.
    assert completed.stdout.split() == [given or "unset", used], completed.stderr
