"""What a run gives back: the finished :class:`Result` (its progress after each step is
:class:`nst.run.progress.Progress`).

No TensorFlow here: the command line, the web app and the snapshots use it before a run has
loaded it."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from nst.errors import NstError
from nst.media.images import ImageSource, describe, to_pil
from nst.media.saving import save_image, write_json
from nst.options import Options


@dataclass
class Result:
    """A finished run: the picture and the report (``params``, ``history``, ``final``, ``wall_s``)."""

    pixels: np.ndarray
    report: dict[str, Any]
    alpha: Image.Image | None = None  # the photo's transparency, if it had any
    bits: int = 8  # the photo's bits per channel: a PNG of a 16-bit photo is written at 16 (a TIFF always is)

    @property
    def image(self) -> Image.Image:
        """The result as an 8-bit RGB PIL image."""
        return to_pil(self.pixels)

    def save(self, path: str | os.PathLike, *, fallback: bool = False) -> Path:
        """Write the image (format from the extension; PNG and TIFF carry the parameters; every
        format that has one, the resolution of the run's ``dpi``).

        With ``fallback``, a picture that cannot be written there (disk full, folder gone) is
        written to the system's temporary folder instead, and the error says where: a long
        run is never lost."""
        try:
            return self._save(path)
        except NstError as error:
            if not fallback:
                raise
            path = Path(path)
            spare = self._save(Path(tempfile.gettempdir()) / f"nst-{path.stem}-{os.getpid()}{path.suffix}")
            raise NstError(f"{error}; the picture is safe in {spare}") from None

    def _save(self, path: str | os.PathLike) -> Path:
        params = self.report["params"]
        return save_image(self.pixels, path, params, self.alpha, dpi=params.get("dpi"), bits=self.bits)

    def save_report(self, path: str | os.PathLike) -> Path:
        """Write the report as JSON, atomically."""
        return write_json(path, self.report)


def picture_params(
    options: Options, content: ImageSource, styles: list[ImageSource], shape: tuple[int, ...]
) -> dict[str, Any]:
    """What every picture's ``params`` say, however it was made: the options, the photo and
    paintings as given, and the output's (width, height)."""
    return {
        **options.as_dict(),
        "content": describe(content),
        "style": [describe(source) for source in styles] if len(styles) > 1 else describe(styles[0]),
        "output_size": [shape[1], shape[0]],
    }
