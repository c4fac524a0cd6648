import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

# The tests check what a user sees on stderr by default: a developer's own switches for
# TensorFlow's logs must not reach the processes they start.
for _name in ("TF_CPP_MIN_LOG_LEVEL", "NST_DEBUG"):
    os.environ.pop(_name, None)
KERAS_CACHE = Path.home() / ".keras" / "models" / "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
# Every test belongs to one tier (docs/tests.md), and gets the tier's limit in seconds (pytest-timeout):
# a guard against a hang on a loaded machine, never a measure.
#   unit: no VGG19 weights, no run, no browser, no Ray; seconds each (make check runs these)
#   e2e:  the real network, the command as a process, the browser, Ray; under about a minute each
#   slow: as e2e, and longer: the quality runs, the backends, a cluster, whole clips
TIERS = {"unit": 120, "e2e": 900, "slow": 1800}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test carries exactly one tier marker; a unit test uses no weights; each gets its tier's limit."""
    wrong = []
    for item in items:
        tiers = {marker.name for marker in item.iter_markers() if marker.name in TIERS}
        if len(tiers) != 1:
            wrong.append(f"{item.nodeid}: {', '.join(sorted(tiers)) or 'no tier'} (one of {', '.join(TIERS)})")
            continue
        (tier,) = tiers
        if tier == "unit" and "weights" in item.fixturenames:
            wrong.append(f"{item.nodeid}: a unit test needs no VGG19 weights; mark it e2e")
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(TIERS[tier]))
    if wrong:
        raise pytest.UsageError("tests without exactly one tier:\n" + "\n".join(wrong))


@pytest.fixture(scope="session")
def weights() -> str:
    """Real VGG19 weights. Tests that need them fail, never skip, when there are none: CI must run them."""
    path = os.environ.get("NST_WEIGHTS")
    if path:
        assert Path(path).is_file(), f"NST_WEIGHTS={path} does not exist"
        return path
    if KERAS_CACHE.is_file():
        return "imagenet"
    pytest.fail("no VGG19 weights: set NST_WEIGHTS to a Keras VGG19 notop weights file (make test does it here)")


@pytest.fixture
def make_image(tmp_path):
    """Writes a small random RGB image and returns its path."""

    def make(name: str = "image.png", size: tuple[int, int] = (48, 32), seed: int = 0) -> Path:
        pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        path = tmp_path / name
        Image.fromarray(pixels, "RGB").save(path)
        return path

    return make
