"""Stylizing a video clip without flicker (Ruder, Dosovitskiy and Brox 2016).

Frames in, a loop over the frames that calls :func:`nst.stylize` on each, frames out. Every
frame after the first starts from the previous stylized frame warped onto it by the optical
flow (:mod:`nst.media.flow`), and its objective gets a temporal term that holds it to that warped
frame wherever the flow is reliable (:func:`nst.core.losses.temporal_loss`). The first frame gets
more steps (``first_steps``); the later ones start close to their answer.

Finished frames are written to a folder as they finish (the output folder itself, or
``OUTPUT.frames`` beside a video file, removed once the video is written), with the settings
they were made with: the same call again continues at the first missing frame
(:mod:`~nst.run.frame_store`). What a clip plans and checks before it starts, TensorFlow not yet
loaded, is :mod:`~nst.run.clip_plan`'s.

    >>> from nst import stylize_video
    >>> stylize_video("clip.mp4", "painting.jpg", "out.mp4", size=256)
"""

from __future__ import annotations

import dataclasses
import functools
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
from nst.media.images import ImageSource
from nst.media.saving import check_writable
from nst.options import Options
from nst.run.clip_plan import ClipPlan, check_clip_fits
from nst.run.frame_store import FrameStore
from nst.run.progress import FrameClock, Progress, VideoProgress
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
