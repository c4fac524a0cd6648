"""Stylizing a video clip without flicker (Ruder, Dosovitskiy and Brox 2016).

Frames in, a loop over the frames that calls :func:`nst.stylize` on each, frames out. Every
frame after the first starts from the previous stylized frame warped onto it by the optical
flow (:mod:`nst.media.flow`), and its objective gets a temporal term that holds it to that warped
frame wherever the flow is reliable (:func:`nst.core.losses.temporal_loss`). The first frame gets
more steps (``first_steps``); the later ones start close to their answer.

Finished frames are written to a folder as they finish (the output folder itself, or
``OUTPUT.frames`` beside a video file, removed once the video is written), with the settings
they were made with: the same call again continues at the first missing frame.

    >>> from nst import stylize_video
    >>> stylize_video("clip.mp4", "painting.jpg", "out.mp4", size=256)
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from nst.errors import Interrupted, NstError
from nst.media import clips, colors, measures
from nst.media import flow as optical_flow  # `flow` is the setting: the method's name
from nst.media.images import (
    ImageSource,
    check_writable,
    describe,
    fitted_size,
    load_image,
    open_image,
    save_image,
    source_list,
    write_json,
)
from nst.options import Options
from nst.run import ladder
from nst.run.memory import available_mb, estimate_peak_mb
from nst.run.progress import PRIOR_SECONDS_PER_PIXEL, FrameClock, Progress, VideoProgress, duration
from nst.run.renamed import renamed_keywords
from nst.run.result import Result

if TYPE_CHECKING:  # nst.run.api loads the backend: the clip is checked first
    from nst.run.api import CompiledSteps

# Chosen by measurement (docs/video.md: a 64 px panning clip, then the walkers clip at 128 px): the
# temporal term's weight, the first frame's steps, and the steps a warm-started frame needs. The
# weight is per --normalization: the losses it is weighed against differ by orders of magnitude
# (mean losses are ~1e7 at the spec's weights, the photo-relative ones ~10).
TEMPORAL_WEIGHTS = {"mean": 2e10, "sum": 2e10, "photo": 1e3}
FIRST_STEPS = 100
LATER_STEPS = 30
VIDEO_SIZE = 256  # the command's default --size: a clip has many frames
# A clip's defaults, for the command and the Python API alike. No XLA: measured when each frame
# compiled its own step (its targets were constants of it), at 256 px compiling cost more than it
# saved over 30 steps: 19.5 s a later frame with XLA, 15.8 s without (walkers clip, 2-core CPU).
# The frames now share one step, and without XLA is still faster: 9.7 s a later frame against
# 10.7 s (benchmarks/video_compile.py, docs/video.md).
VIDEO_DEFAULTS = Options(size=VIDEO_SIZE, steps=LATER_STEPS, jit_compile=False)
SETTINGS_NAME = "nst-video.json"
# Planning an unbudgeted clip before it starts: the run's prior cost of a step per pixel
# (nst.run.progress's), and what each frame costs besides its steps (targets, tracing the step, the flows).
_FRAME_OVERHEAD_S = 1.5


VideoCallback = Callable[[VideoProgress], None]


@dataclass
class VideoResult:
    """A finished clip (or, inside :class:`nst.Interrupted`, a stopped one): where it went and
    where its frames are kept, its frame count and rate, whether it kept an audio track, and
    for each frame this call computed (0-based, in ``computed``) its steps, seconds and final
    losses (with the picture measures)."""

    output: Path
    frames_folder: Path
    frames: int
    fps: float
    audio: bool
    computed: list[int] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    losses: list[dict[str, float]] = field(default_factory=list)
    wall_s: float = 0.0

    def add_frame(self, index: int, seconds: float, made: Result) -> None:
        """A frame this call computed, with its numbers."""
        self.computed.append(index)
        self.steps.append(sum(made.report["steps_per_scale"]))
        self.seconds.append(round(seconds, 3))
        self.losses.append(made.report["final"])


@renamed_keywords(flow_method="flow", max_frames="frames")
def stylize_video(
    clip: str | os.PathLike,
    style: ImageSource | Sequence[ImageSource],
    output: str | os.PathLike,
    options: Options | None = None,
    *,
    first_steps: int = FIRST_STEPS,
    temporal_weight: float | None = None,
    warm_start: bool = True,
    flow: str = "dis",
    frames: int | None = None,
    fps: float | None = None,
    max_time: float | None = None,
    overwrite: bool = False,
    callback: VideoCallback | None = None,
    **settings: Any,
) -> VideoResult:
    """Stylize every frame of ``clip`` (MP4, MOV, WebM, GIF, animated WebP, or a folder of
    numbered frames) in the style of ``style`` and write ``output`` (MP4, GIF, WebP, or a
    folder of PNG frames: a path without a suffix) at the clip's frame rate, with its audio
    track when both are videos. The keywords are ``nst video``'s settings, by the same names.

    ``options`` (or keyword settings, as for :func:`nst.stylize`, over ``VIDEO_DEFAULTS``: 256 px,
    30 steps, no XLA) apply to each frame: ``steps`` (or ``time_budget``, seconds) is what each
    frame after the first gets; ``first_steps`` (or ``first_steps / steps`` times the budget)
    what the first gets. Without ``warm_start`` every frame starts from its photo, as a single
    picture would, and gets the first frame's steps; ``temporal_weight`` (default:
    ``TEMPORAL_WEIGHTS`` for the options' normalization) of 0 drops the temporal term. ``flow``:
    the optical flow, ``"dis"`` or ``"farneback"``. ``frames`` takes the clip's first frames only;
    ``fps`` overrides the frame rate (a folder of frames has none: 10). A clip whose estimated time
    exceeds ``max_time`` seconds (``--max-time`` is in minutes), or whose frames and run would not
    fit in memory, is refused before anything is computed. ``callback`` gets a :class:`VideoProgress`
    after every step. (``flow_method`` and ``max_frames``, old names, warn and still work.)

    Ctrl-C raises :class:`nst.Interrupted` whose ``result`` is the :class:`VideoResult` so far;
    the finished frames stay in ``result.frames_folder`` and the same call continues there.
    """
    started = time.perf_counter()
    options = dataclasses.replace(options or VIDEO_DEFAULTS, **settings)
    if temporal_weight is None:
        temporal_weight = TEMPORAL_WEIGHTS[options.normalization]
    _check_settings(first_steps, temporal_weight, flow, frames, fps, max_time)
    output = Path(output)
    _check_output(output, overwrite)
    plan = ClipPlan.make(clip, style, options, first_steps, temporal_weight, warm_start, flow, frames, fps)
    check_clip_fits(plan.info, plan.first, plan.later, plan.paintings, max_time)
    originals = clips.read_frames(plan.info)  # before the store: a clip broken in the middle leaves nothing behind
    store = FrameStore.open(output, plan.settings, overwrite)
    audio = plan.info.audio and output.suffix.lower() == ".mp4"
    result = VideoResult(output, store.folder, len(originals), plan.info.fps, audio)
    try:
        _make_missing_frames(plan, originals, store, result, FrameClock(len(originals), started=started), callback)
        if output.suffix:
            _write_video(store, result, plan.info)
    except Interrupted:
        raise Interrupted(result) from None
    finally:  # a stopped clip's result has its time so far too
        result.wall_s = round(time.perf_counter() - started, 3)
    return result


def _check_output(output: Path, overwrite: bool) -> None:
    """A video file or frames folder the clip may be written to, checked before the clip is read."""
    clips.check_output(output)
    if output.suffix and output.exists() and not overwrite:
        raise NstError(f"{output}: already exists; pass --overwrite to replace it")
    check_writable(output, "the video")


@dataclass
class ClipPlan:
    """How a clip's frames are made: the clip as probed, the paintings, the first frame's options
    and the later frames' (the first frame's too without ``warm_start``), the temporal term's
    weight and the optical flow's method; and :attr:`settings`, what a frames folder records."""

    info: clips.ClipInfo
    paintings: list[Image.Image]
    first: Options
    later: Options
    temporal_weight: float
    warm_start: bool
    flow: str
    settings: dict[str, Any]

    @classmethod
    def make(
        cls, clip: str | os.PathLike, style: ImageSource | Sequence[ImageSource], options: Options, first_steps: int,
        temporal_weight: float, warm_start: bool, flow: str, frames: int | None, fps: float | None,
    ) -> ClipPlan:  # fmt: skip
        """The plan of checked settings: the paintings opened and the clip probed, not yet read."""
        first = _first_frame_options(options, first_steps)
        # Later frames start from the warped previous frame at the output size: no coarse-to-fine ladder.
        later = dataclasses.replace(options, scales=1) if warm_start else first
        sources = source_list(style)
        paintings = [open_image(source) for source in sources]
        info = clips.probe_clip(clip, options.size, frames, fps)
        settings = {
            "clip": str(info.path), "frames": info.frames, "style": [describe(source) for source in sources],
            "first": first.as_dict(), "later": later.as_dict(), "temporal_weight": temporal_weight,
            "warm_start": warm_start, "flow": flow,
        }  # fmt: skip
        return cls(info, paintings, first, later, temporal_weight, warm_start, flow, settings)

    def starts_warm(self, index: int) -> bool:
        """Whether frame ``index`` starts from the previous frame warped onto it: every frame but the
        first, with ``warm_start``."""
        return self.warm_start and index > 0


def _make_missing_frames(
    plan: ClipPlan, originals: list[np.ndarray], store: FrameStore, result: VideoResult, clock: FrameClock,
    callback: VideoCallback | None,
) -> None:  # fmt: skip
    """Each frame the store lacks, in order, saved as it finishes: the same call continues after a stop."""
    to_make = range(store.first_missing(len(originals)), len(originals))
    compiled_steps = _compiled_steps() if to_make else None  # shared by the frames: compiled once per size
    on_step = None if callback is None else functools.partial(_report, callback, clock)
    for index in to_make:
        warm = plan.starts_warm(index)
        clock.frame_begins(index)
        made = _stylize_frame(
            originals[index], plan.paintings, plan.later if warm else plan.first, on_step, compiled_steps,
            previous=(store.load(index - 1), originals[index - 1]) if warm else None,
            temporal_weight=plan.temporal_weight if plan.warm_start else 0.0, flow=plan.flow,
        )  # fmt: skip
        store.save(index, made.pixels)
        result.add_frame(index, clock.frame_ends(), made)


def _write_video(store: FrameStore, result: VideoResult, info: clips.ClipInfo) -> None:
    """The finished frames as the video file ``result.output``, with the clip's audio if it keeps it; the frames
    folder then goes."""
    pictures = [Image.open(store.path(index)) for index in range(result.frames)]
    clips.write_clip(pictures, result.output, info.fps, info.path if result.audio else None)
    store.remove()


def _compiled_steps() -> CompiledSteps:
    """Where the frames' runs keep their compiled steps, for the next frame."""
    from nst.run.api import CompiledSteps  # TensorFlow loads here (quietly), after every check has passed

    return CompiledSteps()


def _stylize_frame(
    photo: np.ndarray,
    paintings: list[Image.Image],
    options: Options,
    callback: Callable[[Progress], None] | None,
    compiled_steps: CompiledSteps | None,
    *,
    previous: tuple[np.ndarray, np.ndarray] | None,
    temporal_weight: float,
    flow: str,
) -> Result:
    """One frame: from its photo, or (``previous``: the stylized and the original previous
    frame) from the stylized previous frame warped onto it, held there by the temporal term.
    A first frame of a clip that has the term has it too, with weight 0: then every frame's
    objective has the same targets, and the frames share one compiled step (``compiled_steps``)."""
    from nst.run.api import TemporalTarget, stylize

    pixels = photo.astype(np.float32) / 255.0
    if previous is None:
        nothing = TemporalTarget(np.zeros_like(pixels), np.zeros(pixels.shape[:2], np.float32), 0.0)
        temporal = nothing if temporal_weight > 0 else None
        return stylize(pixels, paintings, options, callback=callback, temporal=temporal, compiled_steps=compiled_steps)
    stylized, original = previous
    backward, reliable = optical_flow.motion(original, photo, flow)
    warped = np.clip(optical_flow.warp(stylized, backward), 0.0, 1.0)
    if options.preserve_colors == "luminance":  # the run optimises luminance: hold that to the warped one
        warped = colors.luminance_image(warped)
    temporal = TemporalTarget(warped, reliable, temporal_weight) if temporal_weight > 0 else None
    return stylize(
        pixels, paintings, options, callback=callback, start=warped, temporal=temporal, compiled_steps=compiled_steps
    )


def _first_frame_options(options: Options, first_steps: int) -> Options:
    """The first frame's: ``first_steps``, or under a time budget the same multiple of it."""
    if options.time_budget is not None:
        return dataclasses.replace(options, time_budget=options.time_budget * first_steps / max(1, options.steps))
    return dataclasses.replace(options, steps=first_steps)


def estimate_seconds(info: clips.ClipInfo, first: Options, later: Options) -> float:
    """What the clip should take on this kind of machine (a 2-core CPU), before it starts."""
    if later.time_budget is not None:
        return first.time_budget + (info.frames - 1) * later.time_budget
    pixels = info.size[0] * info.size[1]
    first_steps = sum(ladder.steps_per_size(first))
    steps = first_steps + (info.frames - 1) * later.steps
    return steps * pixels * PRIOR_SECONDS_PER_PIXEL + info.frames * _FRAME_OVERHEAD_S


def check_clip_fits(
    info: clips.ClipInfo, first: Options, later: Options, paintings: Sequence[Image.Image], max_time: float | None
) -> None:
    """Refuse, with the numbers, a clip that would take longer than ``max_time`` seconds or
    whose frames (input and output, kept at the run's size) and run would not fit in memory."""
    width, height = info.size
    seconds = estimate_seconds(info, first, later)
    if max_time is not None and seconds > max_time:
        per_frame = (
            "--time-budget"
            if later.time_budget is not None
            else f"{first.steps} steps for the first, {later.steps} for each later"
        )
        raise NstError(
            f"{info.path}: {info.frames} frames at {width}x{height} ({per_frame}) need about {duration(seconds)},"
            f" more than --max-time {duration(max_time)}; use --frames, a smaller --size or fewer --steps"
        )
    side = ladder.painting_side(first)
    painting_sizes = [fitted_size(painting.size, side) for painting in paintings]
    frames_mb = 2 * info.frames * width * height * 3 / 2**20
    run_mb = max(estimate_peak_mb(options, height, width, painting_sizes) for options in (first, later))
    limit = later.max_memory if later.max_memory is not None else available_mb()
    if frames_mb + run_mb > limit:
        raise NstError(
            f"{info.path}: {info.frames} frames at {width}x{height} need about {frames_mb + run_mb:.0f} MB"
            f" ({frames_mb:.0f} MB of frames, {run_mb:.0f} MB for a frame's run) and {limit:.0f} MB are available;"
            " use --frames or a smaller --size"
        )


@dataclass
class FrameStore:
    """The finished frames of a clip, one PNG each, and the settings they were made with
    (``nst-video.json``): the output folder itself, or ``OUTPUT.frames`` beside a video file."""

    folder: Path

    @classmethod
    def open(cls, output: Path, settings: dict[str, Any], overwrite: bool) -> FrameStore:
        """The store for ``output``: a new one, or the one an earlier call with the same
        settings left (to continue); one with other settings is refused unless ``overwrite``."""
        store = cls(output if not output.suffix else output.with_name(output.name + ".frames"))
        recorded = store.folder / SETTINGS_NAME
        if store.folder.is_dir() and overwrite:
            store.remove()
        elif store.folder.is_dir() and any(store.folder.iterdir()):
            made_with = json.loads(recorded.read_text()) if recorded.is_file() else None
            if made_with != json.loads(json.dumps(settings)):
                raise NstError(
                    f"{store.folder}: holds frames made with other settings (or not by nst video); pass --overwrite"
                    " to start again"
                )
        store.folder.mkdir(exist_ok=True)
        write_json(recorded, settings)
        return store

    def path(self, index: int) -> Path:
        return self.folder / f"frame-{index + 1:05d}.png"

    def first_missing(self, count: int) -> int:
        return next((index for index in range(count) if not self.path(index).is_file()), count)

    def load(self, index: int) -> np.ndarray:
        return load_image(self.path(index))

    def save(self, index: int, pixels: np.ndarray) -> None:
        save_image(pixels, self.path(index))  # atomic: a frame is there whole or not at all

    def remove(self) -> None:
        """Deletes the frames and settings this store wrote (nothing else), and the folder if empty."""
        for path in [*self.folder.glob("frame-*.png"), self.folder / SETTINGS_NAME]:
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.folder.rmdir()


def _report(callback: VideoCallback, clock: FrameClock, progress: Progress) -> None:
    callback(clock.progress(progress))


def _check_settings(
    first_steps: int, temporal_weight: float, flow: str, frames: int | None, fps: float | None, max_time: float | None
) -> None:
    if first_steps < 1:
        raise NstError(f"first_steps must be 1 or more, got {first_steps}")
    if not (math.isfinite(temporal_weight) and temporal_weight >= 0):
        raise NstError(f"temporal_weight must be a finite number >= 0, got {temporal_weight}")
    if flow not in optical_flow.FLOW_METHODS:
        raise NstError(f"flow must be one of {', '.join(optical_flow.FLOW_METHODS)}, got {flow!r}")
    if frames is not None and frames < 1:
        raise NstError(f"frames must be 1 or more, got {frames}")
    for name, value in (("fps", fps), ("max_time", max_time)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise NstError(f"{name} must be a number > 0, got {value}")


@renamed_keywords(flow_method="flow")
def temporal_error(stylized: Sequence[np.ndarray], originals: Sequence[np.ndarray], flow: str = "dis") -> float:
    """The clip's :func:`nst.media.measures.temporal_error`, with the flows and masks taken from the
    original frames (so that every way of stylizing a clip is measured against the same ones)."""
    warped, masks = [], []
    for index in range(1, len(stylized)):
        backward, reliable = optical_flow.motion(originals[index - 1], originals[index], flow)
        warped.append(optical_flow.warp(np.asarray(stylized[index - 1], np.float32), backward))
        masks.append(reliable)
    return measures.temporal_error(stylized[1:], warped, masks)
