"""The finished frames of a clip (:func:`nst.stylize_video`), kept as they finish so that the same
call continues after a stop at the first missing frame: one PNG each, in the output folder itself
or ``OUTPUT.frames`` beside a video file, with the settings they were made with
(``nst-video.json``). Frames made with other settings are refused, never mixed with new ones."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nst.errors import NstError
from nst.media.images import load_image
from nst.media.saving import save_image, write_json

SETTINGS_NAME = "nst-video.json"


@dataclass
class FrameStore:
    """The finished frames of a clip, one PNG each, and the settings they were made with
    (``nst-video.json``): the output folder itself, or ``OUTPUT.frames`` beside a video file."""

    folder: Path

    @classmethod
    def open(cls, output: Path, settings: dict[str, Any], overwrite: bool) -> FrameStore:
        """The store for ``output``: a new one, or the one an earlier call with the same
        settings left (to continue); one with other settings is refused unless ``overwrite``."""
        store = cls(output if not output.suffix else output.with_name(output.name + ".frames"))
        recorded = store.folder / SETTINGS_NAME
        if store.folder.is_dir() and overwrite:
            store.remove()
        elif store.folder.is_dir() and any(store.folder.iterdir()):
            made_with = json.loads(recorded.read_text()) if recorded.is_file() else None
            if made_with != json.loads(json.dumps(settings)):
                raise NstError(
                    f"{store.folder}: holds frames made with other settings (or not by nst video); pass --overwrite"
                    " to start again"
                )
        store.folder.mkdir(exist_ok=True)
        write_json(recorded, settings)
        return store

    def path(self, index: int) -> Path:
        return self.folder / f"frame-{index + 1:05d}.png"

    def first_missing(self, count: int) -> int:
        return next((index for index in range(count) if not self.path(index).is_file()), count)

    def load(self, index: int) -> np.ndarray:
        return load_image(self.path(index))

    def save(self, index: int, pixels: np.ndarray) -> None:
        save_image(pixels, self.path(index))  # atomic: a frame is there whole or not at all

    def remove(self) -> None:
        """Deletes the frames and settings this store wrote (nothing else), and the folder if empty."""
        for path in [*self.folder.glob("frame-*.png"), self.folder / SETTINGS_NAME]:
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.folder.rmdir()
