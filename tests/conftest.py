import contextlib
import faulthandler
import gc
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

# The tests check what a user sees on stderr by default: a developer's own switches for
# TensorFlow's logs must not reach the processes they start.
for _name in ("TF_CPP_MIN_LOG_LEVEL", "NST_DEBUG"):
    os.environ.pop(_name, None)
KERAS_CACHE = Path.home() / ".keras" / "models" / "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
UNIT = Path(__file__).resolve().parent / "unit"
# Every test belongs to one tier (docs/tests.md), and gets the tier's limit in seconds (pytest-timeout):
# a guard against a hang on a loaded machine, never a measure.
#   unit: the tests in tests/unit/: no Keras, no VGG19 weights, no run, no browser, no Ray; seconds
#         each (make check runs these)
#   e2e:  Keras and the real network, the command as a process, the browser, Ray; under about a minute each
#   slow: as e2e, and longer: the quality runs, the backends, a cluster, whole clips
TIERS = {"unit": 120, "e2e": 900, "slow": 1800}
# make test runs the tests in two processes (pytest-xdist, --dist loadgroup), a test file's in one,
# so that what its tests share (a module's fixtures: a clip, a batch) is made once. Those that start
# Ray (a local instance, a cluster, or a command that starts one) run in one process, one after
# another, whatever their file: two Rays at once on two cores lost a worker.
RAY_GROUP = "ray"


def pytest_configure(config: pytest.Config) -> None:
    # Each test process has a Ray of its own, if any: its own folder (short: Ray's socket paths
    # must fit in 107 bytes) and never a cluster the environment names.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    os.environ["RAY_TMPDIR"] = str(Path(tempfile.gettempdir()) / f"nst-{os.getpid()}-{worker}")
    os.environ.pop("RAY_ADDRESS", None)
    # Test processes side by side share the CPUs: each takes its share of threads (TensorFlow's,
    # PyTorch's and what they start inherit it), so that a Ray worker or a command a test starts,
    # with one thread of its own, is not starved by two processes of two threads each.
    processes = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if processes > 1:
        threads = max(1, len(os.sched_getaffinity(0)) // processes)
        for variable in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
            os.environ.setdefault(variable, str(threads))
        if threads == 1:  # JAX's XLA sizes its pool by the CPUs, whatever the others say
            os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    # The whole suite's limit (.ci/run): past it, each test process prints where it is (the test it
    # was in among the frames) and exits, so that a stuck Ray or browser ends the run and says
    # where. The test processes go first, and pytest-xdist names the test each was running.
    deadline = os.environ.get("NST_SUITE_DEADLINE")
    if deadline:
        later = 0.0 if hasattr(config, "workerinput") else 30.0
        faulthandler.dump_traceback_later(max(1.0, float(deadline) + later - time.time()), exit=True)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under ``-m core`` (the JAX and PyTorch tiers), a test file that marks no test core is not
    imported: its imports (Ray, a browser, the web app) would only be deselected, in each process."""
    if config.option.markexpr == "core" and collection_path.is_file() and collection_path.name.startswith("test_"):
        return "mark.core" not in collection_path.read_text()
    return None


def pytest_collection_finish(session: pytest.Session) -> None:
    """What the imports and the collected tests made lives as long as the test process: frozen,
    the cycle collector passes over it no more (a run's gc.collect() scans only what tests make)."""
    gc.collect()
    gc.freeze()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests in tests/unit are the unit tier (and use no weights); every other test carries
    exactly one of the others. Each gets its tier's limit, and its group: its file's, or Ray's."""
    wrong = []
    for item in items:
        tiers = {marker.name for marker in item.iter_markers() if marker.name in TIERS}
        if UNIT in item.path.parents:
            if tiers - {"unit"}:
                wrong.append(f"{item.nodeid}: {', '.join(sorted(tiers))} in tests/unit, the unit tier")
            if "weights" in item.fixturenames:
                wrong.append(f"{item.nodeid}: a unit test needs no VGG19 weights; move it out of tests/unit")
            item.add_marker(pytest.mark.unit)
            tiers = {"unit"}
        elif len(tiers - {"unit"}) != 1 or "unit" in tiers:
            wrong.append(
                f"{item.nodeid}: {', '.join(sorted(tiers)) or 'no tier'} (e2e or slow; unit tests live in tests/unit)"
            )
            continue
        (tier,) = tiers
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(TIERS[tier]))
        if config.pluginmanager.hasplugin("xdist"):
            group = RAY_GROUP if item.get_closest_marker("ray") else item.nodeid.split("::")[0]
            item.add_marker(pytest.mark.xdist_group(group))
    if wrong:
        raise pytest.UsageError("tests in the wrong tier:\n" + "\n".join(wrong))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids: list[str]) -> None:
    """Under --dist loadgroup every test carries its group in its node ID, once pytest-xdist has read
    the groups given above. Where it does not (pytest 9.2, pytest-xdist issue #1386), the groups
    are lost without a word, and a test file's fixtures and the Ray tests would run in both
    processes at once: refused instead."""
    if node.config.getoption("dist") == "loadgroup" and any("@" not in nodeid for nodeid in ids):
        pytest.exit("pytest-xdist did not apply the test groups (pytest-xdist issue #1386): use pytest below 9.2", 3)


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


@pytest.fixture
def client(monkeypatch):
    """``client(stylize, fast_extra=False, **limits)``: a TestClient of the web app with a fake run
    unless told (None: the library's), its page already visited for the session cookie. Its runs
    show the fast network's first frame only when ``fast_extra`` (then, where the extra is
    installed): painting it takes half a second a run, which only the tests of it need."""
    from fastapi.testclient import TestClient

    from nst.apps.web.app import WebConfig, create_app
    from nst.media import feedforward
    from tests.helpers import FakeStylize

    installed = feedforward.available
    with contextlib.ExitStack() as stack:

        def make(stylize="fake", fast_extra=False, **limits) -> TestClient:
            monkeypatch.setattr(feedforward, "available", installed if fast_extra else lambda: False)
            app = create_app(WebConfig(**limits), FakeStylize() if stylize == "fake" else stylize)
            test_client = stack.enter_context(TestClient(app, base_url="http://127.0.0.1"))
            assert test_client.get("/").status_code == 200  # the page gives the session cookie
            return test_client

        yield make
