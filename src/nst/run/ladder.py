"""The ladder of a run, planned from its options before it starts: the sizes from coarse to fine,
the steps each size takes, which sizes compile their step with XLA, and the side the paintings
are resized to at each size. Arithmetic on :class:`~nst.options.Options` (which holds the
settings and their checks); no TensorFlow here, so the front ends plan their bars with it.

The numbers the settings' help quotes (the viewing size, the print's step ratio, the steps at the
viewing size, the fewest detail steps) are declared with the settings in :mod:`nst.options`."""

from __future__ import annotations

import math

from nst.options import FEWEST_DETAIL_STEPS, PRINT_STEP_RATIO, STEPS_AT_VIEWING_SIZE, VIEWING_SIZE, Options

# Up to the viewing size the painting ladder may double: its larger sizes start from the smaller
# result enlarged with --enlarge detail, which leaves no lattice (a print's start from bicubic
# enlargements did, hence its 1.8), and three sizes to 512 px cost less than four.
PAINTING_STEP_RATIO = 2.0
# Unless --steps is given, at most this many at the output size, however small it is.
MOST_DEFAULT_STEPS = 100
# Unless --jit-compile is given: XLA compiles a size's step where its planned steps times its side
# squared reach this, 12 steps at 512 px. Compiling costs about 3.5 s a size and saves 12-24% of
# each step (docs/speed.md): at 512 px it pays after 7 to 10 steps, at 128 px only after 170.
XLA_PAYS_AFTER = 12 * VIEWING_SIZE**2


def scale_sizes(options: Options) -> list[int]:
    """Longer sides of the coarse-to-fine ladder, ending at ``size``.

    With ``scales`` given: geometric from ``scale_start``. Unless it is given, by ``ladder``:

    * ``"painting"``: every picture is made from ``scale_start`` up, each size at most
      ``PAINTING_STEP_RATIO`` times the one before (128, 256, 512), because the painting's
      forms are laid down where VGG19's deeper layers see them at the painting's scale.
    * ``"print"`` (nst 0.2): one size.

    Either way a print (over ``2 x VIEWING_SIZE``) continues from the viewing size up, each size
    at most ``PRINT_STEP_RATIO`` times the one before: 512, 861, 1448, 2435, 4096. Not exactly
    twice: an image enlarged exactly twice by bicubic interpolation has a lattice of period
    2 px (grid 1.15 at 512 px), which a dozen steps do not remove."""
    size, start = options.size, options.scale_start
    if options.scales is None:
        viewing = min(size, VIEWING_SIZE) if size > 2 * VIEWING_SIZE else size
        below = _geometric(start, viewing, PAINTING_STEP_RATIO) if options.ladder == "painting" else [viewing]
        return below[:-1] + _geometric(viewing, size, PRINT_STEP_RATIO)
    if options.scales == 1 or size <= start:
        return [size]
    ratio = size / start
    return [round(start * ratio ** (i / (options.scales - 1))) for i in range(options.scales)]


def steps_per_size(options: Options) -> list[int]:
    """The planned steps of each size of the ladder: ``coarse_steps`` at each coarser size and
    :func:`output_steps` at the output's. A print's automatic ladder takes the output's steps
    at the viewing size, where the painting's structure is laid down, and half as many at each
    larger size (at least ``FEWEST_DETAIL_STEPS``), which starts close to its answer and only
    adds detail."""
    sizes = scale_sizes(options)
    if options.scales is not None or sizes[-1] <= 2 * VIEWING_SIZE:
        return [options.coarse_steps] * (len(sizes) - 1) + [output_steps(options)]
    viewing = sizes.index(VIEWING_SIZE)
    steps = output_steps(options, VIEWING_SIZE)
    detail = [max(FEWEST_DETAIL_STEPS, steps >> index) for index in range(1, len(sizes) - viewing)]
    return [options.coarse_steps] * viewing + [steps] + detail


def output_steps(options: Options, side: int | None = None) -> int:
    """``steps``, or unless it is given the default for a picture with longer side ``side``
    (default ``size``): :data:`~nst.options.STEPS_AT_VIEWING_SIZE` at the viewing size, scaled by
    how many times cheaper a step is (64 at 256 px), from FEWEST_DETAIL_STEPS to MOST_DEFAULT_STEPS."""
    if options.steps is not None:
        return options.steps
    scaled = STEPS_AT_VIEWING_SIZE * (VIEWING_SIZE / (side or options.size)) ** 2
    return int(min(MOST_DEFAULT_STEPS, max(FEWEST_DETAIL_STEPS, round(scaled))))


def compiles(options: Options, index: int, tiled: bool = False) -> bool:
    """Whether the ladder's size ``index`` compiles its step with XLA: ``jit_compile``, or
    unless it is given where the size's planned steps make up for the compiling, and where it
    runs in tiles (``tiled``: a tiled size's steps are long)."""
    if options.jit_compile is not None:
        return options.jit_compile
    return tiled or steps_per_size(options)[index] * scale_sizes(options)[index] ** 2 >= XLA_PAYS_AFTER


def painting_side(options: Options, output_side: int | None = None) -> int:
    """Longer side the paintings are resized to: ``style_size`` (else ``size``) times
    ``style_scale``; on a smaller size of the ladder (``output_side``), in proportion."""
    longest = (options.style_size or options.size) * options.style_scale
    return round(longest if output_side is None else longest * output_side / options.size)


def _geometric(start: int, end: int, ratio: float) -> list[int]:
    """Sizes from ``start`` to ``end``, geometric, as few as keep each at most ``ratio`` times the
    one before."""
    if end <= start:
        return [end]
    count = math.ceil(math.log(end / start) / math.log(ratio) - 1e-9) + 1
    return [round(start * (end / start) ** (i / (count - 1))) for i in range(count)]
