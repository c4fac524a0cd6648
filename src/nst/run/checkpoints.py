"""Checkpoints: what a run needs to continue later, in one ``.npz`` file written atomically.

A checkpoint holds the image, the optimizer's whole state (Adam's step count and moments;
L-BFGS's curvature pairs and line search), the number of steps taken and the report's history
so far: a resumed run takes the very steps the uninterrupted one would have.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nst.errors import NstError
from nst.media.saving import write_atomically
from nst.options import Options


@dataclass
class Checkpoint:
    state: dict[str, np.ndarray]
    steps_per_scale: list[int]  # the last entry is the scale the state belongs to
    history: list[dict[str, Any]]
    optimizer: str

    @property
    def steps(self) -> int:
        return sum(self.steps_per_scale)

    @property
    def scale(self) -> int:
        """The index of the scale (size on the ladder) the run was at."""
        return len(self.steps_per_scale) - 1


def save_checkpoint(path: str | os.PathLike, checkpoint: Checkpoint) -> Path:
    info = {
        "steps_per_scale": checkpoint.steps_per_scale,
        "history": checkpoint.history,
        "optimizer": checkpoint.optimizer,
    }
    arrays = {"info": np.array(json.dumps(info)), **checkpoint.state}
    # Straight into the file: an in-memory archive would double the checkpoint's memory.
    return write_atomically(Path(path), lambda file: np.savez(file, **arrays))


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    try:
        with np.load(path, allow_pickle=False) as archive:
            info = json.loads(str(archive["info"]))
            state = {name: archive[name] for name in archive.files if name != "info"}
            return Checkpoint(state, info["steps_per_scale"], info["history"], info["optimizer"])
    except FileNotFoundError:
        raise NstError(f"{path}: no such checkpoint") from None
    except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile):
        raise NstError(f"{path}: not a checkpoint nst wrote") from None


def checkpoint_to_resume(options: Options, optimizers: list[str]) -> Checkpoint | None:
    """The checkpoint ``options.resume`` names, if any, once it is known to fit this run's ladder
    of sizes and the optimizer of its size (``optimizers``: each size's)."""
    if not options.resume:
        return None
    resumed = load_checkpoint(options.resume)
    scales = len(optimizers)
    if resumed.scale >= scales:
        raise NstError(f"{options.resume}: made at scale {resumed.scale + 1}, but this run has {scales} (--scales)")
    if resumed.optimizer != optimizers[resumed.scale]:
        raise NstError(f"{options.resume}: a checkpoint of {resumed.optimizer}, not {optimizers[resumed.scale]}")
    return resumed


def resumed_image(resumed: Checkpoint, options: Options, shape: tuple[int, ...]) -> np.ndarray:
    """The checkpoint's image, refused unless it has this run's ``shape``."""
    image = resumed.state["image"]
    if image.shape != shape:
        height, width = shape[:2]
        raise NstError(
            f"{options.resume}: a checkpoint of a {image.shape[1]}x{image.shape[0]} image, but this run's is"
            f" {width}x{height} (resume with the options and photo it was made with)"
        )
    return image
