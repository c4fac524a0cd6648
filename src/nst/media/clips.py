"""Reading and writing video clips as frames: MP4, MOV, WebM... through the ffmpeg that
imageio-ffmpeg ships in its wheel (``pip install 'nst[video]'``), GIF and animated WebP through
Pillow, or a folder of numbered frames. Frames are (H, W, 3) uint8 arrays at the run's size."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageSequence, UnidentifiedImageError

from nst.errors import NstError
from nst.media.animations import save_animation
from nst.media.images import peek_image
from nst.media.resizing import fitted_size

FFMPEG_INPUTS = (".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v")
PILLOW_INPUTS = (".gif", ".webp")
FRAME_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
OUTPUTS = (".mp4", ".gif", ".webp")  # or a folder of PNG frames: a path without a suffix
FOLDER_FPS = 10.0  # a folder of frames has no frame rate of its own: --fps, else this
INSTALL = "pip install 'nst[video]'"


@dataclass(frozen=True)
class ClipInfo:
    """What a clip is, read from its header (ffmpeg's, Pillow's) or its folder without decoding
    the frames: its frame count, its size at the run's ``size`` (width, height), frame rate
    and whether it has an audio track."""

    path: Path
    frames: int
    size: tuple[int, int]
    fps: float
    audio: bool


def probe_clip(path: str | os.PathLike, size: int, max_frames: int | None = None, fps: float | None = None) -> ClipInfo:
    """The clip's :class:`ClipInfo`; one clear :class:`NstError` for anything unreadable."""
    path = Path(path)
    if path.is_dir():
        files = frame_files(path)
        source_size, rate, count, audio = peek_image(files[0])[1], FOLDER_FPS, len(files), False
    elif not path.exists():
        raise NstError(f"{path}: no such file")
    elif path.suffix.lower() in PILLOW_INPUTS:
        source_size, rate, count = _pillow_header(path)
        audio = False
    elif path.suffix.lower() in FFMPEG_INPUTS:
        metadata = _ffmpeg_header(path)
        source_size, rate, audio = metadata["size"], float(metadata["fps"]), "audio_codec" in metadata
        count = max(1, round(float(metadata.get("duration") or 0) * rate))
    else:
        known = ", ".join(FFMPEG_INPUTS + PILLOW_INPUTS)
        raise NstError(f"{path}: unknown video format {path.suffix or '(none)'!r}; use one of {known} or a folder")
    if max_frames is not None:
        count = min(count, max_frames)
    return ClipInfo(path, count, fitted_size(source_size, size, str(path)), fps or rate, audio)


def read_frames(info: ClipInfo) -> list[np.ndarray]:
    """The clip's frames (at most ``info.frames``) at ``info.size``; a clip that ends early or
    breaks in the middle is one clear :class:`NstError`."""
    if info.path.is_dir():
        sources: Iterator[Image.Image] = (Image.open(file) for file in frame_files(info.path))
    elif info.path.suffix.lower() in PILLOW_INPUTS:
        sources = _pillow_frames(info.path)
    else:
        sources = _ffmpeg_frames(info.path)
    frames = []
    try:
        for source in sources:
            frames.append(np.asarray(source.convert("RGB").resize(info.size, Image.Resampling.LANCZOS)))
            if len(frames) == info.frames:
                break
    except (OSError, RuntimeError, ValueError, UnidentifiedImageError) as error:
        raise NstError(f"{info.path}: cannot decode frame {len(frames) + 1} ({_first_line(error)})") from None
    finally:
        if hasattr(sources, "close"):
            sources.close()
    if not frames:
        raise NstError(f"{info.path}: no frames could be decoded")
    return frames


def frame_files(folder: Path) -> list[Path]:
    """The images in ``folder``, in the order of the numbers in their names (frame-2 before frame-10)."""
    files = [
        path for path in folder.iterdir() if path.suffix.lower() in FRAME_SUFFIXES and not path.name.startswith(".")
    ]
    if not files:
        raise NstError(f"{folder}: no frames (images named like frame-0001.png) in this folder")
    return sorted(
        files, key=lambda path: [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]
    )


def write_clip(frames: Sequence[Image.Image], output: Path, fps: float, audio_from: Path | None = None) -> Path:
    """``frames`` as ``output`` (MP4, GIF or WebP, by its extension), atomically, at ``fps``;
    an MP4 takes the audio track of ``audio_from`` when given. A folder output is the frames
    themselves and is written as they finish, not here."""
    return save_animation(list(frames), output, frame_ms=1000.0 / fps, hold_last_s=0.0, audio_from=audio_from)


def check_output(output: Path) -> None:
    """The output's kind must be one :func:`write_clip` writes (or a folder, no suffix)."""
    if output.suffix and output.suffix.lower() not in OUTPUTS:
        raise NstError(
            f"{output}: unknown output format {output.suffix!r}; use one of {', '.join(OUTPUTS)}, or a folder"
            " (a name without a suffix)"
        )


def _pillow_header(path: Path) -> tuple[tuple[int, int], float, int]:
    try:
        with Image.open(path) as image:
            count = getattr(image, "n_frames", 1)
            durations = [frame.info.get("duration", 100) or 100 for frame in ImageSequence.Iterator(image)]
            return image.size, 1000.0 * len(durations) / sum(durations), count
    except UnidentifiedImageError:
        raise NstError(f"{path}: not an animation Pillow can read") from None
    except (OSError, ValueError, EOFError) as error:
        raise NstError(f"{path}: cannot read the animation ({_first_line(error)})") from None


def _pillow_frames(path: Path) -> Iterator[Image.Image]:
    with Image.open(path) as image:
        for frame in ImageSequence.Iterator(image):
            yield frame.convert("RGB")


def _ffmpeg():
    try:
        import imageio_ffmpeg
    except ImportError:
        raise NstError(f"reading and writing video needs imageio-ffmpeg and OpenCV: {INSTALL}") from None
    return imageio_ffmpeg


def _ffmpeg_header(path: Path) -> dict:
    reader = _ffmpeg().read_frames(str(path))
    try:
        return next(reader)
    except (OSError, RuntimeError, StopIteration) as error:
        raise NstError(f"{path}: not a video ffmpeg can read ({_first_line(error)})") from None
    finally:
        reader.close()


def _ffmpeg_frames(path: Path) -> Iterator[Image.Image]:
    reader = _ffmpeg().read_frames(str(path))
    try:
        metadata = next(reader)
        for data in reader:
            yield Image.frombytes("RGB", metadata["size"], data)
    finally:
        reader.close()


def _first_line(error: BaseException | str) -> str:
    """The first non-empty line of an error, for a one-line message."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
