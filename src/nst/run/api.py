"""The library's entry points: :func:`stylize`, :func:`score` and :func:`reproduce`, which
``import nst`` offers as ``nst.stylize`` and so on. Importing this module loads Keras and
TensorFlow (quietly, see :mod:`nst.core`)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from nst.core.objective import Objective, TemporalTarget
from nst.core.optimizers import CompiledSteps
from nst.core.tiles import TiledObjective
from nst.media import colors
from nst.media.images import ImageSource, open_image, source_list, to_array
from nst.media.saving import read_params
from nst.options import Options
from nst.run import ladder, plan
from nst.run.cluster import Workers
from nst.run.fast import stylize_fast
from nst.run.inputs import Inputs, check_extras, compared_images, load_masks
from nst.run.memory import check_memory
from nst.run.progress import Progress, ProgressCallback, TileCallback
from nst.run.report import picture_measures
from nst.run.result import Result
from nst.run.runner import Run
from nst.run.tile_workers import TileWorkers

# TemporalTarget: what a video frame's temporal term compares it with (stylize's ``temporal``);
# CompiledSteps: the compiled steps a clip's frames share (stylize's ``compiled_steps``).
__all__ = [
    "CompiledSteps",
    "Progress",
    "Result",
    "TemporalTarget",
    "TileWorkers",
    "Workers",
    "reproduce",
    "score",
    "stylize",
]


def stylize(
    content: ImageSource,
    style: ImageSource | Sequence[ImageSource],
    options: Options | None = None,
    *,
    callback: ProgressCallback | None = None,
    on_tile: TileCallback | None = None,
    start: np.ndarray | None = None,
    temporal: TemporalTarget | None = None,
    compiled_steps: CompiledSteps | None = None,
    cluster: Workers | TileWorkers | int | str | None = None,
    **settings: Any,
) -> Result:
    """Repaint ``content`` in the style of ``style``.

    ``content`` and ``style`` are paths, PIL images or (H, W, 3) arrays; ``style`` may be a
    list of them, blended by ``style_blend``. Settings are the fields of :class:`nst.Options`,
    given as an ``Options`` or as keywords (``stylize("photo.jpg", "painting.jpg", size=256,
    steps=100)``). ``callback`` is called after every step with a :class:`Progress`. A size too
    large for memory in one piece is run in tiles (``max_memory``, ``tile``, ``halo``); then
    ``on_tile(size, done, passes)`` is called as each tile of a step is done: a step sees each tile
    twice, forward for the losses and then backward for the gradient (sizes count from 1).

    With ``preserve_colors="luminance"`` the optimisation and the report's losses are about
    luminance images; the returned picture has the photo's colours.

    With ``fast=True`` (the extra ``nst[fast]``) the picture is the feed-forward network's alone,
    made in a fraction of a second (:func:`nst.run.fast.stylize_fast`); ``init="fast"`` starts
    the optimisation from it.

    Video frames (:mod:`nst.run.video`) also give ``start``, an (H, W, 3) image the run starts
    from instead of ``init``, and ``temporal``, a term added to the objective at the output
    size; both are in the optimised image's terms (luminance under ``"luminance"``); and
    ``compiled_steps``, where the optimizers keep their compiled steps for the next frame: the
    targets are inputs of a step, so that a clip compiles once per size.

    ``cluster`` runs the tiles of every tiled size on Ray workers (docs/cluster.md): a number of
    workers on a local Ray instance (``cluster=4``), a cluster's address (``"auto"``,
    ``"ray://HOST:10001"``), a :class:`nst.run.cluster.Workers`, or :class:`TileWorkers` already
    started (kept for later calls). The picture is the one this process would make.
    """
    started = plan.clock()
    options = dataclasses.replace(options or Options(), **settings)
    if options.fast:  # the feed-forward network's picture alone, no optimisation
        return stylize_fast(content, style, options)
    check_extras(options)
    inputs = Inputs.open(content, style, options)
    workers = cluster if isinstance(cluster, TileWorkers) else Workers.of(cluster)
    return Run(options, inputs, callback, started, on_tile, start, temporal, compiled_steps, workers).run()


def reproduce(
    path: str | os.PathLike,
    content: ImageSource | None = None,
    style: ImageSource | Sequence[ImageSource] | None = None,
    *,
    callback: ProgressCallback | None = None,
) -> Result:
    """Run again the run that made the PNG at ``path``, from the parameters stored in it.

    The photo and paintings are read from the paths stored, unless given here (if they moved)."""
    params = read_params(path)
    options = Options.for_reproduction(params)
    return stylize(content or params["content"], style or params["style"], options, callback=callback)


def score(
    image: ImageSource,
    content: ImageSource,
    style: ImageSource | Sequence[ImageSource],
    options: Options | None = None,
) -> dict[str, float]:
    """The losses (``content``, ``style``, ``tv``, ``total``) of any image under ``options``,
    and its picture measures (``grid``, ``noise``, ``outliers``, ``outliers_painting``,
    ``lattice``, ``lines``: :func:`nst.run.report.picture_measures`; ``seam`` with ``tileable``),
    each described in :data:`nst.media.measures.MEANINGS`.

    The image is scored at ``options.size`` (its longer side); the photo is resized to the
    image's exact shape so that their features line up. Under ``preserve_colors="luminance"``
    the image's luminance is scored, as the run optimised it. An image that does not fit whole
    in the memory limit (a print) is scored in tiles (``options.tile`` forces them), with a halo
    of at least :data:`SCORE_HALO`, so that its losses are the whole image's."""
    options = options or Options()
    styles = source_list(style)
    scored = Inputs.open(image, styles, options)  # sizes are checked before anything is resized
    pixels, paintings = scored.at_size(options.size, ladder.painting_side(options))
    shown = pixels
    height, width = pixels.shape[:2]
    photo_image = open_image(content)
    photo = to_array(photo_image.resize((width, height), Image.Resampling.LANCZOS))
    target, paintings = compared_images(photo, paintings, options.preserve_colors)
    if options.preserve_colors == "luminance":
        pixels = colors.luminance_image(pixels)
    masks, _ = load_masks(options, photo.shape)
    # A forward pass holds no optimizer state: Adam's estimate, less its moments, bounds it.
    forward, sides = dataclasses.replace(options, optimizer="adam"), [painting.shape[1::-1] for painting in paintings]
    fits = check_memory(forward, height, width, sides)  # refused as a run is, with the size that would fit
    if fits.tile is None:
        objective = Objective(target, paintings, options, masks, painting_tile=fits.painting_tile)
    else:
        halo = max(options.halo, SCORE_HALO)
        objective = TiledObjective(target, paintings, options, masks, tile=fits.tile, halo=halo)
    measured = picture_measures(shown, photo_image, scored.paintings, tileable=options.tileable)
    return {**objective.evaluate(pixels), **measured}


# A halo as wide as block5_conv1 sees: tiles then give the whole image's losses (within 1e-4,
# tested; 2e-7 for nst 0.2's objective in docs/print.md), where a run's default halo trades that
# exactness for speed over many steps.
SCORE_HALO = 96


# The objective the coarse-scale style match is measured with, whatever the run minimised: the
# plain VGG19 with the spec's weights, mean losses (its style loss is almost all block4_conv1's).
PLAIN_OBJECTIVE = {"normalization": "mean", "content_weight": 1e4, "style_weight": 1e-2, "vgg_normalization": "none"}


def coarse_style(
    image: ImageSource, content: ImageSource, style: ImageSource | Sequence[ImageSource], size: int, divisor: int
) -> float:
    """The coarse-scale style match ``coarse/N`` (docs/quality.md): the plain network's style loss
    of the picture at 1/``divisor`` of ``size`` (its longer side) against the painting's at that
    size, over the photo's. Below 1 the picture carries the painting's forms at that scale, not
    only its finest texture; 0 is the painting's own statistics."""
    coarse = Options(size=size // divisor, **PLAIN_OBJECTIVE)
    return score(image, content, style, coarse)["style"] / score(content, content, style, coarse)["style"]
