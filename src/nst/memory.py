"""Peak memory of a run, known before it starts, and the check against what the machine has.

The model: TensorFlow with VGG19 loaded and compiled costs a fixed amount, VGG19's forward and
backward activations grow with the output's pixels, and L-BFGS keeps 2 x lbfgs_history
float64 copies of the image (and a few more). Coefficients measured on this project's CPU
machine (peak RSS, see the README's table); no TensorFlow import here, so the command line can
refuse a too-large run at once.
"""

from __future__ import annotations

import math

import psutil

from nst.errors import NstError
from nst.options import Options

# Fitted to Adam's peak RSS at 256 and 512 px (1185 and 1756 MB): base + per_pixel x pixels.
_BASE_MB = 995.0
_PER_PIXEL_MB = 4.36e-3
_FLOAT64_MB = 8 / 2**20


def estimate_peak_mb(options: Options, height: int, width: int) -> float:
    """Estimated peak resident memory, in MB, of a run whose output is ``height`` x ``width``."""
    pixels = height * width
    estimate = _BASE_MB + _PER_PIXEL_MB * pixels
    if options.optimizer == "lbfgs":  # its curvature pairs (2m vectors of 3 values per pixel), plus 5
        estimate += (2 * options.lbfgs_history + 5) * 3 * pixels * _FLOAT64_MB
    return estimate


def available_mb() -> float:
    """Memory the system can give without swapping."""
    return psutil.virtual_memory().available / 2**20


def check_memory(options: Options, height: int, width: int) -> float:
    """Refuse a run that would not fit, saying the largest size that would; returns the estimate."""
    limit = options.max_memory if options.max_memory is not None else available_mb()
    needed = estimate_peak_mb(options, height, width)
    if needed <= limit:
        return needed
    # Same aspect ratio, smaller: solve estimate(size) = limit for the longer side.
    per_pixel = (needed - _BASE_MB) / (height * width)
    shorter_over_longer = min(height, width) / max(height, width)
    largest = math.floor(math.sqrt(max(0.0, limit - _BASE_MB) / (per_pixel * shorter_over_longer)))
    advice = f"the largest that fits is about --size {largest}" if largest >= 16 else "no size fits"
    raise NstError(f"{max(height, width)} px needs about {needed:.0f} MB and {limit:.0f} MB are available; {advice}")
