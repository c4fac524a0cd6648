"""What a run reports: its parameters (with versions and device), its history of losses, each
size's entry, and the finished picture's measures."""

from __future__ import annotations

import nst.quiet_start  # noqa: F401  before Keras is imported below: TensorFlow starts without its notices

# isort: split
import platform
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import PIL
from PIL import Image

from nst import __version__
from nst.core import backend
from nst.core.objective import Objective
from nst.core.tiles import TiledObjective
from nst.media import measures, pattern_measures
from nst.media.images import ImageSource, open_image, source_list, to_array
from nst.media.resizing import resize_longest_side
from nst.options import Options
from nst.run import ladder
from nst.run.inputs import painting_side
from nst.run.memory import SizePlan
from nst.run.result import picture_params


def picture_measures(
    pixels: np.ndarray,
    content: ImageSource,
    style: ImageSource | Sequence[ImageSource],
    *,
    enlarge_paintings: bool = True,
    tileable: bool = False,
) -> dict[str, float]:
    """``grid`` and ``noise`` of a picture (H, W, 3), against the photo at its size and the
    paintings with its longer side (see :mod:`nst.media.measures`); without ``enlarge_paintings``,
    a painting smaller than that keeps its own size, as a print's larger sizes keep it. With
    ``tileable``, also its ``seam``."""
    height, width = pixels.shape[:2]
    photo_array = to_array(open_image(content).resize((width, height), Image.Resampling.LANCZOS))
    paintings = [open_image(painting) for painting in source_list(style)]
    painting_arrays = [
        to_array(resize_longest_side(painting, painting_side(painting, max(height, width), enlarge_paintings)))
        for painting in paintings
    ]
    values = measures.picture_measures(pixels, photo_array, painting_arrays)
    if tileable:  # a texture's wrap-around, placed 2x2 with itself
        values["seam"] = round(pattern_measures.seam(pixels), 4)
    return values


def memory_peaks() -> dict[str, float | None]:
    """The process's peak resident memory so far, in MB (None where the system does not say), and
    on a GPU the most the GPU has held for it (``peak_device_mb``): what a size's plan promised."""
    peaks: dict[str, float | None] = {"peak_mb": None}
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peaks["peak_mb"] = round(peak / (2**20 if platform.system() == "Darwin" else 2**10))  # bytes on macOS
    except ImportError:  # Windows
        pass
    device_peak = backend.peak_device_memory_mb()
    if device_peak is not None:
        peaks["peak_device_mb"] = round(device_peak)
    return peaks


def size_entry(
    size: int, shape: tuple[int, ...], memory: SizePlan | None, objective: Objective | None
) -> dict[str, Any]:
    """What the report says of one size: how it was run, in one piece or in tiles (``objective``
    None: how it would have run; no tiles were run)."""
    tiled = isinstance(objective, TiledObjective)
    return {
        "size": size,
        "shape": [shape[1], shape[0]],
        "tile": memory and memory.tile,
        "halo": objective.halo if tiled else None,
        "tiles": len(objective.tiling) if tiled else int(objective is not None),
        "optimizer": memory and memory.optimizer,
        "lbfgs_history": memory and memory.lbfgs_history,
        "estimate_mb": memory and round(memory.estimate_mb),
        "painting_tile": memory and memory.painting_tile,
    }


def dropped_entry(size: int, shape: tuple[int, ...], memory: SizePlan | None, reason: str) -> dict[str, Any]:
    """What the report says of a size the time budget dropped: how it would have run, and why it did not."""
    return {**size_entry(size, shape, memory, None), "steps": 0, "seconds": 0.0, "dropped": reason}


def history_entry(step: int, elapsed: float, losses: dict[str, float], scale: int) -> dict[str, Any]:
    """One line of the report's history: the losses at ``step`` (1-based ``scale``)."""
    return {
        "step": step,
        "elapsed_s": round(elapsed, 3),
        **{name: losses[name] for name in ("total", "content", "style")},
        "scale": scale,
    }


def params(options: Options, content: ImageSource, styles: list[ImageSource], shape: tuple[int, ...]) -> dict[str, Any]:
    """The report's ``params``: the options, the images as given, the output's size, and what ran it."""
    return {
        **picture_params(options, content, styles, shape),
        "weights": options.resolved_weights(),
        "scale_sizes": ladder.scale_sizes(options),
        "backend": backend.name(),
        "device": backend.device(),
        "versions": {
            "nst": __version__,
            backend.name(): backend.library_version(),
            "keras": keras.__version__,
            "numpy": np.__version__,
            "pillow": PIL.__version__,
            "python": platform.python_version(),
        },
    }
