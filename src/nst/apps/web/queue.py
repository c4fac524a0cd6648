"""The queue of runs behind the web app: one run at a time, the others waiting in order, each
cancelled when its page asks or is gone.

A CPU has no room for two VGG19 runs at once (each would take twice as long and twice the
memory), so one worker thread runs the jobs in the order they came. A run is the library's
own ``stylize``; this module only listens to its progress callback, and stops a run by raising
from it (the library lets an exception from the callback through). Pure Python without HTTP,
so the tests drive it with a fake ``stylize`` in milliseconds. A job, what it was asked and what
its page is shown, is :mod:`~nst.apps.web.jobs`'.
"""

from __future__ import annotations

import io
import logging
import secrets
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from nst.apps.web.jobs import CANCELLED, DONE, FAILED, QUEUED, RUNNING, Job, RunRequest, Stylize
from nst.errors import NstError, StoppedEarly
from nst.media.images import to_pil
from nst.run.progress import Progress

log = logging.getLogger("nst.web")


class JobQueue:
    """Jobs by id, the waiting line, one worker thread and a janitor thread.

    ``abandon_after_s``: a job whose page has not asked about it for this long is cancelled,
    waiting or running, so a closed tab frees the worker. ``keep_s``: finished jobs (and their
    files) are deleted this long after they end. ``preview_every_s``: at most one preview per
    this many seconds, as encoding a PNG every step would slow big runs. ``first_frame``: a
    quick picture of a request (the fast network's), published as the job's first preview
    before its run starts, so that the page shows a picture at once, not after TensorFlow has
    loaded and taken a step. ``clock``: what the queue reads the time from (the tests' moves when told)."""

    def __init__(
        self,
        stylize: Stylize,
        *,
        first_frame: Callable[[RunRequest], np.ndarray] | None = None,
        abandon_after_s: float = 10.0,
        keep_s: float = 3600.0,
        preview_every_s: float = 0.5,
        max_waiting: int = 16,
        tidy_every_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stylize = stylize
        self._first_frame = first_frame
        self.abandon_after_s = abandon_after_s
        self.keep_s = keep_s
        self.preview_every_s = preview_every_s
        self.max_waiting = max_waiting
        self._tidy_every_s = tidy_every_s
        self._clock = clock
        self._lock = threading.Condition()  # its RLock lets _finish run both inside and outside it
        self._jobs: dict[str, Job] = {}
        self._waiting: deque[Job] = deque()
        self._running: Job | None = None
        self._closed = False
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the worker and the janitor."""
        for target, name in ((self._work, "nst-worker"), (self._tidy, "nst-janitor")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def close(self, timeout: float = 30.0) -> None:
        """Cancel everything, wait for the threads, delete every job's files."""
        with self._lock:
            self._closed = True
            for job in self._jobs.values():
                job.cancel_requested = True
            self._lock.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        with self._lock:
            for job in list(self._jobs.values()):
                self._forget(job)

    def still_working(self) -> bool:
        """Whether a thread is still at work after :meth:`close` stopped waiting for it: a run
        inside a step, which cannot be stopped before the step ends."""
        return any(thread.is_alive() for thread in self._threads)

    def submit(self, session: str, request: RunRequest, folder: Path) -> Job:
        """Queue a run; the job owns ``folder`` from now on. NstError if the line is full."""
        with self._lock:
            if self._closed:
                raise NstError("the server is shutting down")
            if len(self._waiting) >= self.max_waiting:
                raise NstError(f"{len(self._waiting)} runs are already waiting; try again later")
            job_id = secrets.token_urlsafe(16)
            job = Job(job_id, session, request, folder, last_seen=self._clock())
            self._jobs[job_id] = job
            self._waiting.append(job)
            self._lock.notify_all()
            return job

    def get(self, job_id: str, session: str) -> Job | None:
        """The job, only for the session that made it: to any other, it does not exist."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or not secrets.compare_digest(job.session.encode(), session.encode()):
                return None
            return job

    def status(self, job: Job) -> dict[str, Any]:
        """What the page shows, JSON-ready. Asking counts as the page being there."""
        with self._lock:
            job.last_seen = self._clock()
            return job.status(self._ahead(job))

    def cancel(self, job: Job) -> None:
        """A waiting job ends now; a running one at the end of its current step."""
        with self._lock:
            if job.state == QUEUED:
                self._waiting.remove(job)
                self._finish(job, CANCELLED, "cancelled")
            elif job.state == RUNNING:
                job.cancel_requested = True

    def _ahead(self, job: Job) -> int:
        """How many runs will go before this one (the running one included)."""
        if job.state != QUEUED:
            return 0
        return self._waiting.index(job) + (self._running is not None)

    def _abandoned(self, job: Job, now: float) -> bool:
        return now - job.last_seen > self.abandon_after_s

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._waiting and not self._closed:
                    self._lock.wait()
                if self._closed:
                    return
                job = self._waiting.popleft()
                job.state = RUNNING
                self._running = job
            try:
                self._run(job)
            finally:
                with self._lock:
                    self._running = None

    def _run(self, job: Job) -> None:
        def callback(progress: Any) -> None:
            self._on_progress(job, progress)

        def on_tile(size: int, done: int, tiles: int) -> None:
            with self._lock:  # a print's step takes minutes: a cancel need not wait for its end
                now = self._clock()
                self._stop_if_asked(job, now)
                job.record_tile(done, tiles, now)

        request = job.request
        job.measured_at = self._clock()
        if self._first_frame is not None:
            self._show_first_frame(job)
        try:
            result = self._stylize(request.content, request.styles, request.options, callback=callback, on_tile=on_tile)
            saved = _save(result, job)
        except _Cancelled as stop:
            self._finish(job, CANCELLED, stop.reason)
        except StoppedEarly as stop:  # the loss blew up: the picture so far is still worth having
            self._finish(job, FAILED, str(stop), _save(stop.result, job))
        except NstError as error:
            self._finish(job, FAILED, str(error))
        except Exception as error:  # the page gets one line; the server's log gets the traceback
            log.exception("run %s failed", job.id)
            self._finish(job, FAILED, f"unexpected error: {type(error).__name__}: {error}")
        else:
            self._finish(job, DONE, "", saved)

    def _on_progress(self, job: Job, progress: Progress) -> None:
        now = self._clock()
        with self._lock:
            self._stop_if_asked(job, now)
            job.record(progress, now)
            if not job.preview_due(now, self.preview_every_s):
                return
        self._publish(job, progress.image())

    def _stop_if_asked(self, job: Job, now: float) -> None:
        """Ends the run (from its callback) if it was cancelled or its page was closed."""
        if job.cancel_requested:
            raise _Cancelled("cancelled")
        if self._abandoned(job, now):
            raise _Cancelled("cancelled: its page was closed")

    def _show_first_frame(self, job: Job) -> None:
        """The first frame as the job's first preview; a run without it is still a run, so a
        failure is only logged."""
        try:
            pixels = self._first_frame(job.request)
        except NstError:  # bad input: the run says so in one line
            return
        except Exception:
            log.exception("run %s: no first frame", job.id)
            return
        self._publish(job, pixels)

    def _publish(self, job: Job, pixels: np.ndarray) -> None:
        preview = _png(pixels)  # outside the lock: the page's questions need not wait for it
        with self._lock:
            job.preview = preview
            job.preview_version += 1

    def _finish(self, job: Job, state: str, message: str, result: Path | None = None) -> None:
        with self._lock:
            job.finish(state, message, result, self._clock())
            if state == CANCELLED:
                log.info("run %s %s", job.id, job.message)
            self._lock.notify_all()

    def _tidy(self) -> None:
        """Cancels waiting jobs whose page is gone (the worker sees only the one it runs) and
        deletes finished jobs after ``keep_s``."""
        with self._lock:
            while not self._closed:
                now = self._clock()
                for job in [job for job in self._waiting if self._abandoned(job, now)]:
                    self._waiting.remove(job)
                    self._finish(job, CANCELLED, "cancelled: its page was closed")
                for job in [job for job in self._jobs.values() if job.finished is not None]:
                    if now - job.finished > self.keep_s:
                        self._forget(job)
                self._lock.wait(self._tidy_every_s)

    def _forget(self, job: Job) -> None:
        self._jobs.pop(job.id, None)
        shutil.rmtree(job.folder, ignore_errors=True)


class _Cancelled(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _save(result: Any, job: Job) -> Path:
    """The result in the job's folder, its parameters naming the images as the user knows them."""
    result.report["params"] = job.request.as_given(result.report["params"])
    return result.save(job.folder / "result.png")


def _png(pixels: Any) -> bytes:
    # zlib's fastest level: a 1024 px preview in 0.1 s instead of 0.45 s at the default level, for
    # 13% more bytes. A preview lives half a second, and its encoding takes the run's CPU.
    buffer = io.BytesIO()
    to_pil(pixels).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
