"""A photo of 16 bits per channel read at full depth (:func:`open_deep`): TIFF through tifffile,
PNG through imagecodecs (the ``print`` extra), 16-bit grey through Pillow, which reads the
others at 8 bits (:func:`~nst.media.images.open_image`)."""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageCms

from nst.media.images import DEEP_BITS, ImageSource, NstWarning, reading


def open_deep(source: ImageSource) -> np.ndarray | None:
    """A photo file of 16 bits per channel at full depth: uint16 (H, W, 3), upright per its
    orientation tag, transparent parts flattened on white (:func:`open_image_with_alpha` gives
    the alpha). None for a picture of 8 bits or fewer, which :func:`open_image` reads whole.

    Read at full depth: TIFF (tifffile), PNG (imagecodecs, the ``print`` extra) and 16-bit grey
    (Pillow). A 16-bit file whose colours are not sRGB (an embedded profile not named sRGB) is
    read at 8 bits, where Pillow converts its colours, with a note; so is one that cannot be
    decoded here (a compression only imagecodecs reads, without it)."""
    if not isinstance(source, (str, os.PathLike)):
        return None
    with reading(source), Image.open(source) as image:
        image_format, profile = image.format, image.info.get("icc_profile")
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
        bits = _bits_per_channel(source, image)
        grey = np.asarray(image) if bits == DEEP_BITS and image.mode.startswith("I;16") else None
    if bits != DEEP_BITS:
        return None
    if profile and not _named_srgb(profile):
        _read_at_8_bits(source, "its colours are converted to sRGB at 8 bits (its profile is not sRGB)")
        return None
    if grey is not None:
        samples, associated = np.repeat(grey[..., np.newaxis], 3, axis=-1), False
    else:
        try:
            samples, associated = _decode_deep(source, image_format)
        except ImportError:
            _read_at_8_bits(source, "install nst[print] (imagecodecs) to read it whole")
            return None
        except (OSError, ValueError, RuntimeError) as error:
            _read_at_8_bits(source, f"not decodable here ({str(error).splitlines()[0]})")
            return None
    if samples is None:
        return None
    return _upright(_flattened(samples, associated), orientation)


def _bits_per_channel(path: str | os.PathLike, image: Image.Image) -> int:
    """Bits per channel of a PNG (its header's bit depth) or TIFF (BitsPerSample); 8 for other files."""
    if image.format == "PNG":
        with open(path, "rb") as file:
            return file.read(26)[24]  # signature (8), IHDR length and type (8), width, height, bit depth
    if image.format == "TIFF":
        bits = image.tag_v2.get(258, (8,))  # BitsPerSample
        bits = bits if isinstance(bits, tuple) else (bits,)
        return DEEP_BITS if all(value == DEEP_BITS for value in bits) else 8
    return 8


def _named_srgb(profile: bytes) -> bool:
    """Whether an embedded profile says its colours are sRGB (its name): no conversion needed."""
    try:
        return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(profile))).strip().startswith("sRGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        return False


def _read_at_8_bits(path: str | os.PathLike, reason: str) -> None:
    warnings.warn(f"{path}: 16 bits per channel, read at 8: {reason}", NstWarning, stacklevel=3)


def _decode_deep(path: str | os.PathLike, image_format: str) -> tuple[np.ndarray | None, bool]:
    """A 16-bit RGB or RGBA file's samples (H, W, 3 or 4), and whether its alpha is premultiplied;
    (None, False) for a kind of file this does not read (Pillow reads it, at 8 bits)."""
    if image_format == "TIFF":
        import tifffile

        with tifffile.TiffFile(path) as tiff:
            page = tiff.pages.first
            if page.photometric != tifffile.PHOTOMETRIC.RGB:
                return None, False
            samples = page.asarray()
            if page.planarconfig == tifffile.PLANARCONFIG.SEPARATE:
                samples = np.moveaxis(samples, 0, -1)
            associated = tuple(page.extrasamples[:1]) == (tifffile.EXTRASAMPLE.ASSOCALPHA,)
            return samples[..., :4], associated
    import imagecodecs

    samples = imagecodecs.png_decode(Path(path).read_bytes())
    return (samples, False) if samples.ndim == 3 and samples.shape[-1] in (3, 4) else (None, False)


def _flattened(samples: np.ndarray, associated: bool) -> np.ndarray:
    """RGB, or RGBA put on white (its colour premultiplied by alpha when ``associated``), as uint16."""
    if samples.shape[-1] == 3:
        return np.ascontiguousarray(samples, dtype=np.uint16)
    colour = samples[..., :3].astype(np.float32)
    alpha = samples[..., 3:].astype(np.float32) / 65535.0
    white = 65535.0 * (1.0 - alpha)
    on_white = colour + white if associated else colour * alpha + white
    return np.clip(np.rint(on_white), 0, 65535).astype(np.uint16)


# Pillow's ImageOps.exif_transpose, for arrays: orientation tag value -> how the stored pixels turn upright.
_UPRIGHT: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    2: lambda array: array[:, ::-1],
    3: lambda array: array[::-1, ::-1],
    4: lambda array: array[::-1],
    5: lambda array: array.swapaxes(0, 1),
    6: lambda array: np.rot90(array, -1),
    7: lambda array: array[::-1, ::-1].swapaxes(0, 1),
    8: lambda array: np.rot90(array),
}


def _upright(array: np.ndarray, orientation: int) -> np.ndarray:
    turn = _UPRIGHT.get(orientation)
    return array if turn is None else np.ascontiguousarray(turn(array))
