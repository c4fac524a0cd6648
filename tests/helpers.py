"""What several test modules share: the bundled images and small made-up ones, starting a process
as a terminal would, running ``nst`` (as a process, or in this one), waiting on a condition, a
clock that moves when told, a fake run for the web app's tests, the web form, a panning clip for
the video's, and a Ray cluster on this machine. Test modules import these from here, never from
one another."""

import contextlib
import functools
import io
import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, PngImagePlugin

from nst.media.saving import METADATA_KEY
from nst.run import ladder, plan

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CONTENT = EXAMPLES / "cat.jpg"
STYLE = EXAMPLES / "starry-night.jpg"
# The video tests' clip: its frames, their width, and how many pixels the camera pans right a frame.
CLIP_FRAMES, CLIP_WIDTH, PAN = 6, 64, 3
# Each test process's own namespace in Ray (tests/conftest.py gives each its own Ray folder too).
RAY_NAMESPACE = f"nst-tests-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
# A guard against a hang, never a measure: what a condition that should hold at once may take on a
# loaded machine before the test fails.
PATIENCE_S = 60.0


# Where the tests draw random numbers for a figure they bound, they draw from seed + this: the
# bounds' spread is measured over two (benchmarks/bound_spread.py sets NST_TEST_SEED).
TEST_SEED = int(os.environ.get("NST_TEST_SEED", "0"))


def rng(seed: int) -> np.random.Generator:
    """NumPy's generator for a test's random numbers: ``seed``, moved by :data:`TEST_SEED`."""
    return np.random.default_rng(seed + TEST_SEED)


def within(name: str, value: float, **bound: float) -> float:
    """Asserts that the figure ``name`` (one a machine's kernels, threads or load can move: a picture
    measure, a loss against a reference, a memory peak) keeps its ``bound``, one of ``below``,
    ``at_most``, ``above`` and ``at_least``; where ``NST_FIGURES`` names a file, adds it there with
    its test and bound: the spread each bound is set from (benchmarks/bound_spread.py, docs/tests.md)."""
    ((kind, limit),) = bound.items()
    value = float(value)
    record = os.environ.get("NST_FIGURES")
    if record:
        test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
        line = json.dumps({"test": test, "figure": name, "value": value, "bound": kind, "limit": limit})
        with open(record, "a") as figures:  # one write a line: the test processes' lines do not mix
            figures.write(line + "\n")
    kept = {"below": value < limit, "at_most": value <= limit, "above": value > limit, "at_least": value >= limit}
    assert kept[kind], f"{name}: {value:.6g}, not {kind.replace('_', ' ')} {limit:g}"
    return value


def tolerance_used(actual, expected, rtol: float = 0.0, atol: float = 0.0) -> float:
    """How much of :func:`numpy.testing.assert_allclose`'s tolerance the closest-to-failing element
    uses: max |actual - expected| / (atol + rtol |expected|); at most 1 where allclose passes."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    return float(np.max(np.abs(actual - expected) / (atol + rtol * np.abs(expected))))


def relative_difference(value: float, reference: float) -> float:
    """|value - reference| / |reference|."""
    return abs(float(value) - float(reference)) / max(abs(float(reference)), 1e-30)


def _default_signals() -> None:
    # A shell started in the background (`make test &`) starts its children with SIGINT ignored;
    # the tests send signals to nst as a terminal would, so they set what a terminal gives.
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_DFL)


@contextlib.contextmanager
def started(command: list, **popen) -> Iterator[subprocess.Popen]:
    """``command`` as a terminal would start it (default signal handling, no stdin), in its own
    process group, which is killed at the end whether the test passed or not."""
    process = subprocess.Popen(
        [str(part) for part in command], stdin=subprocess.DEVNULL, start_new_session=True,
        preexec_fn=_default_signals, **popen,
    )  # fmt: skip
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()


def run_nst(*args, cwd=None, env=None, python_options=()) -> subprocess.CompletedProcess:
    """``nst ARGS`` as a process, its output captured (``python_options``: the interpreter's own, ``-X importtime``)."""
    return subprocess.run(
        [sys.executable, *python_options, "-m", "nst", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=300,
    )  # fmt: skip


def nst_here(*args) -> subprocess.CompletedProcess:
    """``nst ARGS`` run in this process (:func:`nst.apps.cli.main`), what it prints captured: the
    same exit code and lines as the command, without a process's start (TensorFlow, VGG19) each time."""
    from nst.apps import cli

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            returncode = cli.main([str(arg) for arg in args])
        except SystemExit as exit:  # argparse's refusals, as the command exits
            returncode = exit.code
    return subprocess.CompletedProcess(["nst", *map(str, args)], returncode, stdout.getvalue(), stderr.getvalue())


def check_reproduced(first, again, summary) -> None:
    """``nst reproduce first -o again`` makes the same picture, its summary line starting with ``summary``."""
    from nst.media.saving import read_metadata

    result = nst_here("reproduce", first, "-o", again)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {again} ({summary}")
    assert read_metadata(again) == read_metadata(first)
    difference = np.abs(np.asarray(Image.open(again), float) - np.asarray(Image.open(first), float))
    assert difference.max() <= 1  # the same picture; at most a rounding step apart


def swapped_srgb_profile() -> bytes:
    """sRGB with its red and blue primaries swapped: red pixels under it are blue in sRGB."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    (count,) = struct.unpack(">I", data[128:132])
    tags = {bytes(data[132 + 12 * i : 136 + 12 * i]): 132 + 12 * i for i in range(count)}
    red, blue = tags[b"rXYZ"], tags[b"bXYZ"]
    data[red + 4 : red + 12], data[blue + 4 : blue + 12] = data[blue + 4 : blue + 12], data[red + 4 : red + 12]
    return bytes(data)


RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


def halves(left=RED, right=BLUE, size=(40, 20), mode="RGB") -> Image.Image:
    """An image whose left half is one colour and right half another."""
    image = Image.new("RGB", size, left)
    image.paste(right, (size[0] // 2, 0, size[0], size[1]))
    return image.convert(mode)


def deep_gradient(height=24, width=40, channels=3) -> np.ndarray:
    """16-bit pixels that 8 bits cannot hold: most are not multiples of 257."""
    rng = np.random.default_rng(3)
    return rng.integers(0, 65536, (height, width, channels), dtype=np.uint16)


def png_bits(path) -> int:
    """The bit depth of a PNG file's pixels."""
    with open(path, "rb") as file:
        return file.read(26)[24]  # the IHDR's bit depth


def moved_on(image: np.ndarray, wrap: bool = False) -> np.ndarray:
    """The picture 1 px up and left: what a tiling with shift 1 shows VGG19."""
    if wrap:
        return np.roll(image, (-1, -1), axis=(0, 1))
    return np.pad(image[1:, 1:], ((0, 1), (0, 1), (0, 0)), mode="edge")


def wait_until(condition: Callable[[], bool], timeout: float = PATIENCE_S, watch=(), every: float = 0.01) -> None:
    """Waits for ``condition``, asking about the ``watch`` jobs meanwhile (``(queue, job)``), as
    their pages would; fails after ``timeout`` seconds, which only guards against a hang."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        for queue, job in watch:
            queue.status(job)
        time.sleep(every)


class FakeClock:
    """A clock that moves only when told: the code under test reads the time, the test sets it."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeResult:
    """A PNG whose parameters name the photo and paintings it was made from, as nst's do."""

    def __init__(self, content: Path, styles: list[Path]) -> None:
        self.report = {"params": {"content": str(content), "style": [str(style) for style in styles]}}

    def save(self, path: Path) -> Path:
        info = PngImagePlugin.PngInfo()
        info.add_text(METADATA_KEY, json.dumps(self.report["params"]))
        Image.new("RGB", (4, 4)).save(path, pnginfo=info)
        return path


class FakeStylize:
    """A run without a network: the options' ladder of sizes and steps on an 8x8 picture, its
    progress made by the run's own plan (nst.run.plan.Plan), as nst.stylize makes it, with the
    losses ``losses(step)`` gives; records when each run started and ended.

    Each step takes ``step_s`` seconds: slept, or on ``clock`` (a :class:`FakeClock`, which the
    test also gives the plan) moved on. ``gate``: the first step waits for it; ``step_tokens`` (a
    semaphore): each step waits for one of its tokens. With ``tiles``, each step of the last size
    runs in that many tile passes, each reported to ``on_tile`` as a print's are; with
    ``tile_passes`` (a semaphore) each takes one of its tokens once reported, and waits for it."""

    def __init__(
        self, step_s: float = 0.005, error: Exception | None = None, losses=None, tiles: int = 0, clock=None
    ) -> None:
        self.step_s, self.error, self.tiles, self.clock = step_s, error, tiles, clock
        self.step_tokens: threading.Semaphore | None = None
        self.tile_passes: threading.Semaphore | None = None
        self.losses = losses or (lambda step: {"total": 1.0 / step})
        self.runs: list[tuple[str, float, float]] = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, content, styles, options, *, callback, on_tile=None):
        started = time.monotonic()
        self.gate.wait()
        sizes = ladder.scale_sizes(options)
        steps = plan.Plan(options, sizes, plan.clock(), [float(size * size) for size in sizes])
        total = sum(ladder.steps_per_size(options))
        for index, planned in enumerate(ladder.steps_per_size(options)):
            steps.begin_scale()
            steps.start_scale(index)
            for _ in range(planned):
                if self.step_tokens is not None:
                    self.step_tokens.acquire()
                self.take_a_step()
                for done in range(1, self.tiles + 1 if index == len(sizes) - 1 else 1):
                    on_tile(index + 1, done, self.tiles)
                    if self.tile_passes is not None:
                        self.tile_passes.acquire()
                step = steps.record_step()
                pixels = np.full((8, 8, 3), step / total, np.float32)
                callback(steps.progress(self.losses(step), functools.partial(np.asarray, pixels)))
        if self.error is not None:
            raise self.error
        self.runs.append((content.name, started, time.monotonic()))
        return FakeResult(content, styles)

    def take_a_step(self) -> None:
        if self.clock is None:
            time.sleep(self.step_s)
        else:
            self.clock.advance(self.step_s)


def submit_form(client, files=(), **fields):
    """Posts the form: the examples cat.jpg and starry-night.jpg unless ``files`` upload a photo
    or painting, or a field says otherwise (None: left out)."""
    data = {"content": "cat.jpg", "style": "starry-night.jpg", "size": "64", "steps": "3", **fields}
    data = {name: value for name, value in data.items() if value is not None and name not in dict(files)}
    return client.post("/api/jobs", data=data, files=list(files))


def job_events(client, job_id) -> list[dict]:
    """The run's Server-Sent Events, read to the end (the stream ends with the run)."""
    with client.stream("GET", f"/api/jobs/{job_id}/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    return [json.loads(line.removeprefix("data: ")) for line in lines]


def losses_and_gradient(objective, image: np.ndarray, shift: int = 0) -> tuple[dict[str, float], np.ndarray]:
    """An objective's losses and gradient at ``image``, whole or tiled, as floats and an array; a
    tiled one seen ``shift`` px on (a whole one has one place: Objective.shifts)."""
    from keras import ops

    from nst.core import backend
    from nst.core.tiles import TiledObjective

    tensor = ops.convert_to_tensor(image[np.newaxis])
    if isinstance(objective, TiledObjective):
        losses, gradient = objective.value_and_grad(tensor, shift)
    else:
        assert shift == 0, "a whole objective is always seen at one place"
        losses, gradient = backend.value_and_grad(objective)(tensor)
    return backend.floats(losses), backend.to_numpy(gradient)[0]


def relative_error(approximate: np.ndarray, exact: np.ndarray) -> float:
    """The relative L2 error of ``approximate`` against ``exact``."""
    return float(np.linalg.norm(approximate - exact) / np.linalg.norm(exact))


def panning_frames(count: int = CLIP_FRAMES, width: int = CLIP_WIDTH, pan: int = PAN) -> list[np.ndarray]:
    """The cat photo seen by a camera moving right ``pan`` px a frame: frame t+1's pixel x is
    frame t's pixel x + pan."""
    with Image.open(CONTENT) as photo:
        strip_width = width + pan * (count - 1)
        strip = np.asarray(photo.convert("RGB").resize((strip_width, round(strip_width * photo.height / photo.width))))
    height = width * 3 // 4  # even, as H.264 wants
    return [strip[:height, pan * index : pan * index + width] for index in range(count)]


def frames_folder(folder: Path, count: int = CLIP_FRAMES, width: int = 32) -> Path:
    """The panning frames as a folder of numbered PNGs (``f10`` would sort after ``f9``)."""
    folder.mkdir()
    for index, frame in enumerate(panning_frames(count, width=width)):
        Image.fromarray(frame).save(folder / f"f{index + 1}.png")
    return folder


@contextlib.contextmanager
def ray_cluster(**second_node: float) -> Iterator:
    """A Ray cluster on this machine, joined: a head of 1 CPU and a node with ``second_node``'s
    resources (Ray's own, or ones it is told of: a GPU it has not). Shut down however it ends."""
    import ray  # the cluster extra: only the tests that start a cluster need it
    from ray.cluster_utils import Cluster

    from nst.run.cluster import no_idle_workers

    no_idle_workers()  # as nst starts Ray
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "num_gpus": 0, "include_dashboard": False})
    try:
        cluster.add_node(**second_node)
        ray.init(address=cluster.address, log_to_driver=False, logging_level="ERROR", namespace=RAY_NAMESPACE)
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()
