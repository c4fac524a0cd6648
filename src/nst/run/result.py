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
from nst.media.images import save_image, to_pil, write_json


@dataclass
class Result:
    """A finished run: the picture and the report (``params``, ``history``, ``final``, ``wall_s``)."""

    pixels: np.ndarray
    report: dict[str, Any]
    alpha: Image.Image | None = None  # the photo's transparency, if it had any

    @property
    def image(self) -> Image.Image:
        """The result as an 8-bit RGB PIL image."""
        return to_pil(self.pixels)

    def save(self, path: str | os.PathLike, *, fallback: bool = False) -> Path:
        """Write the image (format from the extension; PNG carries the parameters).

        With ``fallback``, a picture that cannot be written there (disk full, folder gone) is
        written to the system's temporary folder instead, and the error says where: a long
        run is never lost."""
        try:
            return save_image(self.pixels, path, metadata=self.report["params"], alpha=self.alpha)
        except NstError as error:
            if not fallback:
                raise
            path = Path(path)
            spare = Path(tempfile.gettempdir()) / f"nst-{path.stem}-{os.getpid()}{path.suffix}"
            spare = save_image(self.pixels, spare, metadata=self.report["params"], alpha=self.alpha)
            raise NstError(f"{error}; the picture is safe in {spare}") from None

    def save_report(self, path: str | os.PathLike) -> Path:
        """Write the report as JSON, atomically."""
        return write_json(path, self.report)
