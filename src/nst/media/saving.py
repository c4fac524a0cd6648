"""Writing pictures (and JSON) atomically, the checks of an output path before a long run, and
reading back the run's parameters that a picture carries.

Print files: TIFF is written at 16 bits per channel (tifffile: Pillow writes no 16-bit RGB), and
PNG at 16 bits when the photo had them; every format that carries one gets the sRGB profile and
the resolution in dots per inch."""

from __future__ import annotations

import functools
import io
import json
import os
import struct
import tempfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image, PngImagePlugin

from nst.errors import NstError
from nst.media.images import DEEP_BITS, SRGB_PROFILE, reading, to_pil, to_uint16

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
    with reading(path), Image.open(path) as image:
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


def read_params(path: str | os.PathLike) -> dict[str, Any]:
    """The parameters of the run that made ``path``; a clear error if it carries none."""
    params = read_metadata(path)
    if params is None:
        raise NstError(f"{path}: carries no nst parameters (nst stores them in the PNGs and TIFFs it writes)")
    return params
