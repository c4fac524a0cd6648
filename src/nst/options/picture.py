"""The settings of the picture made: its size, the paintings' (their size, scale and blend), the
photo's colours and the masks (:class:`PictureSettings`); and a print's or a texture's: the
printed size, its resolution, a picture that wraps around (:class:`PrintSettings`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from nst.errors import NstError
from nst.options.choices import DEFAULT_DPI, PRESERVE_COLORS, PRINT_UNITS
from nst.options.schema import LOSSES, PICTURE_COMMANDS, PRINTS, RUN_COMMANDS, SIZES, setting

# What --print reads: the printed width and height, then one of PRINT_UNITS.
_PRINT_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*[x×]\s*(\d+(?:\.\d+)?)\s*(cm|mm|in)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class PictureSettings:
    """What is painted and how large (fields of :class:`~nst.options.Options`): the output's size,
    the paintings' size, scale and blend, the photo's colours kept, the masks."""

    size: int = setting(
        512,
        "longer side of the output in pixels",
        SIZES,
        PICTURE_COMMANDS,
        kind="int",
        web=True,
        details="The photo is resized to it, its aspect kept.",
    )
    style_size: int | None = setting(
        None, "longer side the painting is resized to (default: --size)", SIZES, PICTURE_COMMANDS, kind="int"
    )
    style_scale: float = setting(
        1.0,
        "resize the painting by this: > 1 bigger strokes, < 1 finer texture",
        SIZES,
        PICTURE_COMMANDS,
        kind="float",
        web=True,
        details="See [control](control.md).",
    )
    style_blend: tuple[float, ...] | None = setting(
        None,
        "one weight per painting, normalised to sum 1 (default equal)",
        LOSSES,
        PICTURE_COMMANDS,
        kind="numbers",
        metavar="W1,W2",
        web=True,
        details="With several paintings (`nst photo.jpg a.jpg b.jpg`).",
    )
    preserve_colors: str | None = setting(
        None,
        "keep the photo's colours: 'luminance' (transfer on luminance only) or 'histogram' (the painting's"
        " colours matched to the photo's first)",
        LOSSES,
        PICTURE_COMMANDS,
        kind="text",
        choices=PRESERVE_COLORS,
        metavar="{luminance,histogram}",
        web=True,
        details="See [control](control.md).",
    )
    mask: str | None = setting(
        None,
        "image: white = stylize, black = keep the photo, grey in between",
        LOSSES,
        PICTURE_COMMANDS,
        kind="text",
        metavar="PATH",
        details="Any size: it is stretched to the output.",
    )
    style_masks: tuple[str, ...] | None = setting(
        None,
        "one mask image per painting: each region takes its own painting's style",
        LOSSES,
        PICTURE_COMMANDS,
        kind="names",
        metavar="M1,M2",
    )

    def blend_weights(self, styles: int) -> tuple[float, ...]:
        """One weight per style image, summing to 1 (equal shares unless ``style_blend`` is given)."""
        weights = self.style_blend or (1.0,) * styles
        if len(weights) != styles:
            raise NstError(f"style_blend has {len(weights)} weights for {styles} style images")
        return tuple(w / sum(weights) for w in weights)

    def check_style_masks(self, styles: int) -> None:
        """One style mask per style image, when style masks are given."""
        if self.style_masks is not None and len(self.style_masks) != styles:
            raise NstError(f"style_masks has {len(self.style_masks)} masks for {styles} style images")


@dataclass(frozen=True)
class PrintSettings:
    """A print's and a texture's settings (fields of :class:`~nst.options.Options`): the printed
    size, which sets ``size``, the resolution written into the file, a picture that wraps around."""

    print: str | None = setting(
        None,
        "the printed size, instead of --size: its longer side times --dpi is the picture's longer side"
        " (30x20cm, 297x210mm, 12x8in)",
        PRINTS,
        RUN_COMMANDS,
        kind="text",
        metavar="WxH{cm,mm,in}",
        details="See [print](print.md).",
    )
    dpi: int = setting(
        DEFAULT_DPI,
        "the resolution written into the file, in dots per inch (TIFF, PNG, JPEG; WebP has none)",
        PRINTS,
        RUN_COMMANDS,
        kind="int",
    )
    tileable: bool = setting(
        False,
        "a texture that wraps around: placed side by side with itself it shows no seam (each side a multiple of 16 px)",
        PRINTS,
        PICTURE_COMMANDS,  # scored as it was made: its features wrap around, and its seam is measured
        kind="switch",
        details="See [print](print.md#tileable-textures).",
    )

    def print_pixels(self) -> tuple[int, int]:
        """The (longer, shorter) sides in pixels of the ``print`` size at ``dpi``: the longer
        printed side sets the picture's longer side (``size``); the photo's shape sets the other."""
        match = _PRINT_SIZE.fullmatch(self.print or "")
        sides = [float(match[1]), float(match[2])] if match else []
        if not (match and min(sides) > 0):
            raise NstError(
                "print must be the printed size as WIDTHxHEIGHT with cm, mm or in (30x20cm, 12x8in),"
                f" got {self.print!r}"
            )
        longer, shorter = (
            round(side / PRINT_UNITS[self.print_unit] * self.dpi) for side in sorted(sides, reverse=True)
        )
        return longer, shorter

    @property
    def print_unit(self) -> str:
        """The unit the ``print`` size is given in: "cm", "mm" or "in"."""
        return _PRINT_SIZE.fullmatch(self.print)[3].lower()
