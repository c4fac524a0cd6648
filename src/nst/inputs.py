"""The checks of a run's images and options that can fail before anything slow starts.

The command line and the web app both call :func:`check_inputs`, so a bad photo, painting or
mask gets the same one-line message in a terminal and in the page. No TensorFlow here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from nst.images import load_image
from nst.memory import check_memory
from nst.options import INITS, Options


def check_inputs(content: str | os.PathLike, styles: Sequence[str | os.PathLike], options: Options) -> None:
    """Raise :class:`nst.NstError` if the images cannot be read or resized as the run will, the
    run would not fit in memory, or the blend weights or style masks do not match the paintings."""
    height, width = load_image(content, options.size).shape[:2]
    check_memory(options, height, width)
    for path in styles:
        load_image(path, round((options.style_size or options.size) * options.style_scale))
    options.blend_weights(len(styles))
    options.check_style_masks(len(styles))
    other_images = [*(options.style_masks or ()), *([options.mask] if options.mask else [])]
    if options.init not in INITS:
        other_images.append(options.init)
    for path in other_images:
        load_image(path)
