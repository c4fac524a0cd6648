"""Reading, resizing and writing images. Pixels are float32 RGB arrays in [0, 1], shape (H, W, 3).

Print files: TIFF is written at 16 bits per channel (tifffile: Pillow writes no 16-bit RGB), and
PNG at 16 bits when the photo had them; every format that carries one gets the sRGB profile and
the resolution in dots per inch. A photo of 16 bits per channel is read at full depth
(:func:`open_deep`): TIFF through tifffile, PNG through imagecodecs (the ``print`` extra)."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import math
import os
import struct
import tempfile
import warnings
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import ExifTags, Image, ImageCms, ImageOps, PngImagePlugin, UnidentifiedImageError

from nst.errors import NstError
from nst.options import MIN_SIDE

ImageSource = str | os.PathLike | Image.Image | np.ndarray

# Output formats by file extension, each with the Pillow save options we want for it (TIFF: tifffile's).
OUTPUT_FORMATS: dict[str, tuple[str, dict[str, Any]]] = {
    ".png": ("PNG", {}),
    ".jpg": ("JPEG", {"quality": 95}),
    ".jpeg": ("JPEG", {"quality": 95}),
    ".webp": ("WEBP", {"quality": 95}),
    ".tif": ("TIFF", {}),
    ".tiff": ("TIFF", {}),
}
# The run's parameters: a PNG text chunk of this name, or in a TIFF's ImageDescription (tag 270),
# which every TIFF tool shows, a JSON object with this one key.
METADATA_KEY = "nst:params"
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


def resize_longest_side(image: Image.Image, longest_side: int, name: str = "image", multiple: int = 1) -> Image.Image:
    """Scale ``image`` so that its longer side is ``longest_side`` pixels (each side a ``multiple``
    of that many, see :func:`fitted_size`)."""
    new_size = fitted_size(image.size, longest_side, name, multiple)
    if new_size == image.size:
        return image
    return image.resize(new_size, Image.Resampling.LANCZOS)


def resize_pixels(
    pixels: np.ndarray,
    shape: tuple[int, ...],
    resample: Image.Resampling = Image.Resampling.BICUBIC,
    *,
    wrap: bool = False,
) -> np.ndarray:
    """An image (H, W, 3) in [0, 1] (or uint16, a photo at 16 bits) brought to ``shape``'s height
    and width (bicubic, clipped): by Pillow, channel by channel in float, so that every Keras
    backend starts from the same image.

    With ``wrap`` the image goes on beyond each edge with the opposite one (a tileable texture):
    the filter reads across the edges, so the result wraps around as the image did."""
    size = (shape[1], shape[0])
    height, width = pixels.shape[:2]
    scale = 1.0 / 65535.0 if pixels.dtype == np.uint16 else 1.0
    # Beyond the edge the filter reaches 3 px of the source (Lanczos), more where it shrinks.
    margin = 3 * math.ceil(max(1.0, height / shape[0], width / shape[1])) + 1 if wrap else 0
    box = (margin, margin, margin + width, margin + height) if wrap else None
    channels = []
    for channel in range(3):
        values = np.asarray(pixels[..., channel], np.float32) * np.float32(scale)
        if wrap:
            values = np.pad(values, margin, mode="wrap")
        channels.append(np.asarray(Image.fromarray(values, "F").resize(size, resample, box=box)))
    return np.clip(np.stack(channels, axis=-1), 0.0, 1.0)


def gaussian_blur(pixels: np.ndarray, sigma: float, *, wrap: bool = False) -> np.ndarray:
    """An (H, W, C) image blurred by a Gaussian of ``sigma`` px (mirrored at the edges; with
    ``wrap``, the opposite edge's), one channel and one axis at a time, so that a print's blur
    holds a few of its channels, never several copies of the whole image."""
    if sigma <= 0:
        return np.asarray(pixels, np.float32)
    reach = max(1, math.ceil(3 * sigma))
    kernel = np.exp(-0.5 * (np.arange(-reach, reach + 1) / sigma) ** 2)
    kernel = (kernel / kernel.sum()).astype(np.float32)
    blurred = np.empty(pixels.shape, np.float32)
    for channel in range(pixels.shape[2]):
        plane = np.asarray(pixels[..., channel], np.float32)
        for _ in range(2):  # down the columns, then (transposed) along the rows
            padded = np.pad(plane, ((reach, reach), (0, 0)), mode="wrap" if wrap else "symmetric")
            plane = sum(weight * padded[tap : tap + len(plane)] for tap, weight in enumerate(kernel)).T
        blurred[..., channel] = plane
    return blurred


def enlarged_with_detail(previous: np.ndarray, photo: np.ndarray, *, wrap: bool = False) -> np.ndarray:
    """The start of a ladder's larger size: ``previous`` (the smaller size's result) enlarged to
    ``photo``'s shape, with its interpolation lattice blurred away, plus the photo's own detail
    finer than the smaller size could hold.

    An enlarged picture carries a lattice at the enlargement's period (period 2 for exactly 2x,
    4.76 px for 861 to 4096 px) that a few steps do not remove. A Gaussian of 0.6 times the
    factor takes it out (to 0.08% at its frequency; half the factor left 0.7%, still a visible
    lattice on a textured picture), and what it takes out of the picture, the detail the smaller
    size never had, comes from the photo: G * enlarged + (photo - G * photo). With ``wrap`` (a
    tileable picture) both the enlargement and the blurs run across the wrap-around."""
    sigma = 0.6 * photo.shape[0] / previous.shape[0]
    enlarged = resize_pixels(previous, photo.shape, wrap=wrap)
    detail = photo - gaussian_blur(photo, sigma, wrap=wrap)
    return np.clip(gaussian_blur(enlarged, sigma, wrap=wrap) + detail, 0.0, 1.0)


def fitted_size(size: tuple[int, int], longest_side: int, name: str = "image", multiple: int = 1) -> tuple[int, int]:
    """The (width, height) that :func:`resize_longest_side` gives an image of ``size``, found
    by arithmetic alone, so that a run can be sized up before anything is allocated. With a
    ``multiple``, each side is rounded to the nearest multiple of it (a tileable picture's)."""
    width, height = size
    scale = longest_side / max(width, height)
    new_size = tuple(max(multiple, multiple * round(side * scale / multiple)) for side in (width, height))
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
    with _reading(source), Image.open(source) as image:
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
    *,
    dpi: float | None = None,
    bits: int = 8,
) -> Path:
    """Write the image in the format its extension names, atomically (see :func:`write_atomically`).

    ``metadata`` goes as JSON into a PNG's text chunk named ``nst:params``, or a TIFF's
    ImageDescription. ``alpha`` (the photo's transparency) is kept in PNG and WebP; JPEG and TIFF
    (a print file) have none, so the image is put on white. Every format is tagged sRGB (an ICC
    profile) and, given ``dpi``, with its resolution: TIFF, PNG (pHYs) and JPEG (JFIF) carry one,
    WebP has none. TIFF is written at 16 bits per channel, lossless (deflate); PNG at ``bits``
    (8 or 16); JPEG and WebP hold 8."""
    path = check_output_path(path)
    image_format, save_options = OUTPUT_FORMATS[path.suffix.lower()]
    if image_format == "TIFF" or (image_format == "PNG" and bits == DEEP_BITS):
        values = np.asarray(pixels, np.float32) / 255.0 if isinstance(pixels, Image.Image) else pixels
        write = functools.partial(_write_tiff if image_format == "TIFF" else _write_deep_png, values, alpha,
                                  metadata, dpi)  # fmt: skip
        return write_atomically(path, write)
    image = pixels if isinstance(pixels, Image.Image) else to_pil(pixels)
    if alpha is not None:
        alpha = alpha.resize(image.size, Image.Resampling.LANCZOS)
        if image_format == "JPEG":
            image = Image.composite(image, Image.new("RGB", image.size, "white"), alpha)
        else:
            image = image.copy()
            image.putalpha(alpha)
    save_options = {**save_options, "icc_profile": SRGB_PROFILE}
    if dpi is not None and image_format != "WEBP":
        save_options["dpi"] = (dpi, dpi)
    if image_format == "PNG" and metadata is not None:
        info = PngImagePlugin.PngInfo()
        info.add_text(METADATA_KEY, _metadata_text(metadata))
        save_options["pnginfo"] = info
    return write_atomically(path, lambda file: image.save(file, format=image_format, **save_options))


def _metadata_text(metadata: dict[str, Any]) -> str:
    return json.dumps(metadata, sort_keys=True)  # ASCII: non-ASCII characters are escaped


def _write_tiff(
    pixels: np.ndarray, alpha: Image.Image | None, metadata: dict[str, Any] | None, dpi: float | None, file: BinaryIO
) -> None:
    """16-bit RGB TIFF, deflate with horizontal differencing (lossless; what print shops' software
    reads), the sRGB profile, the resolution in dots per inch and the parameters in ImageDescription."""
    import tifffile  # only a TIFF needs it

    if alpha is not None:  # a print has no transparency: on white, as a print shop would put it
        opacity = _alpha_array(alpha, pixels.shape)[..., np.newaxis]
        pixels = pixels * opacity + (1.0 - opacity)
    description = None if metadata is None else json.dumps({METADATA_KEY: metadata}, sort_keys=True)
    resolution = {} if dpi is None else {"resolution": (dpi, dpi), "resolutionunit": tifffile.RESUNIT.INCH}
    encoded = io.BytesIO()  # tifffile wants a named file, and the temporary one is a descriptor
    tifffile.imwrite(
        encoded, to_uint16(pixels), photometric="rgb", compression="zlib", predictor=True, iccprofile=SRGB_PROFILE,
        description=description, metadata=None, software="nst", **resolution,
    )  # fmt: skip
    file.write(encoded.getbuffer())


def _write_deep_png(
    pixels: np.ndarray, alpha: Image.Image | None, metadata: dict[str, Any] | None, dpi: float | None, file: BinaryIO
) -> None:
    """16-bit RGB (RGBA with ``alpha``) PNG, with the sRGB profile, the resolution and the
    parameters in the same chunks Pillow writes at 8 bits (iCCP, pHYs, tEXt). Pillow writes no
    16-bit RGB PNG; the format is simple enough to write here: each row filtered with "Sub"
    (the difference to the pixel on its left, which compresses a photo well) and deflated."""
    samples = to_uint16(pixels)
    if alpha is not None:
        samples = np.concatenate([samples, to_uint16(_alpha_array(alpha, pixels.shape))[..., np.newaxis]], axis=-1)
    height, width, channels = samples.shape
    rows = samples.astype(">u2").view(np.uint8).reshape(height, width * channels * 2)
    step = channels * 2  # bytes per pixel: Sub subtracts the same byte of the pixel on the left
    filtered = rows.copy()
    filtered[:, step:] -= rows[:, :-step]  # modulo 256, as PNG's filters are
    scanlines = np.concatenate([np.ones((height, 1), np.uint8), filtered], axis=1)  # filter type 1: Sub
    colour_type = 6 if channels == 4 else 2
    file.write(b"\x89PNG\r\n\x1a\n")
    _png_chunk(file, b"IHDR", struct.pack(">IIBBBBB", width, height, DEEP_BITS, colour_type, 0, 0, 0))
    _png_chunk(file, b"iCCP", b"sRGB\0\0" + zlib.compress(SRGB_PROFILE))
    if dpi is not None:
        per_metre = round(dpi / 0.0254)
        _png_chunk(file, b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1))
    if metadata is not None:
        _png_chunk(file, b"tEXt", METADATA_KEY.encode() + b"\0" + _metadata_text(metadata).encode())
    _png_chunk(file, b"IDAT", zlib.compress(scanlines.tobytes(), 6))
    _png_chunk(file, b"IEND", b"")


def _png_chunk(file: BinaryIO, kind: bytes, data: bytes) -> None:
    file.write(struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data)))


def _alpha_array(alpha: Image.Image, shape: tuple[int, ...]) -> np.ndarray:
    """The photo's alpha ("L") at the picture's size, as floats in [0, 1]."""
    return np.asarray(alpha.resize((shape[1], shape[0]), Image.Resampling.LANCZOS), np.float32) / 255.0


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
    """The parameters a PNG or TIFF written by :func:`save_image` carries, or None."""
    with _reading(path), Image.open(path) as image:
        if image.format == "TIFF":
            return _tiff_metadata(image.tag_v2.get(270))  # ImageDescription
        text = image.text.get(METADATA_KEY) if hasattr(image, "text") else None
    return json.loads(text) if text else None


def _tiff_metadata(description: Any) -> dict[str, Any] | None:
    """The parameters in a TIFF's ImageDescription, if it is nst's (another program's is text of its own)."""
    try:
        described = json.loads(description)
    except (TypeError, ValueError):
        return None
    return described.get(METADATA_KEY) if isinstance(described, dict) else None


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
        raise NstError(f"{path}: carries no nst parameters (nst stores them in the PNGs and TIFFs it writes)")
    return params
