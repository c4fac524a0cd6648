"""``nst serve``: style transfer in the browser, for people who never open a terminal.

A FastAPI app and one hand-written page (``static/``: HTML, plain JavaScript, CSS; no build
step). The page uploads a photo and paintings (or names bundled examples) with the settings;
the run goes into :class:`nst.apps.web.jobs.JobQueue`, which calls the library's ``stylize``; the page
follows it through Server-Sent Events (progress, losses, ETA, the number of a new preview) and
downloads the PNG that ``Result.save`` wrote, parameters embedded.

Safe by default: loopback only (and only Host headers that name it, against DNS rebinding),
limits on bytes, pixels, size and image types, uploads in a private temporary folder under
names the server makes, examples chosen by name from the package's list, no request that
changes anything from another site's page, and every job visible only to the browser session
(a random cookie) that made it. Bad input gets the command line's one-line message as JSON
``{"error": ...}``, never a stack trace. Ctrl-C or SIGTERM stops it at once, a run or not.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import re
import secrets
import shutil
import socket
import sys
import tempfile
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from nst.apps.web.config import EXAMPLES as EXAMPLES  # the examples offered (the tests read them here)
from nst.apps.web.config import STYLE_STRENGTH, WEB_SETTINGS, WebConfig
from nst.apps.web.jobs import FINISHED, Job, JobQueue, RunRequest, Stylize
from nst.errors import NstError
from nst.media import feedforward
from nst.media.images import output_name, peek_image
from nst.options import SETTINGS, Options
from nst.run import ladder
from nst.run.fast import stylize_fast
from nst.run.inputs import check_inputs
from nst.run.loading import load_run
from nst.run.memory import largest_size

STATIC = Path(__file__).resolve().parent / "static"
EXAMPLE_KINDS = ("photos", "paintings")
EXAMPLE_SUFFIXES = (".jpg", ".jpeg", ".png")
SESSION_COOKIE = "nst_session"
# Pillow reads many more; these are what photos and paintings come as, and fewer decoders
# facing strangers' files means fewer decoder bugs within reach. MPO: many cameras' JPEGs.
ACCEPTED_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP", "TIFF")
ACCEPTED_NAMES = "JPEG, PNG, WebP, GIF, BMP or TIFF"
# A stopping server waits this long for the run in progress to end, no longer: a run has nothing
# to save, and a step at 1024 px takes many seconds.
STOP_WAIT_S = 0.5
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_DEFAULTS = Options()


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
        config = replace(config, max_size=largest_size(_DEFAULTS))
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
    uploads = _Uploads()
    lifespan = _lifespan(queue, uploads, warm_up=first_frame is not None)
    app = FastAPI(title="nst", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.queue = queue
    app.state.stopping = lambda: False  # serve() sets it to whether the server is stopping
    _guard(app, config)
    _add_page_routes(app, config, kinds, examples, device)
    _add_submit_route(app, config, queue, uploads, examples)
    _add_job_routes(app, queue)
    return app


class _Uploads:
    """Where the uploads go: a private folder made when the app starts and removed when it stops,
    and in it a folder for each submitted form."""

    def __init__(self) -> None:
        self.root: Path | None = None

    def start(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="nst-web-"))  # mode 0700: this user's only

    def new_folder(self) -> Path:
        if self.root is None:  # never the shared temporary folder
            raise RuntimeError("the uploads' folder is made when the app starts")
        return Path(tempfile.mkdtemp(dir=self.root))

    def remove(self) -> None:
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)


def _lifespan(
    queue: JobQueue, uploads: _Uploads, warm_up: bool
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


def _guard(app: FastAPI, config: WebConfig) -> None:
    """What keeps strangers out and errors short: the Host names accepted, no request that changes
    anything from another site's page, every error as one line of JSON."""
    if config.allowed_hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(config.allowed_hosts))

    @app.middleware("http")  # added after the Host check, so it runs before it, as it always has
    async def same_origin_only(request: Request, call_next: Callable) -> Response:
        # Against cross-site request forgery: another site's page may send the browser here, but
        # nothing it sends may start, change or cancel a run.
        if request.method not in SAFE_METHODS and not _from_this_origin(request):
            return JSONResponse({"error": "refused: the request came from another site's page"}, status_code=403)
        return await call_next(request)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        return JSONResponse({"error": str(error.detail)}, status_code=error.status_code)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"error": "unexpected error in the server (its log says more)"}, status_code=500)


def _add_page_routes(
    app: FastAPI, config: WebConfig, kinds: dict[str, list[Path]], examples: dict[str, Path], device: str | None
) -> None:
    """The page, its static files, what it is told of the server (limits, defaults, the web
    settings, the device) and the example images (``kinds``: by kind; ``examples``: by name)."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page(session: str = Depends(_session)) -> FileResponse:
        return FileResponse(STATIC / "index.html", headers=_PAGE_HEADERS)

    @app.get("/api/config")
    def settings() -> dict[str, Any]:
        return {
            "examples": {kind: [path.name for path in paths] for kind, paths in kinds.items()},
            "max_upload_mb": config.max_upload_mb,
            "max_size": config.max_size,
            "max_steps": config.max_steps,
            "max_time_budget": config.max_time_budget,
            "max_paintings": config.max_paintings,
            "device": device,
            # Steps unless given are by size (nst.run.ladder.output_steps): the page shows the default size's.
            "defaults": {setting.name: setting.default for setting in WEB_SETTINGS}
            | {"steps": ladder.output_steps(_DEFAULTS)},
            # What the page offers a control for when it has none of its own: a new web setting.
            "settings": [
                {key: getattr(setting, key) for key in ("name", "kind", "default", "help", "choices")}
                for setting in WEB_SETTINGS
            ],
        }

    @app.get("/api/examples/{name}")
    def example(name: str) -> FileResponse:
        if name not in examples:  # a fixed list: a name never becomes a path
            raise HTTPException(404, "no such example")
        return FileResponse(examples[name])


def _add_submit_route(
    app: FastAPI, config: WebConfig, queue: JobQueue, uploads: _Uploads, examples: dict[str, Path]
) -> None:
    """A run submitted: its form checked as the command line checks its arguments (within the
    server's limits), then put in line."""

    @app.post("/api/jobs")
    async def submit(request: Request, session: str = Depends(_session)) -> dict[str, str]:
        # The whole body is refused before it is read when it could not fit the limits.
        length = request.headers.get("content-length")
        if length is None or not length.isdigit():
            raise HTTPException(411, "the upload must say its length")
        if int(length) > config.max_upload_bytes * (config.max_paintings + 2) + 1_000_000:
            raise HTTPException(413, f"the upload is too large: at most {config.max_upload_mb:g} MB an image")
        form = await request.form(max_files=config.max_paintings + 2, max_fields=20)
        folder = uploads.new_folder()
        try:
            request = await run_in_threadpool(_prepare, form, folder, config, examples)
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
    def status(job_id: str, session: str = Depends(_session)) -> dict[str, Any]:
        return queue.status(job_of(job_id, session))

    @app.get("/api/jobs/{job_id}/events")
    def events(job_id: str, request: Request, session: str = Depends(_session)) -> StreamingResponse:
        stream = _events(queue, job_of(job_id, session), request.app.state.stopping)
        return StreamingResponse(stream, media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    @app.get("/api/jobs/{job_id}/preview")
    def preview(job_id: str, session: str = Depends(_session)) -> Response:
        job = job_of(job_id, session)
        if job.preview is None:
            raise HTTPException(404, "no preview yet")
        return Response(job.preview, media_type="image/png", headers={"Cache-Control": "no-store"})

    @app.get("/api/jobs/{job_id}/result")
    def result(job_id: str, session: str = Depends(_session)) -> FileResponse:
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
    def cancel(job_id: str, session: str = Depends(_session)) -> dict[str, Any]:
        job = job_of(job_id, session)
        queue.cancel(job)
        return queue.status(job)


# The page loads nothing from elsewhere, and no other site may frame it.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def _from_this_origin(request: Request) -> bool:
    """Whether the browser says the request comes from this app's own page (or from no page at
    all: a command-line client). Browsers send ``Origin`` with every cross-origin POST and
    ``Sec-Fetch-Site`` with every request; another port on this machine is another origin."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.headers.get('host', '')}"


def _session(request: Request, response: Response) -> str:
    """The browser's session id, from its cookie, or a new one sent as a cookie. SameSite=Strict:
    other sites' pages cannot act in it."""
    session = request.cookies.get(SESSION_COOKIE, "")
    if not re.fullmatch(r"[A-Za-z0-9_-]{32}", session):
        session = secrets.token_urlsafe(24)
        response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="strict")
    return session


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


def example_images(folder: Path | None) -> dict[str, list[Path]]:
    """The example images of each kind (``photos``, ``paintings``), in order of name."""
    if folder is None:
        return {kind: [] for kind in EXAMPLE_KINDS}
    return {
        kind: [path for path in sorted(folder.glob(f"{kind}/*")) if path.suffix.lower() in EXAMPLE_SUFFIXES]
        for kind in EXAMPLE_KINDS
    }


def _prepare(form: FormData, folder: Path, config: WebConfig, examples: dict[str, Path]) -> RunRequest:
    """The photo, paintings and options of a submitted form, checked as the command line
    checks them; NstError otherwise. Uploads are written into ``folder``."""
    options = _options(form, config)
    images = _Images(folder, config, examples)
    contents = form.getlist("content")
    if len(contents) != 1:
        raise NstError("choose one photo")
    content = images.add(contents[0], "content")
    paintings = form.getlist("style")
    if not paintings:
        raise NstError("choose at least one painting")
    if len(paintings) > config.max_paintings:
        raise NstError(f"at most {config.max_paintings} paintings at once")
    styles = [images.add(painting, f"style-{index}") for index, painting in enumerate(paintings)]
    mask = form.get("mask")
    if isinstance(mask, UploadFile) and mask.filename:
        options = replace(options, mask=str(images.add(mask, "mask")))
    check_inputs(content, styles, options)
    name = output_name(_safe_name(images.names[content]), [_safe_name(images.names[path]) for path in styles])
    return RunRequest(content, styles, options, name, {str(path): given for path, given in images.names.items()})


class _Images:
    """Uploads written under names the server makes, each in its own folder (two uploads may
    share a name), and examples looked up by name; ``names`` maps each path to what the user
    calls it."""

    def __init__(self, folder: Path, config: WebConfig, examples: dict[str, Path]) -> None:
        self.folder, self.config, self.examples = folder, config, examples
        self.names: dict[Path, str] = {}

    def add(self, item: UploadFile | str, slot: str) -> Path:
        if isinstance(item, str):
            if item not in self.examples:
                raise NstError(f"{item!r} is not one of the examples ({', '.join(self.examples) or 'none here'})")
            self.names[self.examples[item]] = item
            return self.examples[item]
        name = Path(item.filename or "").name[:100] or "upload"  # what the user calls it, for messages
        limit = self.config.max_upload_bytes
        if item.size is not None and item.size > limit:
            raise NstError(f"{name}: {item.size / 2**20:.3g} MB, over the {self.config.max_upload_mb:g} MB limit")
        path = self.folder / slot / _safe_name(name)
        path.parent.mkdir()
        with path.open("wb") as file:
            item.file.seek(0)
            shutil.copyfileobj(item.file, file)
        self.names[path] = name
        self._check(path, name)
        return path

    def _check(self, path: Path, name: str) -> None:
        try:
            kind, (width, height) = peek_image(path)
        except NstError as error:
            raise NstError(str(error).replace(str(path), name)) from None
        if kind not in ACCEPTED_FORMATS:
            raise NstError(f"{name}: a {kind} image; the app takes {ACCEPTED_NAMES}")
        if width * height > self.config.max_pixels:
            raise NstError(
                f"{name}: {width}x{height} is {width * height / 1e6:.3g} million pixels, "
                f"over the limit of {self.config.max_pixels / 1e6:g} million"
            )


def _safe_name(filename: str | None) -> str:
    """A file name that cannot leave its folder, surprise a shell or need quoting in a download."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(filename or "").name).strip(".")[:80]
    return name or "upload"


def _options(form: FormData, config: WebConfig) -> Options:
    """The run's options from the form's fields (``WEB_SETTINGS``, each read from its field as its
    declaration says, and the style strength); the library validates them as for the command line."""
    values = {setting.name: setting.from_text(_text(form, setting.name)) for setting in WEB_SETTINGS}
    limits = (("size", config.max_size, " px"), ("steps", config.max_steps, ""),
              ("time_budget", config.max_time_budget, " s"))  # fmt: skip
    for name, limit, unit in limits:
        value, setting = values.get(name), SETTINGS[name]
        if value is not None and value > limit:
            raise NstError(
                f"{setting.label} must be at most {setting.shown(limit)}{unit} here, got {setting.shown(value)}"
            )
    strength = STYLE_STRENGTH.from_text(_text(form, STYLE_STRENGTH.name))
    if not 0 < strength < float("inf"):
        raise NstError(f"style strength must be a number > 0, got {strength:g}")
    values["style_weight"] = values.get("style_weight", _DEFAULTS.style_weight) * strength
    return Options(**values)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    if value is not None and not isinstance(value, str):
        raise NstError(f"{name.replace('_', ' ')} must be text, not a file")
    return (value or "").strip()


def _fast_first_frame(request: RunRequest) -> np.ndarray:
    return stylize_fast(request.content, request.styles, request.options, measure=False).pixels


def _library_stylize(*args: Any, **kwargs: Any) -> Any:
    return load_run().stylize(*args, **kwargs)
