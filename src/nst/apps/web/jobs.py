"""A run of the web app as its queue (:mod:`~nst.apps.web.queue`) keeps it: what a page asked for
(:class:`RunRequest`), the job with what its page is shown (:class:`Job`) and its states, and what
runs it (:class:`Stylize`: the library's ``stylize``, or a fake in tests).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from nst.options import Options
from nst.run.progress import Progress, TileCallback, left_now

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = (DONE, FAILED, CANCELLED)


class Stylize(Protocol):
    """What runs a job: :func:`nst.stylize`, or a fake in tests. The result needs ``save(path)``."""

    def __call__(
        self,
        content: Path,
        style: Sequence[Path],
        options: Options,
        *,
        callback: Callable[[Progress], None],
        on_tile: TileCallback | None = None,
    ) -> Any: ...


@dataclass(frozen=True)
class RunRequest:
    """What a page asked for: the photo and paintings (files the server wrote, or bundled
    examples), the options, the download's file name, and what the user calls each image."""

    content: Path
    styles: list[Path]
    options: Options
    download_name: str
    given_names: dict[str, str] = field(default_factory=dict)  # an image's path -> the user's name for it

    def as_given(self, params: dict[str, Any]) -> dict[str, Any]:
        """A result's parameters naming the images as the user knows them, not by the server's
        private paths."""

        def given(value: Any) -> Any:
            if isinstance(value, list):
                return [given(item) for item in value]
            return self.given_names.get(value, value) if isinstance(value, str) else value

        return {**params, **{key: given(params[key]) for key in ("content", "style", "mask") if key in params}}


@dataclass(eq=False)
class Job:
    """One run: what was asked, its private folder (uploads and result, deleted with the job)
    and what its page is shown."""

    id: str
    session: str
    request: RunRequest
    folder: Path
    last_seen: float  # when its page last asked about it; the job is abandoned when that gets old
    state: str = QUEUED
    message: str = ""  # why it failed or was cancelled, one line
    step: int = 0
    steps: int = 0
    scale: int = 0  # the size of the ladder at work (from 1) of scales, its longer side in px
    scales: int = 0
    size: int | None = None
    elapsed_s: float = 0.0
    eta_s: float | None = None  # the time left, as the run measures it (nst.run.progress), as the terminal shows it
    tile: tuple[int, int] | None = None  # a print's step at work: tile passes done, of how many
    measured_at: float = 0.0  # when elapsed_s and eta_s were last set (a step's end, a tile pass's)
    losses: dict[str, float] = field(default_factory=dict)
    preview: bytes | None = None
    preview_version: int = 0
    result: Path | None = None
    finished: float | None = None
    cancel_requested: bool = False
    last_preview: float = -math.inf

    def status(self, ahead: int) -> dict[str, Any]:
        """What the page shows, JSON-ready; ``ahead``: runs that will go before this one."""
        return {
            "id": self.id,
            "state": self.state,
            "ahead": ahead,
            "cancelling": self.cancel_requested and self.state not in FINISHED,
            "step": self.step,
            "steps": self.steps,
            "scale": self.scale,
            "scales": self.scales,
            "size": self.size,
            "elapsed_s": round(self.elapsed_s, 1),
            "eta_s": None if self.eta_s is None else round(self.eta_s, 1),
            "tile": None if self.tile is None else list(self.tile),
            "time_budget_s": self.request.options.time_budget,
            "losses": self.losses,
            "preview": self.preview_version,
            "result": self.result is not None,
            "message": self.message,
        }

    def record(self, progress: Progress, now: float) -> None:
        """A step's progress, measured at ``now``: the step, the size, the losses and the time left."""
        self.step, self.steps, self.elapsed_s = progress.step, progress.steps, progress.elapsed_s
        self.scale, self.scales, self.size = progress.scale, progress.scales, progress.size
        self.losses = {name: float(value) for name, value in progress.losses.items()}
        self.eta_s = progress.remaining_s
        self.tile, self.measured_at = None, now

    def record_tile(self, done: int, tiles: int, now: float) -> None:
        """A tile pass of a print's step is done at ``now``: a step there takes minutes, and the page
        moves with its tiles."""
        self.elapsed_s += now - self.measured_at
        self.eta_s = left_now(self.eta_s, self.measured_at, now)
        self.tile, self.measured_at = (done, tiles), now

    def preview_due(self, now: float, every_s: float) -> bool:
        """Whether a new preview is due (and then it counts as made)."""
        if now - self.last_preview < every_s:
            return False
        self.last_preview = now
        return True

    def finish(self, state: str, message: str, result: Path | None, now: float) -> None:
        """The job's end; ``message`` is cut to one line, naming uploads as the user knows them
        rather than by the private path they were saved at."""
        self.message = message.replace(f"{self.folder}/", "").splitlines()[0] if message else ""
        self.state, self.result, self.finished = state, result, now
        self.cancel_requested = False
