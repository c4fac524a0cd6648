"""Each size of the ladder before its steps run: the image it starts from (the checkpoint's, a
clip's frame, the initial image ``--init`` names, or the smaller size's picture enlarged as
``--enlarge`` says) and the work of one of its steps, which the plan measures a step's cost in.
No TensorFlow here: the runner (:mod:`~nst.run.runner`) calls these for each size."""

from __future__ import annotations

import numpy as np
from PIL import Image

from nst.media.images import open_image, to_array
from nst.media.resizing import enlarged_with_detail, resize_pixels
from nst.media.tiling import Tiling
from nst.options import Options
from nst.run.checkpoints import Checkpoint, resumed_image
from nst.run.fast import start_image
from nst.run.memory import SizePlan


def starting_image(
    target: np.ndarray,
    paintings: list[np.ndarray],
    options: Options,
    resumed: Checkpoint | None,
    previous: np.ndarray | None,
    given: np.ndarray | None,
) -> np.ndarray:
    """Where a size starts: the image of ``resumed`` (the checkpoint, when it was made at this
    size), ``given`` (a video frame's, nst.run.video) or the initial image where no smaller size
    ran before it, or the smaller size's picture (``previous``) enlarged."""
    if resumed is not None:
        return resumed_image(resumed, options, target.shape)
    if previous is None and given is not None:
        return resize_pixels(given, target.shape, wrap=options.tileable)
    if previous is None:
        return _initial_image(target, paintings, options)
    return enlarged(previous, target, options)


def _initial_image(content: np.ndarray, styles: list[np.ndarray], options: Options) -> np.ndarray:
    if options.init == "content":
        return content.copy()
    if options.init == "noise":
        return np.random.default_rng(options.seed).uniform(0.0, 1.0, content.shape).astype(np.float32)
    if options.init == "fast":
        return start_image(content, styles, options)
    if options.init == "style-mean":
        blend = options.blend_weights(len(styles))
        color = sum(weight * painting.mean(axis=(0, 1)) for weight, painting in zip(blend, styles, strict=True))
        return np.broadcast_to(color, content.shape).astype(np.float32)
    height, width = content.shape[:2]  # an image file, stretched to the output's shape
    return to_array(open_image(options.init).resize((width, height), Image.Resampling.LANCZOS))


def enlarged(previous: np.ndarray, target: np.ndarray, options: Options) -> np.ndarray:
    """A smaller size's picture at ``target``'s size: how the next size starts, and the result
    when the budget dropped the larger sizes."""
    # A tileable picture is enlarged as the texture it is, across its wrap-around.
    if options.enlarge == "detail":
        return enlarged_with_detail(previous, target, wrap=options.tileable)
    return resize_pixels(previous, target.shape, wrap=options.tileable)


def step_work(options: Options, memory: SizePlan | None, shape: tuple[int, int]) -> float:
    """The pixels VGG19 goes through in one step: the image's; in tiles, each tile's crop twice,
    forward for the sums and then forward and backward (a forward pass costs about a third)."""
    if memory is None or memory.tile is None:
        return float(shape[0] * shape[1])
    tiling = Tiling(shape, memory.tile, options.halo, options.alignment, wrap=options.tileable)
    return 4 / 3 * len(tiling) * tiling.crop[0] * tiling.crop[1]
