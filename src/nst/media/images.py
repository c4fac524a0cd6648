"""Reading, resizing and writing images. Pixels are float32 RGB arrays in [0, 1], shape (H, W, 3)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image, ImageCms, ImageOps, PngImagePlugin, UnidentifiedImageError

from nst.errors import NstError
from nst.options import MIN_SIDE

ImageSource = str | os.PathLike | Image.Image | np.ndarray

# Output formats by file extension, each with the Pillow save options we want for it.
OUTPUT_FORMATS: dict[str, tuple[str, dict[str, Any]]] = {
    ".png": ("PNG", {}),
    ".jpg": ("JPEG", {"quality": 95}),
    ".jpeg": ("JPEG", {"quality": 95}),
    ".webp": ("WEBP", {"quality": 95}),
}
METADATA_KEY = "nst:params"
_SRGB = ImageCms.createProfile("sRGB")


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


def resize_longest_side(image: Image.Image, longest_side: int, name: str = "image") -> Image.Image:
    """Scale ``image`` so that its longer side is ``longest_side`` pixels."""
    new_size = fitted_size(image.size, longest_side, name)
    if new_size == image.size:
        return image
    return image.resize(new_size, Image.Resampling.LANCZOS)


def resize_pixels(pixels: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """An image (H, W, 3) in [0, 1] brought to ``shape``'s height and width (bicubic, clipped): by
    Pillow, channel by channel in float, so that every Keras backend starts from the same image."""
    size = (shape[1], shape[0])
    channels = [Image.fromarray(pixels[..., channel]).resize(size, Image.Resampling.BICUBIC) for channel in range(3)]
    return np.clip(np.stack([np.asarray(channel) for channel in channels], axis=-1), 0.0, 1.0)


def fitted_size(size: tuple[int, int], longest_side: int, name: str = "image") -> tuple[int, int]:
    """The (width, height) that :func:`resize_longest_side` gives an image of ``size``, found
    by arithmetic alone, so that a run can be sized up before anything is allocated."""
    width, height = size
    scale = longest_side / max(width, height)
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if min(new_size) < MIN_SIDE:
        raise NstError(
            f"{name}: {width}x{height} is too narrow: at {longest_side} px its shorter side would be "
            f"{min(new_size)} px, and VGG19 needs at least {MIN_SIDE}"
        )
    return new_size


def _open(path: str | os.PathLike) -> tuple[Image.Image, Image.Image | None]:
    with _reading(path), Image.open(path) as image:
        if getattr(image, "is_animated", False):
            warnings.warn(f"{path}: animated; using its first frame", NstWarning, stacklevel=3)
        return _normalize(ImageOps.exif_transpose(image))


@contextlib.contextmanager
def _reading(path: str | os.PathLike) -> Iterator[None]:
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
    if not profile or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(image, source, _SRGB, outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a broken profile: the pixels as they are beat no picture


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


def to_pil(pixels: np.ndarray) -> Image.Image:
    """A float [0, 1] (H, W, 3) array as an 8-bit RGB PIL image."""
    return Image.fromarray(to_uint8(pixels), "RGB")


def check_output_path(path: str | os.PathLike) -> Path:
    """Fail before a long run, not after it: the extension must be a format we write and the
    folder must exist and be writable."""
    path = Path(path)
    if path.suffix.lower() not in OUTPUT_FORMATS:
        raise NstError(
            f"{path}: unknown output format {path.suffix or '(none)'!r}; use one of {', '.join(OUTPUT_FORMATS)}"
        )
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise NstError(f"{path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise NstError(f"{path}: folder {folder} is not writable")
    if path.is_dir():
        raise NstError(f"{path}: is a folder")
    return path


def check_writable(path: str | os.PathLike, what: str = "the picture") -> Path:
    """Create and remove a file in ``path``'s folder, so that a folder that refuses files (a
    read-only disk, /proc, a full quota) fails now, not after a long run."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        descriptor, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=folder)
    except OSError as error:
        raise NstError(f"{path}: cannot write {what} there ({error.strerror or error})") from None
    os.close(descriptor)
    os.unlink(probe)
    return path


def save_image(
    pixels: np.ndarray | Image.Image,
    path: str | os.PathLike,
    metadata: dict[str, Any] | None = None,
    alpha: Image.Image | None = None,
) -> Path:
    """Write the image in the format its extension names, atomically (see :func:`write_atomically`).
    PNG files carry ``metadata`` as JSON in a text chunk named ``nst:params``. ``alpha`` (the
    photo's transparency) is kept in PNG and WebP; JPEG has none, so the image is put on white."""
    path = check_output_path(path)
    image = pixels if isinstance(pixels, Image.Image) else to_pil(pixels)
    image_format, save_options = OUTPUT_FORMATS[path.suffix.lower()]
    if alpha is not None:
        alpha = alpha.resize(image.size, Image.Resampling.LANCZOS)
        if image_format == "JPEG":
            image = Image.composite(image, Image.new("RGB", image.size, "white"), alpha)
        else:
            image = image.copy()
            image.putalpha(alpha)
    save_options = dict(save_options)
    if image_format == "PNG" and metadata is not None:
        info = PngImagePlugin.PngInfo()
        info.add_text(METADATA_KEY, json.dumps(metadata, sort_keys=True))
        save_options["pnginfo"] = info
    return write_atomically(path, lambda file: image.save(file, format=image_format, **save_options))


def write_json(path: str | os.PathLike, value: Any) -> Path:
    """``value`` as indented JSON at ``path``, atomically (:func:`write_atomically`)."""
    text = json.dumps(value, indent=2) + "\n"
    return write_atomically(Path(path), lambda file: file.write(text.encode()))


def output_name(photo: str | os.PathLike, paintings: Sequence[str | os.PathLike]) -> str:
    """What a picture is called unless told: ``PHOTO-PAINTING.png``, every painting's name in turn."""
    return "-".join(Path(path).stem for path in [photo, *paintings]) + ".png"


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> Path:
    """Run ``write`` on a temporary file in the target's folder, then rename it over ``path``,
    so that a failure never leaves a half-written file."""
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as error:
        raise NstError(f"{path}: cannot write ({error.strerror or error})") from None
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        # mkstemp creates the file private (0600); give it the mode a normal new file gets.
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise NstError(f"{path}: cannot write ({error.strerror or error})") from None
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_metadata(path: str | os.PathLike) -> dict[str, Any] | None:
    """The parameters a PNG written by :func:`save_image` carries, or None."""
    with _reading(path), Image.open(path) as image:
        text = image.text.get(METADATA_KEY) if hasattr(image, "text") else None
    return json.loads(text) if text else None


def peek_image(path: str | os.PathLike) -> tuple[str, tuple[int, int]]:
    """An image file's format (Pillow's name, e.g. ``"JPEG"``) and size, read from its header
    alone, so that a server can refuse a type or a pixel count before decoding anything; the
    errors are :func:`load_image`'s."""
    with _reading(path), Image.open(path) as image:
        return image.format or "", image.size


def read_params(path: str | os.PathLike) -> dict[str, Any]:
    """The parameters of the run that made ``path``; a clear error if it carries none."""
    params = read_metadata(path)
    if params is None:
        raise NstError(f"{path}: carries no nst parameters (nst stores them in the PNGs it writes)")
    return params
