"""Peak memory of a run, known before it starts, and the check against what the machine has.

The model: TensorFlow with VGG19 loaded and compiled costs a fixed amount, VGG19's forward and
backward activations grow with the output's pixels, and L-BFGS keeps 2 x lbfgs_history
float32 copies of the image in its pair buffers (and a few more), and its compiled step (the
unrolled two-loop recursion) costs a fixed amount more than Adam's. Coefficients measured on this project's CPU
machine (peak RSS, see the README's table); no TensorFlow import here, so the command line can
refuse a too-large run at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import psutil

from nst.errors import NstError
from nst.options import Options

# Fitted to Adam's peak RSS at 512 and 1024 px (2153 and 5409 MB, measured 2026-11-28 with
# TensorFlow 2.21, which also imports JAX when it is installed): base + per_pixel x pixels.
_BASE_MB = 1068.0
_PER_PIXEL_MB = 6.21e-3
_FLOAT32_MB = 4 / 2**20
# L-BFGS's peak RSS over Adam's, less its pairs: 334, 315 and 382 MB at 128, 256 and 512 px.
_LBFGS_COMPILED_MB = 330.0


def estimate_peak_mb(options: Options, height: int, width: int, paintings: Sequence[tuple[int, int]] = ()) -> float:
    """Estimated peak resident memory, in MB, of a run whose output is ``height`` x ``width``,
    with paintings of these sizes ((width, height), as Pillow gives them): each is kept as an
    array, and VGG19's activations are those of the largest image it sees."""
    pixels = height * width
    painting_pixels = [painting_width * painting_height for painting_width, painting_height in paintings]
    estimate = _fixed_mb(options) + _PER_PIXEL_MB * max([pixels, *painting_pixels])
    estimate += 3 * _FLOAT32_MB * sum(painting_pixels)
    if options.optimizer == "lbfgs":  # its pair buffers (2m vectors of 3 values per pixel), plus 5
        estimate += (2 * options.lbfgs_history + 5) * 3 * pixels * _FLOAT32_MB
    return estimate


def _fixed_mb(options: Options) -> float:
    """What a run costs whatever its size."""
    return _BASE_MB + (_LBFGS_COMPILED_MB if options.optimizer == "lbfgs" else 0.0)


def available_mb() -> float:
    """Memory the system can give without swapping."""
    return psutil.virtual_memory().available / 2**20


def check_memory(options: Options, height: int, width: int, paintings: Sequence[tuple[int, int]] = ()) -> float:
    """Refuse a run that would not fit, saying the largest size that would; returns the estimate.
    Arithmetic only: sizes that would need terabytes are refused at once."""
    limit = options.max_memory if options.max_memory is not None else available_mb()
    needed = estimate_peak_mb(options, height, width, paintings)
    if needed <= limit:
        return needed
    alone = estimate_peak_mb(options, height, width)
    if alone <= limit:  # the output would fit: the paintings are what does not
        largest = max(max(size) for size in paintings)
        which = (
            f"the painting at {largest} px needs"
            if len(paintings) == 1
            else f"{len(paintings)} paintings at up to {largest} px need"
        )
        fewer = "" if len(paintings) == 1 else "fewer paintings, or "
        raise NstError(
            f"{which} about {needed:.0f} MB and {limit:.0f} MB are available; choose {fewer}a smaller --style-size"
            " or --style-scale"
        )
    # Same aspect ratio, smaller: solve estimate(size) = limit for the longer side.
    per_pixel = (alone - _fixed_mb(options)) / (height * width)
    shorter_over_longer = min(height, width) / max(height, width)
    largest = math.floor(math.sqrt(max(0.0, limit - _fixed_mb(options)) / (per_pixel * shorter_over_longer)))
    advice = f"the largest that fits is about --size {largest}" if largest >= 16 else "no size fits"
    raise NstError(f"{max(height, width)} px needs about {needed:.0f} MB and {limit:.0f} MB are available; {advice}")
