"""What a clip (:func:`nst.stylize_video`) plans before it starts, with no TensorFlow: the first
frame's options and the later frames' (:class:`ClipPlan`, the paintings opened and the clip
probed), and the time and memory the clip would take, refused with the numbers before anything
is computed (:func:`check_clip_fits`)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image

from nst.errors import NstError
from nst.media import clips
from nst.media.images import ImageSource, describe, open_image, source_list
from nst.media.resizing import fitted_size
from nst.options import Options
from nst.run import ladder
from nst.run.memory import available_mb, estimate_peak_mb
from nst.run.progress import PRIOR_SECONDS_PER_PIXEL, duration

# Planning an unbudgeted clip before it starts: the run's prior cost of a step per pixel
# (nst.run.progress's), and what each frame costs besides its steps (targets, tracing the step, the flows).
_FRAME_OVERHEAD_S = 1.5


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
