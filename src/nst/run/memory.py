"""Peak memory of a run, known before it starts; and how each size is run within the limit:
the whole image in one VGG19 pass, or in tiles (:mod:`nst.core.tiles`) and with fewer L-BFGS pairs.

The model: TensorFlow with VGG19 loaded and compiled costs a fixed amount, VGG19's forward and
backward activations grow with the pixels it sees at once (the image, or one tile and its halo),
the image-sized arrays of the run (the image, its gradient, the optimizer's state) with the
output's pixels, and L-BFGS keeps 2 x lbfgs_history float32 copies of the image in its pair
buffers. Coefficients measured on this project's CPU machine (peak RSS, docs/speed.md and
docs/print.md); no TensorFlow import here, so the command line can refuse a run at once.

The limit, unless ``max_memory`` says otherwise, is ``$NST_MAX_MEMORY`` (the share of a process
among others: a batch worker's, a container's), else the memory the run's arrays live in: the
host's, or the GPU's once the run has started its backend on one (:func:`device_free_mb`).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import psutil

from nst.errors import NstError
from nst.options import Options

# Fitted to L-BFGS's peak RSS at 512 and 1024 px, less its pairs and _LBFGS_COMPILED_MB (2025 and
# 4079 MB, measured 2026-11-28 with TensorFlow 2.21 on the system's allocator, see nst/__init__.py):
# base + per_pixel x pixels.
_BASE_MB = 1000.0
_PER_PIXEL_MB = 4.04e-3
_FLOAT32_MB = 4 / 2**20
# L-BFGS's peak RSS over Adam's, less its pairs: 334, 315 and 382 MB at 128, 256 and 512 px.
_LBFGS_COMPILED_MB = 330.0
# A tiled size compiles its tile functions with XLA whatever the optimizer (L-BFGS's fit above
# includes it). Runs with Adam in tiles peaked 128 to 268 MB over an estimate without it (128 to
# 1024 px in 96 to 384 px tiles, 2026-12-02; 1860 MB under --max-memory 1800 at 1024 px).
_TILED_ADAM_COMPILED_MB = 270.0
# A tiled run's image-sized float32 RGB arrays besides the optimizer's: the photo and the start,
# the image and the gradient being gathered on the host and on the device.
_TILED_IMAGE_ARRAYS = 8
# A tile worker's: the picture, the photo's content targets both ways, and a crop's gradient being added.
_WORKER_IMAGE_ARRAYS = 4
# The optimizer's, updated op by op (measured alone at 2048 and 4096 px, peak RSS over the bare
# process): L-BFGS holds its state and the new one while it updates, 22 images and 4 a pair (a
# new pair is pushed by copying the pair buffers: 2 images each, old and new; a 4096 px print's
# 1448 px size with 25 pairs went 800 MB over 2 a pair); Keras's Adam the image, its two moments
# and its work, 10.
_LBFGS_ARRAYS = 22
_LBFGS_PAIR_ARRAYS = 4
_ADAM_ARRAYS = 10
# VGG19's forward and backward work per pixel of a crop (both compiled functions' buffers),
# fitted to tiled runs' peaks at 1024 px in 512 px tiles and 2048 px in 512 and 1024 px tiles
# (2731, 3331 and 6698 MB; docs/print.md).
_CROP_PIXEL_MB = 3.6e-3
# Runs are planned to this share of the limit, and at least _MARGIN_MB under it: a margin for the
# estimates' error. What a run costs whatever its size (TensorFlow's runtime, XLA's compilation)
# differs between machines: the same 384 px command peaked at 1594 to 1695 MB here and 1890 MB
# in CI on a machine of the same kind (docs/print.md).
PLANNED_SHARE = 0.9
_MARGIN_MB = 300.0
# TensorFlow runs as many threads as the CPUs it may use, each with its work in flight: the 384 px
# command above peaked 190 to 225 MB higher with 8 threads and 282 MB with 16 than with 2, the
# threads of the machine the coefficients were fitted on.
_PER_THREAD_MB = 20.0
_FITTED_THREADS = 2
# A painting is read, resized and kept as float32 RGB (and 8-bit RGB while it is resized).
_PAINTING_BYTES_PER_PIXEL = 15
# Tiles tried, largest first.
_TILES = (2048, 1536, 1024, 768, 512, 384, 256, 192, 128, 96, 64)
_GOOD_TILE = 512
_FEWEST_PAIRS = 3
# A tiled size keeps L-BFGS pairs for half its steps, and this many where its steps are not known
# (a time budget's print sizes take about a dozen), whatever room is left: in 12 steps 3 to 30
# pairs ended within 4% of each other (docs/print.md), and a pair of a print's 2435 px size is
# 178 MB that the process would hold for nothing. A long tiled run gains from more (a tileable
# texture's seam after 50 steps: 1.14 with 6 pairs, 1.09 with 25).
_MOST_TILED_PAIRS = 6
MEMORY_VARIABLE = "NST_MAX_MEMORY"  # MB this process's runs plan in, unless --max-memory says
_NEVER_FITS = 2**16  # px a side: an image alone would be 48 GB, which no plan is ever given


@dataclass(frozen=True)
class SizePlan:
    """How one size is run: ``tile`` px tiles (None: the whole image at once), the optimizer and
    the L-BFGS pairs it keeps, and the estimated peak memory in MB; ``painting_tile``: the
    paintings' Gram matrices gathered in tiles of that size, where the picture runs whole but a
    painting would not fit whole (a tiled picture's paintings are seen in its tiles)."""

    tile: int | None
    lbfgs_history: int
    estimate_mb: float
    optimizer: str = "lbfgs"
    painting_tile: int | None = None  # a painting larger than the picture, seen in tiles of this size


def estimate_peak_mb(
    options: Options,
    height: int,
    width: int,
    paintings: Sequence[tuple[int, int]] = (),
    painting_tile: int | None = None,
) -> float:
    """Estimated peak resident memory, in MB, of a run whose output is ``height`` x ``width``
    in one VGG19 pass, with paintings of these sizes ((width, height), as Pillow gives them):
    each is kept as an array, and VGG19's activations are those of the largest image it sees (a
    painting's crop, where they are seen in ``painting_tile`` px tiles)."""
    pixels = height * width
    painting_pixels = [painting_width * painting_height for painting_width, painting_height in paintings]
    seen = painting_pixels if painting_tile is None else _crop_pixels(options, painting_tile, paintings)
    estimate = _fixed_mb(options) + _PER_PIXEL_MB * max([pixels, *seen])
    estimate += 3 * _FLOAT32_MB * sum(painting_pixels)
    return estimate + _pairs_mb(options, options.lbfgs_history, pixels)


def estimate_tiled_mb(
    options: Options, height: int, width: int, tile: int, pairs: int, paintings: Sequence[tuple[int, int]] = ()
) -> float:
    """Estimated peak memory, in MB, of a run in ``tile`` px tiles with ``options.optimizer``
    (L-BFGS keeping ``pairs`` pairs); paintings larger than a tile are seen in tiles too."""
    crop, *crops = _crop_pixels(options, tile, [(height, width), *paintings])
    compiled = _TILED_ADAM_COMPILED_MB if options.optimizer == "adam" else 0.0
    estimate = _fixed_mb(options) + compiled + _CROP_PIXEL_MB * max([crop, *crops])
    estimate += _PAINTING_BYTES_PER_PIXEL / 2**20 * sum(side_a * side_b for side_a, side_b in paintings)
    optimizer = _LBFGS_ARRAYS + _LBFGS_PAIR_ARRAYS * pairs if options.optimizer == "lbfgs" else _ADAM_ARRAYS
    return estimate + (_TILED_IMAGE_ARRAYS + optimizer) * 3 * _FLOAT32_MB * height * width


def _crop_pixels(options: Options, tile: int, sides: Sequence[tuple[int, int]]) -> list[int]:
    """The pixels of a crop (``tile`` px and the halo each side) of images with these sides."""
    crop = tile + 2 * options.halo
    return [min(crop, side_a) * min(crop, side_b) for side_a, side_b in sides]


def _pairs_mb(options: Options, pairs: int, pixels: int) -> float:
    if options.optimizer != "lbfgs":
        return 0.0
    return (2 * pairs + 5) * 3 * pixels * _FLOAT32_MB  # the pair buffers (2m images), plus 5


def _fixed_mb(options: Options) -> float:
    """What a run costs whatever its size."""
    threads = _PER_THREAD_MB * max(0, _cpus() - _FITTED_THREADS)
    return _BASE_MB + threads + (_LBFGS_COMPILED_MB if options.optimizer == "lbfgs" else 0.0)


def _cpus() -> int:
    """The CPUs this process may run on: TensorFlow's threads."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def planned_mb(limit: float) -> float:
    """The MB runs are planned to under a limit of ``limit`` MB: the rest is the margin."""
    return min(PLANNED_SHARE * limit, limit - _MARGIN_MB)


def limit_needed_mb(estimate: float) -> float:
    """The limit under which a run estimated at ``estimate`` MB is planned (the inverse of :func:`planned_mb`)."""
    return max(estimate / PLANNED_SHARE, estimate + _MARGIN_MB)


def device_free_mb() -> float | None:
    """The free memory of the GPU a run is on, in MB; None on the CPU, and before a run has
    started its backend (this module loads without one, for the command line's checks)."""
    backend = sys.modules.get("nst.core.backend")
    return None if backend is None else backend.free_device_memory_mb()


def available_mb() -> float:
    """Memory a run can use: the free memory of the GPU it runs on, else what the system can give
    without swapping."""
    free = device_free_mb()
    return psutil.virtual_memory().available / 2**20 if free is None else free


def memory_limit(options: Options) -> float:
    """The MB a run plans in: ``max_memory``, else ``$NST_MAX_MEMORY``, else what is available."""
    if options.max_memory is not None:
        return options.max_memory
    share = os.environ.get(MEMORY_VARIABLE, "").strip()
    if not share:
        return available_mb()
    try:
        limit = float(share)
    except ValueError:
        limit = float("nan")
    if not 0 < limit < float("inf"):
        raise NstError(f"{MEMORY_VARIABLE} must be a number of MB > 0, got {share!r}")
    return limit


def plan_size(
    options: Options,
    height: int,
    width: int,
    paintings: Sequence[tuple[int, int]] = (),
    steps: int | None = None,
) -> SizePlan | None:
    """How a ``height`` x ``width`` size fits in the memory limit (``max_memory``, else what is
    available), or None if it does not. The whole image in one pass where it fits (unless
    ``tile`` is set); else the largest tile that fits, with as many of L-BFGS's pairs as fit
    beside it, at most one for every two steps (6 where the steps are not known), down to 3: a
    small tile repeats much of its halo, and pairs beyond a few cost memory and nothing measurable
    in the dozen steps of a print's larger sizes (docs/print.md). Where that leaves L-BFGS only
    tiles under 512 px, Adam, if it fits a larger one.

    A size that takes ``steps`` steps never holds more pairs than that (one per step at most),
    so it keeps no room for more: the same steps, in less memory."""
    limit = planned_mb(memory_limit(options))
    history = options.lbfgs_history if steps is None else max(1, min(options.lbfgs_history, steps))
    if options.tile is None:
        whole_options = dataclasses.replace(options, lbfgs_history=history)
        whole = estimate_peak_mb(whole_options, height, width, paintings)
        if whole <= limit:
            return SizePlan(None, history, whole, options.optimizer)
        # The picture fits whole, a painting larger than it does not: the painting in tiles.
        for tile in [tile for tile in _TILES if any(max(sides) > tile for sides in paintings)]:
            whole = estimate_peak_mb(whole_options, height, width, paintings, painting_tile=tile)
            if whole <= limit:
                return SizePlan(None, history, whole, options.optimizer, painting_tile=tile)
    tiles = (
        [options.tile]
        if options.tile is not None
        else [tile for tile in _TILES if tile < max(height, width)] or [_TILES[-1]]
    )
    adam_options = dataclasses.replace(options, optimizer="adam")
    if options.optimizer == "adam":
        return _largest_tile(adam_options, height, width, paintings, tiles, [history], limit)
    most = min(history, _MOST_TILED_PAIRS if steps is None else max(_MOST_TILED_PAIRS, steps // 2))
    pairs = range(most, min(most, _FEWEST_PAIRS) - 1, -1)
    lbfgs = _largest_tile(options, height, width, paintings, tiles, pairs, limit)
    if lbfgs is None or lbfgs.tile < min(_GOOD_TILE, tiles[0]):
        # Where L-BFGS's state leaves room only for small tiles (each repeating much of its halo),
        # Adam's, a third of it: 2.2 times L-BFGS's objective after 12 detail steps (docs/print.md).
        adam = _largest_tile(adam_options, height, width, paintings, tiles, [history], limit)
        if adam is not None and (lbfgs is None or adam.tile > lbfgs.tile):
            return adam
    return lbfgs


def _largest_tile(
    options: Options,
    height: int,
    width: int,
    paintings: Sequence[tuple[int, int]],
    tiles: Sequence[int],
    pairs_choices: Sequence[int],
    limit: float,
) -> SizePlan | None:
    """The largest tile that fits in ``limit`` MB with ``options.optimizer``, with as many pairs as fit beside it."""
    for tile in tiles:
        for pairs in pairs_choices:
            estimate = estimate_tiled_mb(options, height, width, tile, pairs, paintings)
            if estimate <= limit:
                return SizePlan(tile, pairs, estimate, options.optimizer)
    return None


def least_mb(options: Options, height: int, width: int, paintings: Sequence[tuple[int, int]] = ()) -> float:
    """The least memory any plan needs at this size."""
    tile = options.tile or _TILES[-1]
    pairs = options.lbfgs_history if options.tile is not None else min(options.lbfgs_history, _FEWEST_PAIRS)
    tiled = estimate_tiled_mb(options, height, width, tile, pairs, paintings)
    if options.tile is not None:
        return tiled
    return min(tiled, estimate_peak_mb(options, height, width, paintings, painting_tile=_TILES[-1]))


def check_memory(options: Options, height: int, width: int, paintings: Sequence[tuple[int, int]] = ()) -> SizePlan:
    """Refuse a run that would not fit even in tiles, saying the largest size that would; returns
    its plan. Arithmetic only: sizes that would need terabytes are refused at once."""
    plan = plan_size(options, height, width, paintings)
    if plan is not None:
        return plan
    limit = memory_limit(options)
    needed = limit_needed_mb(least_mb(options, height, width, paintings))
    if plan_size(options, height, width) is not None:  # the output would fit: the paintings are what does not
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
    largest = _largest_side(options, height, width)
    advice = f"the largest that fits is about --size {largest}" if largest >= 16 else "no size fits"
    raise NstError(f"{max(height, width)} px needs about {needed:.0f} MB and {limit:.0f} MB are available; {advice}")


def largest_size(options: Options) -> int:
    """The largest ``--size`` that fits in the memory limit whatever the photo's shape (a square
    one has the most pixels for its side), in tiles where the whole picture does not fit: what
    the web app offers."""
    return _largest_side(options, _NEVER_FITS, _NEVER_FITS)


def _largest_side(options: Options, height: int, width: int) -> int:
    """The longest side, same shape, whose output alone fits (a bisection over the plans)."""
    longer = max(height, width)

    def fits(side: int) -> bool:
        scale = side / longer
        return plan_size(options, max(1, round(height * scale)), max(1, round(width * scale))) is not None

    low, high = 0, longer  # fits(low) or low == 0; not fits(high)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return low


def kept_activations_mb(crop: tuple[int, int], picture: tuple[int, ...], share_mb: float) -> float:
    """What a tile worker with ``share_mb`` MB may keep of a step's activations between its two
    passes (:class:`nst.core.tile_passes.TilePasses`): its share less its own peak, one ``crop`` at a
    time over a ``picture`` (H, W, ...), planned as a run is (:func:`planned_mb`)."""
    own = _BASE_MB + _TILED_ADAM_COMPILED_MB + _CROP_PIXEL_MB * crop[0] * crop[1]
    own += _WORKER_IMAGE_ARRAYS * 3 * _FLOAT32_MB * picture[0] * picture[1]
    return max(0.0, planned_mb(share_mb) - own)
