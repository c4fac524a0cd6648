"""A run's images: the checks that can fail before anything slow starts, and the photo,
paintings and masks as the run opens them and brings them to each size.

The command line and the web app both call :func:`check_inputs`, so a bad photo, painting or
mask gets the same one-line message in a terminal and in the page. No TensorFlow here.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from nst.media import colors, feedforward
from nst.media.images import (
    ImageSource,
    NstWarning,
    describe,
    load_image,
    open_image,
    open_image_with_alpha,
    peek_image,
    source_list,
    to_array,
)
from nst.media.resizing import fitted_size, resize_longest_side, resize_pixels
from nst.media.sixteen_bit import open_deep
from nst.options import INITS, PRINT_UNITS, Options
from nst.run import ladder
from nst.run.memory import check_memory

# A photo whose shorter side is within this fraction of the print's fills it: what a print shop trims anyway.
PRINT_SHAPE_TOLERANCE = 0.03


def check_inputs(content: str | os.PathLike, styles: Sequence[str | os.PathLike], options: Options) -> None:
    """Raise :class:`nst.NstError` if the images cannot be read or resized as the run will, the
    run would not fit in memory, or the blend weights or style masks do not match the paintings.

    Sizes are checked on the images' headers, by arithmetic, before any image is decoded or
    resized: a size that would need terabytes is refused at once."""
    width, height = fitted_size(peek_image(content)[1], options.size, os.fspath(content), options.side_multiple)
    paintings = [fitted_size(peek_image(path)[1], ladder.painting_side(options), os.fspath(path)) for path in styles]
    check_memory(options, height, width, paintings)
    check_extras(options)
    load_image(content, options.size)
    for path in styles:
        load_image(path, ladder.painting_side(options))
    options.blend_weights(len(styles))
    options.check_style_masks(len(styles))
    other_images = [*(options.style_masks or ()), *([options.mask] if options.mask else [])]
    if options.init not in INITS:
        other_images.append(options.init)
    for path in other_images:
        load_image(path)


def check_extras(options: Options) -> None:
    """Raise :class:`nst.NstError`, one line saying what to install, if the settings need an
    optional extra that is missing: ``fast`` and ``init="fast"`` need ``nst[fast]``."""
    if options.fast or options.init == "fast":
        feedforward.require()


@dataclass
class Inputs:
    """The photo and paintings as given (for the report) and opened, at their own sizes."""

    content: ImageSource
    styles: list[ImageSource]
    photo: Image.Image
    alpha: Image.Image | None  # the photo's transparency, given back with the result
    paintings: list[Image.Image]
    # The photo at 16 bits per channel (uint16), when it has them: the run starts from it and
    # keeps it as its target (``photo`` is its 8-bit copy, for the measures).
    deep_photo: np.ndarray | None = None
    multiple: int = 1  # each side of the picture a multiple of this (Options.side_multiple)

    @property
    def bits(self) -> int:
        """The photo's bits per channel as the run reads it: 16 or 8."""
        return 8 if self.deep_photo is None else 16

    @classmethod
    def open(cls, content: ImageSource, style: ImageSource | Sequence[ImageSource], options: Options) -> Inputs:
        """Opens the images and refuses, before anything is resized or loaded, a run whose
        weights or masks do not match the paintings or whose sizes would not fit in memory."""
        styles = source_list(style)
        photo, alpha = open_image_with_alpha(content)
        paintings = [open_image(source) for source in styles]
        options.blend_weights(len(styles))
        options.check_style_masks(len(styles))
        width, height = fitted_size(photo.size, options.size, describe(content), options.side_multiple)
        painting_sizes = [
            fitted_size(painting.size, ladder.painting_side(options), describe(source))
            for painting, source in zip(paintings, styles, strict=True)
        ]
        check_memory(options, height, width, painting_sizes)
        if options.print is not None:
            note_print_shape(options, describe(content), (width, height))
        return cls(content, styles, photo, alpha, paintings, open_deep(content), options.side_multiple)

    def shapes(self, sizes: list[int], options: Options) -> list[tuple[tuple[int, int], list[tuple[int, int]]]]:
        """For each size of the ladder, by arithmetic: the photo's (height, width) and the
        paintings' (width, height), as :meth:`at_size` will make them."""
        shapes = []
        for index, size in enumerate(sizes):
            width, height = fitted_size(self.photo.size, size, describe(self.content), self.multiple)
            side = ladder.painting_side(options, size)
            paintings = [
                fitted_size(painting.size, painting_side(painting, side, index == 0), describe(source))
                for painting, source in zip(self.paintings, self.styles, strict=True)
            ]
            shapes.append(((height, width), paintings))
        return shapes

    def at_size(self, size: int, side: int, enlarge: bool = True) -> tuple[np.ndarray, list[np.ndarray]]:
        """The photo with ``size`` as its longer side, and the paintings with ``side``;
        without ``enlarge``, a painting smaller than that keeps its own size."""
        if self.deep_photo is None:
            photo = to_array(resize_longest_side(self.photo, size, describe(self.content), self.multiple))
        else:
            width, height = fitted_size(self.photo.size, size, describe(self.content), self.multiple)
            photo = resize_pixels(self.deep_photo, (height, width), Image.Resampling.LANCZOS)
        paintings = [
            to_array(resize_longest_side(painting, painting_side(painting, side, enlarge), describe(source)))
            for painting, source in zip(self.paintings, self.styles, strict=True)
        ]
        return photo, paintings


def note_print_shape(options: Options, name: str, size: tuple[int, int]) -> None:
    """A note when the photo's shape is not the print's (by more than :data:`PRINT_SHAPE_TOLERANCE`):
    the longer printed side is met, and the picture prints that much longer or shorter the other way."""
    longer, shorter = options.print_pixels()
    picture_shorter = min(size)
    if abs(picture_shorter / shorter - 1) <= PRINT_SHAPE_TOLERANCE:
        return
    unit = options.print_unit
    sides = "x".join(f"{side / options.dpi * PRINT_UNITS[unit]:.3g}" for side in size)
    warnings.warn(
        f"{name}: not the print's shape: at {size[0]}x{size[1]} px and {options.dpi} dpi it prints {sides}{unit}, "
        f"not {options.print.strip()}; crop the photo to the print's shape to fill it exactly",
        NstWarning,
        stacklevel=2,
    )


def painting_side(painting: Image.Image, side: int, enlarge: bool) -> int:
    """The longer side a painting is brought to: ``side``, or without ``enlarge`` at most its own."""
    return side if enlarge else min(side, max(painting.size))


def compared_images(
    photo: np.ndarray, paintings: list[np.ndarray], preserve_colors: str | None
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The images the objective compares with, given how the photo's colours are kept."""
    if preserve_colors == "histogram":
        return photo, [colors.match_color_histogram(painting, photo) for painting in paintings]
    if preserve_colors == "luminance":
        return colors.luminance_image(photo), [colors.luminance_image(painting, like=photo) for painting in paintings]
    return photo, paintings


def presented(
    photo: np.ndarray, preserve_colors: str | None, mask: np.ndarray | None
) -> Callable[[np.ndarray], np.ndarray]:
    """What turns the optimised image into the picture shown: under ``luminance`` its
    luminance with the photo's colours; with a mask, the photo where the mask is black."""

    def present(pixels: np.ndarray) -> np.ndarray:
        if preserve_colors == "luminance":
            pixels = colors.with_colors_of(pixels, photo)
        if mask is not None:
            pixels = (mask[..., np.newaxis] * pixels + (1 - mask[..., np.newaxis]) * photo).astype(np.float32)
        return pixels

    return present


def load_mask(source: ImageSource, shape: tuple[int, ...]) -> np.ndarray:
    """A mask image as (H, W) floats in [0, 1] (white 1), stretched to ``shape``'s height and width."""
    grey = open_image(source).convert("L").resize((shape[1], shape[0]), Image.Resampling.BILINEAR)
    return np.asarray(grey, dtype=np.float32) / 255.0


def load_masks(options: Options, shape: tuple[int, ...]) -> tuple[list[np.ndarray] | None, np.ndarray | None]:
    """The style loss's masks (one per painting, one for all, or None) and the --mask region."""
    region = load_mask(options.mask, shape) if options.mask else None
    if options.style_masks:
        return [load_mask(path, shape) for path in options.style_masks], region
    return (None if region is None else [region]), region
