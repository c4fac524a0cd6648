"""The optimisation loop and the public ``stylize`` function."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import PIL
import tensorflow as tf
from PIL import Image

from nst import __version__
from nst.images import ImageSource, load_image, save_image, to_pil
from nst.objective import Objective
from nst.options import Options


@dataclass
class Progress:
    """What the loop tells its callback after each step.

    ``losses`` were measured on the image the step started from (step - 1 updates done);
    :meth:`image` returns the image after the step, computed only when asked for."""

    step: int
    steps: int
    elapsed_s: float
    losses: dict[str, float]
    _image: Callable[[], np.ndarray] = field(repr=False)

    def image(self) -> np.ndarray:
        """The current image, (H, W, 3) float32 in [0, 1]."""
        return self._image()


ProgressCallback = Callable[[Progress], None]


@dataclass
class Result:
    """A finished run: the picture and the report (``params``, ``history``, ``final``, ``wall_s``)."""

    pixels: np.ndarray
    report: dict[str, Any]

    @property
    def image(self) -> Image.Image:
        """The result as an 8-bit RGB PIL image."""
        return to_pil(self.pixels)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the image (format from the extension; PNG carries the parameters)."""
        return save_image(self.pixels, path, metadata=self.report["params"])

    def save_report(self, path: str | os.PathLike) -> Path:
        """Write the report as JSON, atomically."""
        path = Path(path)
        temporary = path.with_name(f".{path.name}.part")
        temporary.write_text(json.dumps(self.report, indent=2) + "\n")
        os.replace(temporary, path)
        return path


def stylize(
    content: ImageSource,
    style: ImageSource,
    options: Options | None = None,
    *,
    callback: ProgressCallback | None = None,
    **settings: Any,
) -> Result:
    """Repaint ``content`` in the style of ``style``.

    ``content`` and ``style`` are paths, PIL images or (H, W, 3) arrays. Settings are the
    fields of :class:`nst.Options`, given as an ``Options`` or as keywords
    (``stylize("photo.jpg", "painting.jpg", size=256, steps=100)``). ``callback`` is called
    after every step with a :class:`Progress`.
    """
    options = dataclasses.replace(options or Options(), **settings)
    started = time.perf_counter()
    content_pixels = load_image(content, options.size)
    style_pixels = load_image(style, options.style_size or options.size)
    objective = Objective(content_pixels, style_pixels, options)

    image = tf.Variable(_initial_image(content_pixels, options)[np.newaxis], name="generated_image")
    optimizer = keras.optimizers.Adam(
        learning_rate=options.learning_rate, beta_1=options.beta_1, epsilon=options.epsilon
    )
    optimizer.build([image])  # Keras creates its slot variables here, outside the compiled step.

    @tf.function
    def step() -> dict[str, tf.Tensor]:
        with tf.GradientTape() as tape:
            step_losses = objective(image)
        gradient = tape.gradient(step_losses["total"], image)
        optimizer.apply_gradients([(gradient, image)])
        image.assign(tf.clip_by_value(image, 0.0, 1.0))
        return step_losses

    history = []
    loop_started = time.perf_counter()
    for index in range(options.steps):
        step_losses = {name: float(value) for name, value in step().items()}
        elapsed = time.perf_counter() - loop_started
        if index % options.history_every == 0:
            history.append(_history_entry(index, elapsed, step_losses))
        if callback is not None:
            callback(Progress(index + 1, options.steps, elapsed, step_losses, lambda: image.numpy()[0]))

    pixels = image.numpy()[0]
    final = objective.evaluate(pixels)
    history.append(_history_entry(options.steps, time.perf_counter() - loop_started, final))
    report = {
        "params": _params(options, content, style, pixels.shape),
        "history": history,
        "final": final,
        "wall_s": round(time.perf_counter() - started, 3),
    }
    return Result(pixels, report)


def _initial_image(content: np.ndarray, options: Options) -> np.ndarray:
    if options.init == "noise":
        return np.random.default_rng(options.seed).uniform(0.0, 1.0, content.shape).astype(np.float32)
    return content.copy()


def _history_entry(step: int, elapsed: float, step_losses: dict[str, float]) -> dict[str, float]:
    return {
        "step": step,
        "elapsed_s": round(elapsed, 3),
        **{name: step_losses[name] for name in ("total", "content", "style")},
    }


def _params(options: Options, content: ImageSource, style: ImageSource, shape: tuple[int, ...]) -> dict[str, Any]:
    return {
        **options.as_dict(),
        "weights": options.resolved_weights(),
        "content": _describe(content),
        "style": _describe(style),
        "output_size": [shape[1], shape[0]],
        "versions": {
            "nst": __version__,
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "numpy": np.__version__,
            "pillow": PIL.__version__,
            "python": platform.python_version(),
        },
    }


def _describe(source: ImageSource) -> str:
    return os.fspath(source) if isinstance(source, (str, os.PathLike)) else f"<{type(source).__name__}>"
