"""``nst serve``: style transfer in the browser, for people who never open a terminal.

A FastAPI app and one hand-written page (``static/``: HTML, plain JavaScript, CSS; no build
step). The page uploads a photo and paintings (or names bundled examples) with the settings;
the run goes into :class:`nst.apps.web.queue.JobQueue`, which calls the library's ``stylize``; the page
follows it through Server-Sent Events (progress, losses, ETA, the number of a new preview) and
downloads the PNG that ``Result.save`` wrote, parameters embedded.

Safe by default: loopback only (and only Host headers that name it, against DNS rebinding),
limits on bytes, pixels, size and image types, uploads in a private temporary folder under
names the server makes, examples chosen by name from the package's list, no request that
changes anything from another site's page, and every job visible only to the browser session
(a random cookie) that made it. Bad input gets the command line's one-line message as JSON
``{"error": ...}``, never a stack trace. Ctrl-C or SIGTERM stops it at once, a run or not.

Here: the app put together, its start and stop, and its routes for runs; the page, what it is
told of the server and the examples are :mod:`~nst.apps.web.page`'s, the form read into a run and
the uploads' folder :mod:`~nst.apps.web.form`'s, the guards :mod:`~nst.apps.web.guards`'.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import shutil
import socket
import sys
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from nst.apps.web.config import WebConfig
from nst.apps.web.form import Uploads, request_from_form
from nst.apps.web.guards import add_guards, browser_session
from nst.apps.web.jobs import FINISHED, Job, RunRequest, Stylize
from nst.apps.web.page import add_page_routes, example_images
from nst.apps.web.queue import JobQueue
from nst.errors import NstError
from nst.media import feedforward
from nst.options import Options
from nst.run.fast import stylize_fast
from nst.run.loading import load_run
from nst.run.memory import largest_size

# A stopping server waits this long for the run in progress to end, no longer: a run has nothing
# to save, and a step at 1024 px takes many seconds.
STOP_WAIT_S = 0.5


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listen(host: str = "127.0.0.1", port: int = 8000) -> socket.socket:
    """The listening socket, bound before anything slow loads, so a busy port fails at once
    with one line."""
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        listener = socket.socket(family, kind, protocol)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(64)
    except OSError as error:
        raise NstError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    return listener


def serve(listener: socket.socket, config: WebConfig, stylize: Stylize, device: str | None = None) -> None:
    """Run the app on ``listener`` until Ctrl-C; ``device`` (where ``stylize`` runs) is shown on the page."""
    import uvicorn

    host, port = listener.getsockname()[:2]
    if not is_loopback(host):
        config = replace(config, allowed_hosts=None)  # reached by whatever name the machine has
    shown = f"[{host}]" if ":" in host else host
    print(f"nst: serving on http://{shown}:{port} (Ctrl-C to stop)", flush=True)
    app = create_app(config, stylize, device)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=3))
    # Open event streams would hold up Ctrl-C until uvicorn cancels them with a traceback; they end when told.
    app.state.stopping = lambda: server.should_exit
    try:
        server.run(sockets=[listener])
    finally:
        if app.state.queue.still_working():
            # A run inside a TensorFlow step, whose clean-up at exit would wait for the step
            # (seconds at 1024 px). The run has nothing to save: the process ends now.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)


def create_app(config: WebConfig | None = None, stylize: Stylize | None = None, device: str | None = None) -> FastAPI:
    """The app. ``stylize`` defaults to the library's (TensorFlow loads on the first run).
    ``device``, where the runs happen (``"CPU"``, ``"GPU (NVIDIA H200)"``), is shown on the page."""
    config = config or WebConfig()
    if config.max_size is None:  # what fits now, in tiles where need be: prints from the page too
        config = replace(config, max_size=largest_size(Options()))
    # With the fast extra, a run's first frame is the fast network's picture, shown within a second.
    first_frame = _fast_first_frame if feedforward.available() else None
    queue = JobQueue(
        stylize or _library_stylize,
        first_frame=first_frame,
        abandon_after_s=config.abandon_after_s,
        keep_s=config.keep_s,
        max_waiting=config.max_waiting,
    )
    kinds = example_images(config.examples)
    examples = {path.name: path for paths in kinds.values() for path in paths}
    uploads = Uploads()
    lifespan = _lifespan(queue, uploads, warm_up=first_frame is not None)
    app = FastAPI(title="nst", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.queue = queue
    app.state.stopping = lambda: False  # serve() sets it to whether the server is stopping
    add_guards(app, config)
    add_page_routes(app, config, kinds, examples, device)
    _add_submit_route(app, config, queue, uploads, examples)
    _add_job_routes(app, queue)
    return app


def _lifespan(
    queue: JobQueue, uploads: Uploads, warm_up: bool
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """What the app does from its start to its stop: the uploads' folder, the queue's worker and
    (``warm_up``: with the fast extra) the fast network, loaded now rather than while the first
    page waits."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        uploads.start()
        if warm_up:
            threading.Thread(target=feedforward.warm_up, name="nst-warm-up", daemon=True).start()
        queue.start()
        try:
            yield
        finally:
            await run_in_threadpool(queue.close, STOP_WAIT_S)
            uploads.remove()

    return lifespan


def _add_submit_route(
    app: FastAPI, config: WebConfig, queue: JobQueue, uploads: Uploads, examples: dict[str, Path]
) -> None:
    """A run submitted: its form checked as the command line checks its arguments (within the
    server's limits), then put in line."""

    @app.post("/api/jobs")
    async def submit(request: Request, session: str = Depends(browser_session)) -> dict[str, str]:
        # The whole body is refused before it is read when it could not fit the limits.
        length = request.headers.get("content-length")
        if length is None or not length.isdigit():
            raise HTTPException(411, "the upload must say its length")
        if int(length) > config.max_upload_bytes * (config.max_paintings + 2) + 1_000_000:
            raise HTTPException(413, f"the upload is too large: at most {config.max_upload_mb:g} MB an image")
        form = await request.form(max_files=config.max_paintings + 2, max_fields=20)
        folder = uploads.new_folder()
        try:
            request = await run_in_threadpool(request_from_form, form, folder, config, examples)
            job = queue.submit(session, request, folder)
        except NstError as error:
            shutil.rmtree(folder, ignore_errors=True)
            raise HTTPException(400, str(error).replace(f"{folder}/", "")) from None
        finally:
            await form.close()
        return {"id": job.id}


def _add_job_routes(app: FastAPI, queue: JobQueue) -> None:
    """A submitted run followed (its status, its events, its preview), downloaded and cancelled,
    each by the session that submitted it only: to any other, no such run."""

    def job_of(job_id: str, session: str) -> Job:
        job = queue.get(job_id, session)
        if job is None:
            raise HTTPException(404, "no such run")
        return job

    @app.get("/api/jobs/{job_id}")
    def status(job_id: str, session: str = Depends(browser_session)) -> dict[str, Any]:
        return queue.status(job_of(job_id, session))

    @app.get("/api/jobs/{job_id}/events")
    def events(job_id: str, request: Request, session: str = Depends(browser_session)) -> StreamingResponse:
        stream = _events(queue, job_of(job_id, session), request.app.state.stopping)
        return StreamingResponse(stream, media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    @app.get("/api/jobs/{job_id}/preview")
    def preview(job_id: str, session: str = Depends(browser_session)) -> Response:
        job = job_of(job_id, session)
        if job.preview is None:
            raise HTTPException(404, "no preview yet")
        return Response(job.preview, media_type="image/png", headers={"Cache-Control": "no-store"})

    @app.get("/api/jobs/{job_id}/result")
    def result(job_id: str, session: str = Depends(browser_session)) -> FileResponse:
        job = job_of(job_id, session)
        if job.result is None:
            raise HTTPException(404, "no result yet")
        return FileResponse(
            job.result,
            media_type="image/png",
            filename=job.request.download_name,
            headers={"Cache-Control": "no-store"},
        )

    @app.post("/api/jobs/{job_id}/cancel")
    def cancel(job_id: str, session: str = Depends(browser_session)) -> dict[str, Any]:
        job = job_of(job_id, session)
        queue.cancel(job)
        return queue.status(job)


async def _events(queue: JobQueue, job: Job, stopping: Callable[[], bool]) -> AsyncIterator[str]:
    """Server-Sent Events: the status whenever it changes, until the run ends. Each status read
    tells the queue the page is there, and a closed page stops the stream, so a job nobody
    watches is soon cancelled. A comment every second makes a closed connection show."""
    last: dict[str, Any] | None = None
    quiet = 0.0
    while True:
        status = queue.status(job)
        if status != last:
            yield f"data: {json.dumps(status)}\n\n"
            last, quiet = status, 0.0
        elif quiet >= 1.0:
            yield ": waiting\n\n"
            quiet = 0.0
        if status["state"] in FINISHED or stopping():
            return
        await asyncio.sleep(0.25)
        quiet += 0.25


def _fast_first_frame(request: RunRequest) -> np.ndarray:
    return stylize_fast(request.content, request.styles, request.options, measure=False).pixels


def _library_stylize(*args: Any, **kwargs: Any) -> Any:
    return load_run().stylize(*args, **kwargs)
