"""The web app's page and what it is told of the server: the page and its static files
(``static/``: HTML, plain JavaScript, CSS; no build step), the limits, defaults and web settings
it builds its form from, the device, and the bundled example images it offers by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from nst.apps.web.config import WEB_SETTINGS, WebConfig
from nst.apps.web.guards import PAGE_HEADERS, browser_session
from nst.options import Options
from nst.run import ladder

STATIC = Path(__file__).resolve().parent / "static"
EXAMPLE_KINDS = ("photos", "paintings")
EXAMPLE_SUFFIXES = (".jpg", ".jpeg", ".png")
_DEFAULTS = Options()


def add_page_routes(
    app: FastAPI, config: WebConfig, kinds: dict[str, list[Path]], examples: dict[str, Path], device: str | None
) -> None:
    """The page, its static files, what it is told of the server (limits, defaults, the web
    settings, the device) and the example images (``kinds``: by kind; ``examples``: by name)."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page(session: str = Depends(browser_session)) -> FileResponse:
        return FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)

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


def example_images(folder: Path | None) -> dict[str, list[Path]]:
    """The example images of each kind (``photos``, ``paintings``), in order of name."""
    if folder is None:
        return {kind: [] for kind in EXAMPLE_KINDS}
    return {
        kind: [path for path in sorted(folder.glob(f"{kind}/*")) if path.suffix.lower() in EXAMPLE_SUFFIXES]
        for kind in EXAMPLE_KINDS
    }
