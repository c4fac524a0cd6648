"""Writing animations: GIF and animated WebP through Pillow, MP4 (H.264, with a video's audio
track) through the ffmpeg that imageio-ffmpeg ships in its wheel (``pip install 'nst[video]'``).
The animation of a run forming (:mod:`nst.run.snapshots`) and a stylized clip
(:func:`nst.media.clips.write_clip`) are both written here."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from nst.errors import NstError
from nst.media.saving import write_atomically

ANIMATION_FORMATS = (".gif", ".webp", ".mp4")


def save_animation(
    frames: list[Image.Image],
    path: str | os.PathLike,
    frame_ms: float = 100,
    hold_last_s: float = 2.0,
    audio_from: str | os.PathLike | None = None,
) -> Path:
    """Write ``frames`` as a looping animation, atomically; the last frame stays
    ``hold_last_s`` seconds (at least one frame's time).

    GIF plays everywhere but keeps 256 colours; animated WebP keeps every colour (lossless)
    and is smaller; MP4 (H.264, through imageio-ffmpeg's bundled ffmpeg: ``pip install
    'nst[video]'``) is what video players and sites take, and takes the audio track of
    ``audio_from`` (a video) when given."""
    path = Path(path)
    check_animation_path(path)
    suffix = path.suffix.lower()
    held = max(1, round(1000 * hold_last_s / frame_ms))
    if suffix == ".mp4":
        return _save_mp4(frames + [frames[-1]] * (held - 1), path, 1000 / frame_ms, audio_from)
    durations = [round(frame_ms)] * (len(frames) - 1) + [round(frame_ms * held)]
    options = {"lossless": True} if suffix == ".webp" else {}
    return write_atomically(
        path,
        lambda file: frames[0].save(
            file, format=suffix[1:].upper(), save_all=True, append_images=frames[1:], duration=durations, loop=0,
            **options,
        ),
    )  # fmt: skip


def check_animation_path(path: str | os.PathLike) -> None:
    """Fails now, not after the run, on an animation that could not be written."""
    suffix = Path(path).suffix.lower()
    if suffix not in ANIMATION_FORMATS:
        raise NstError(f"{path}: the animation is written as GIF, WebP or MP4; name it .gif, .webp or .mp4")
    if suffix == ".mp4" and importlib.util.find_spec("imageio_ffmpeg") is None:
        raise NstError(f"{path}: writing MP4 needs imageio-ffmpeg: pip install 'nst[video]'")


def _save_mp4(frames: list[Image.Image], path: Path, fps: float, audio_from: str | os.PathLike | None) -> Path:
    import imageio_ffmpeg  # optional, and 70 MB with its ffmpeg: loaded only for MP4

    # H.264 in the yuv420p that every player decodes works on 2x2 blocks: even sides only.
    width, height = (side - side % 2 for side in frames[0].size)
    with tempfile.TemporaryDirectory(prefix="nst-") as folder:
        encoded = Path(folder) / "animation.mp4"
        writer = imageio_ffmpeg.write_frames(
            str(encoded), (width, height), fps=fps, codec="libx264", quality=8, macro_block_size=2,
            pix_fmt_out="yuv420p", ffmpeg_log_level="error",
        )  # fmt: skip
        writer.send(None)  # starts ffmpeg
        for frame in frames:
            writer.send(np.ascontiguousarray(np.asarray(frame.convert("RGB"))[:height, :width]).tobytes())
        writer.close()
        if audio_from is not None:
            encoded = _with_audio(encoded, Path(audio_from), len(frames) / fps)
        return write_atomically(path, lambda file: file.write(encoded.read_bytes()))


def _with_audio(video: Path, audio_from: Path, seconds: float) -> Path:
    """``video``'s picture (copied as it is) with the first audio track of ``audio_from``
    (re-encoded as AAC, which every MP4 player takes), cut to the picture's ``seconds``. (Not
    ffmpeg's -shortest: an audio track a few milliseconds short would cut the last frame.)"""
    import imageio_ffmpeg

    muxed = video.with_name("with-audio.mp4")
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(video), "-i", str(audio_from),
        "-map", "0:v:0", "-map", "1:a:0?", "-c:v", "copy", "-c:a", "aac", "-t", f"{seconds:.6f}", str(muxed),
    ]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if finished.returncode != 0:
        lines = finished.stderr.strip().splitlines() or ["ffmpeg failed"]
        raise NstError(f"{audio_from}: cannot copy its audio track ({lines[0]})")
    return muxed
