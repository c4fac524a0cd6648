"""The checks of a run's images and options that can fail before anything slow starts.

The command line and the web app both call :func:`check_inputs`, so a bad photo, painting or
mask gets the same one-line message in a terminal and in the page. No TensorFlow here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from nst.media.images import fitted_size, load_image, peek_image
from nst.memory import check_memory
from nst.options import INITS, Options


def check_inputs(content: str | os.PathLike, styles: Sequence[str | os.PathLike], options: Options) -> None:
    """Raise :class:`nst.NstError` if the images cannot be read or resized as the run will, the
    run would not fit in memory, or the blend weights or style masks do not match the paintings.

    Sizes are checked on the images' headers, by arithmetic, before any image is decoded or
    resized: a size that would need terabytes is refused at once."""
    width, height = fitted_size(peek_image(content)[1], options.size, os.fspath(content))
    paintings = [fitted_size(peek_image(path)[1], options.painting_side(), os.fspath(path)) for path in styles]
    check_memory(options, height, width, paintings)
    load_image(content, options.size)
    for path in styles:
        load_image(path, options.painting_side())
    options.blend_weights(len(styles))
    options.check_style_masks(len(styles))
    other_images = [*(options.style_masks or ()), *([options.mask] if options.mask else [])]
    if options.init not in INITS:
        other_images.append(options.init)
    for path in other_images:
        load_image(path)
