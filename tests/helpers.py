"""What several test modules share: the bundled images, starting a process as a terminal would,
running ``nst``, waiting on a condition, a fake run for the web app's tests, a panning clip for
the video's, and a Ray cluster on this machine. Test modules import these from here, never from
one another."""

import contextlib
import functools
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

from nst.media.images import METADATA_KEY
from nst.run import plan

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CONTENT = EXAMPLES / "cat.jpg"
STYLE = EXAMPLES / "starry-night.jpg"
# The video tests' clip: its frames, their width, and how many pixels the camera pans right a frame.
CLIP_FRAMES, CLIP_WIDTH, PAN = 6, 64, 3
# A guard against a hang, never a measure: what a condition that should hold at once may take on a
# loaded machine before the test fails.
PATIENCE_S = 60.0


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


def check_reproduced(first, again, summary, env=None) -> None:
    """``nst reproduce first -o again`` makes the same picture, its summary line starting with ``summary``."""
    from nst.media.images import read_metadata

    result = run_nst("reproduce", first, "-o", again, env=env)
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


def wait_until(condition: Callable[[], bool], timeout: float = PATIENCE_S, watch=(), every: float = 0.01) -> None:
    """Waits for ``condition``, asking about the ``watch`` jobs meanwhile (``(queue, job)``), as
    their pages would; fails after ``timeout`` seconds, which only guards against a hang."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        for queue, job in watch:
            queue.status(job)
        time.sleep(every)


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
    """A run without a network: the options' ladder of sizes and steps, each step ``step_s``
    seconds on an 8x8 picture, its progress made by the run's own plan (nst.run.plan.Plan), as
    nst.stylize makes it, with the losses ``losses(step)`` gives; records when each run started and ended. ``gate``:
    the first step waits for it. With ``tiles``, each step of the last size runs in that many tile
    passes, each reported to ``on_tile`` as a print's are; with ``tile_passes`` (a semaphore) each
    takes one of its tokens once reported, and waits for it."""

    def __init__(self, step_s: float = 0.005, error: Exception | None = None, losses=None, tiles: int = 0) -> None:
        self.step_s, self.error, self.tiles = step_s, error, tiles
        self.tile_passes: threading.Semaphore | None = None
        self.losses = losses or (lambda step: {"total": 1.0 / step})
        self.runs: list[tuple[str, float, float]] = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, content, styles, options, *, callback, on_tile=None):
        started = time.monotonic()
        self.gate.wait()
        sizes = options.scale_sizes()
        steps = plan.Plan(options, sizes, plan.clock(), [float(size * size) for size in sizes])
        total = sum(options.steps_per_size())
        for index, planned in enumerate(options.steps_per_size()):
            steps.begin_scale()
            steps.start_scale(index)
            for _ in range(planned):
                time.sleep(self.step_s)
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

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "num_gpus": 0, "include_dashboard": False})
    try:
        cluster.add_node(**second_node)
        ray.init(address=cluster.address, log_to_driver=False, logging_level="ERROR")
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()
