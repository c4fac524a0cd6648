"""Watching a picture form: numbered intermediate images and an animation of the run.

:class:`Snapshots` is a progress callback, so the command line and Python use the same one::

    snapshots = Snapshots("out.png", save_every=10, animation="out.gif")
    result = stylize("photo.jpg", "painting.jpg", callback=snapshots)
    snapshots.finish(result)
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image

from nst.errors import NstError
from nst.media.animations import check_animation_path, save_animation
from nst.media.images import to_pil
from nst.media.saving import save_image
from nst.run.progress import Progress
from nst.run.result import Result

# An animation shows about this many frames when no --save-every spaces them.
_ANIMATION_FRAMES = 50


class Snapshots:
    """Saves every ``save_every``-th step's image as ``OUT-0010.png`` (the output's name and
    format, numbered by step) and, with ``animation``, collects frames for an animation (GIF,
    WebP or MP4, by its extension) whose last frame is the result."""

    def __init__(
        self,
        output: str | os.PathLike,
        save_every: int | None = None,
        animation: str | os.PathLike | None = None,
        steps: int | None = None,
    ) -> None:
        if save_every is not None and save_every < 1:
            raise NstError(f"save_every must be 1 or more, got {save_every}")
        if animation is not None:
            check_animation_path(animation)
        self.output = Path(output)
        self.save_every = save_every
        self.animation = None if animation is None else Path(animation)
        self.frame_every = save_every or max(1, (steps or _ANIMATION_FRAMES) // _ANIMATION_FRAMES)
        self.frames: list[Image.Image] = []
        self.saved: list[Path] = []

    def path_for(self, step: int) -> Path:
        return self.output.with_name(f"{self.output.stem}-{step:04d}{self.output.suffix}")

    def __call__(self, progress: Progress) -> None:
        wants_file = self.save_every is not None and progress.step % self.save_every == 0
        wants_frame = self.animation is not None and progress.step % self.frame_every == 0
        if not (wants_file or wants_frame):
            return
        image = to_pil(progress.image())
        if wants_file:
            self.saved.append(save_image(image, self.path_for(progress.step)))
        if wants_frame:
            self.frames.append(image)

    def finish(self, result: Result) -> Path | None:
        """Writes the animation, ending on the result; returns its path."""
        if self.animation is None:
            return None
        return save_animation([*self.frames, result.image], self.animation)
