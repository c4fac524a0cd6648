"""Reading images and converting them. Pixels are float32 RGB arrays in [0, 1], shape (H, W, 3).

Every picture is read upright (its orientation tag), in sRGB, transparent parts flattened on
white. The sRGB profile nst writes into its files (:mod:`~nst.media.saving`) is made here, so
that reading them back knows it and converts nothing. Resizing: :mod:`~nst.media.resizing`; a
photo of 16 bits per channel at full depth: :mod:`~nst.media.sixteen_bit`."""

from __future__ import annotations

import contextlib
import io
import os
import struct
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from nst.errors import NstError
from nst.media.resizing import resize_longest_side

ImageSource = str | os.PathLike | Image.Image | np.ndarray

_SRGB = ImageCms.createProfile("sRGB")
# Where a TIFF or PNG written at 16 bits per channel keeps 65535 levels; the others keep 255.
DEEP_BITS = 16


def _srgb_profile() -> bytes:
    """Pillow's built-in sRGB profile (LittleCMS's, "No copyright, use freely": nothing to ship),
    with the creation date in its header (bytes 24 to 36) fixed, so that the same picture always
    gives the same file. The profile carries no checksum (its ID is zero) that the date would break."""
    profile = bytearray(ImageCms.ImageCmsProfile(_SRGB).tobytes())
    profile[24:36] = struct.pack(">6H", 2025, 1, 1, 0, 0, 0)
    return bytes(profile)


SRGB_PROFILE = _srgb_profile()


class NstWarning(UserWarning):
    """Something about an input the user should know, though the run goes on."""


def open_image(source: ImageSource) -> Image.Image:
    """An image (path, PIL image or array) as an RGB PIL image, upright per its EXIF tag, in
    sRGB, transparent parts flattened on white."""
    return open_image_with_alpha(source)[0]


def open_image_with_alpha(source: ImageSource) -> tuple[Image.Image, Image.Image | None]:
    """:func:`open_image`, and the image's alpha channel ("L") when it has a non-opaque one."""
    if isinstance(source, (str, os.PathLike)):
        return _open(source)
    return _normalize(source) if isinstance(source, Image.Image) else (_from_array(source), None)


def load_image(source: ImageSource, longest_side: int | None = None) -> np.ndarray:
    """Read an image as RGB in [0, 1], resized so its longer side is ``longest_side``
    (aspect ratio kept; Lanczos) when given."""
    image = open_image(source)
    if longest_side is not None:
        image = resize_longest_side(image, longest_side, name=describe(source))
    return to_array(image)


def to_array(image: Image.Image) -> np.ndarray:
    """An 8-bit RGB PIL image as float32 (H, W, 3) in [0, 1]."""
    return np.asarray(image, dtype=np.float32) / 255.0


def _open(path: str | os.PathLike) -> tuple[Image.Image, Image.Image | None]:
    with reading(path), Image.open(path) as image:
        if getattr(image, "is_animated", False):
            warnings.warn(f"{path}: animated; using its first frame", NstWarning, stacklevel=3)
        return _normalize(ImageOps.exif_transpose(image))


@contextlib.contextmanager
def reading(path: str | os.PathLike) -> Iterator[None]:
    """Turns whatever reading ``path`` with Pillow raises into one clear NstError."""
    try:
        if Path(path).is_file() and Path(path).stat().st_size == 0:
            raise NstError(f"{path}: empty file, not an image")
        with warnings.catch_warnings():
            # Pillow only warns between its pixel limit and twice it; refuse there too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except FileNotFoundError:
        raise NstError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise NstError(f"{path}: is a folder, not an image") from None
    except PermissionError:
        raise NstError(f"{path}: permission denied") from None
    except UnidentifiedImageError:
        raise NstError(f"{path}: not an image Pillow can read") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise NstError(f"{path}: refused, too many pixels ({error})") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as error:  # IndexError: Pillow on broken GIFs
        raise NstError(f"{path}: cannot read image ({error})") from None


def _normalize(image: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """Any Pillow image as 8-bit sRGB RGB (transparency flattened on white) and its alpha."""
    image = _to_srgb(image)
    if image.mode.startswith("I") or image.mode == "F":  # 16- and 32-bit greyscale
        array = np.asarray(image, dtype=np.float64)
        array = array / 257.0 if array.max() > 255 else array
        image = Image.fromarray(np.clip(np.rint(array), 0, 255).astype(np.uint8), "L")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        alpha = rgba.getchannel("A")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        flattened = Image.alpha_composite(white, rgba).convert("RGB")
        return flattened, None if alpha.getextrema() == (255, 255) else alpha
    return image.convert("RGB"), None


def _to_srgb(image: Image.Image) -> Image.Image:
    """Colours converted from the image's embedded ICC profile, if any, to sRGB."""
    profile = image.info.get("icc_profile")
    if not profile or image.mode not in ("RGB", "RGBA", "CMYK") or _is_ours(profile):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(image, source, _SRGB, outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a broken profile: the pixels as they are beat no picture


def _is_ours(profile: bytes) -> bool:
    """Whether an embedded profile is the sRGB one nst writes (whatever its date): nothing to convert."""
    return len(profile) == len(SRGB_PROFILE) and profile[:24] + profile[36:] == SRGB_PROFILE[:24] + SRGB_PROFILE[36:]


def _from_array(source: np.ndarray) -> Image.Image:
    array = np.asarray(source)
    if array.ndim != 3 or array.shape[-1] != 3:
        raise NstError(f"an image array must have shape (height, width, 3), got {array.shape}")
    if array.dtype != np.uint8:
        array = to_uint8(array)
    return Image.fromarray(array, "RGB")


def describe(source: ImageSource) -> str:
    """How an image source is named in messages and reports."""
    return os.fspath(source) if isinstance(source, (str, os.PathLike)) else f"<{type(source).__name__}>"


def source_list(sources: ImageSource | Sequence[ImageSource]) -> list[ImageSource]:
    """One image source or several (a list or tuple, as the paintings are given) as a list."""
    return list(sources) if isinstance(sources, (list, tuple)) else [sources]


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """[0, 1] floats to 8-bit pixels, rounding to the nearest level."""
    return np.clip(np.rint(np.asarray(pixels, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)


def to_uint16(pixels: np.ndarray) -> np.ndarray:
    """[0, 1] floats to 16-bit pixels, rounding to the nearest level."""
    return np.clip(np.rint(np.asarray(pixels, dtype=np.float64) * 65535.0), 0, 65535).astype(np.uint16)


def to_pil(pixels: np.ndarray) -> Image.Image:
    """A float [0, 1] (H, W, 3) array as an 8-bit RGB PIL image."""
    return Image.fromarray(to_uint8(pixels), "RGB")


def peek_image(path: str | os.PathLike) -> tuple[str, tuple[int, int]]:
    """An image file's format (Pillow's name, e.g. ``"JPEG"``) and size, read from its header
    alone, so that a server can refuse a type or a pixel count before decoding anything; the
    errors are :func:`load_image`'s."""
    with reading(path), Image.open(path) as image:
        return image.format or "", image.size
