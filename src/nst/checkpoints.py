"""Checkpoints: what a run needs to continue later, in one ``.npz`` file written atomically.

A checkpoint holds the image, the optimizer's state (Adam's step count and moments; L-BFGS
keeps none that SciPy lets out), the number of steps taken and the report's history so far.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nst.errors import NstError
from nst.images import write_atomically


@dataclass
class Checkpoint:
    state: dict[str, np.ndarray]
    steps: int
    history: list[dict[str, Any]]
    optimizer: str


def save_checkpoint(path: str | os.PathLike, checkpoint: Checkpoint) -> Path:
    info = {"steps": checkpoint.steps, "history": checkpoint.history, "optimizer": checkpoint.optimizer}
    buffer = io.BytesIO()
    np.savez(buffer, info=np.array(json.dumps(info)), **checkpoint.state)
    return write_atomically(Path(path), lambda file: file.write(buffer.getvalue()))


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    try:
        with np.load(path, allow_pickle=False) as archive:
            info = json.loads(str(archive["info"]))
            state = {name: archive[name] for name in archive.files if name != "info"}
    except FileNotFoundError:
        raise NstError(f"{path}: no such checkpoint") from None
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        raise NstError(f"{path}: not a checkpoint nst wrote") from None
    return Checkpoint(state, info["steps"], info["history"], info["optimizer"])
