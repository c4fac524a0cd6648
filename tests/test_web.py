"""The web app with the real run, in-process (FastAPI's TestClient): a tiny run from the form to the
download, and the device the page names (the HTTP side with a fake run: tests/unit/test_web.py)."""

import io

import pytest
from PIL import Image

from nst.apps import cli
from nst.apps.web import app as web
from nst.media.saving import read_metadata
from tests.helpers import job_events, submit_form


@pytest.mark.e2e
def test_a_real_tiny_run(client, weights, monkeypatch):
    monkeypatch.setenv("NST_WEIGHTS", weights)
    app = client(stylize=None)  # the library's stylize
    job_id = submit_form(app, size="32", steps="3").json()["id"]
    statuses = job_events(app, job_id)
    assert statuses[-1]["state"] == "done", statuses[-1]
    assert statuses[-1]["step"] == 3 and any(status["state"] == "running" for status in statuses)
    download = app.get(f"/api/jobs/{job_id}/result")
    path = app.app.state.queue.get(job_id, app.cookies["nst_session"]).result
    with Image.open(io.BytesIO(download.content)) as image:
        assert (image.format, max(image.size)) == ("PNG", 32)
    assert read_metadata(path)["size"] == 32 and read_metadata(path)["steps"] == 3


@pytest.mark.e2e
def test_nst_serve_tells_the_page_the_device_the_backend_reports(monkeypatch):
    """CPU here, a GPU's name on one (the page's side: tests/unit/test_web.py)."""
    served = []
    monkeypatch.setattr(web, "listen", lambda host, port: None)
    monkeypatch.setattr(web, "serve", lambda listener, config, stylize, device: served.append(device))
    assert cli.main(["serve"]) == 0
    assert served == [cli.device()] and served[0].startswith(("CPU", "GPU"))


@pytest.mark.e2e
def test_nst_serve_with_workers_starts_them_once_gives_every_job_them_and_stops_them_at_the_end(monkeypatch):
    """The serve command's wiring, on stand-in workers (the tiles on real ones: tests/test_cluster.py),
    and its limits handed to the app."""
    from nst.run import tile_workers

    events, served = [], []

    class Workers:
        def __init__(self, workers, weights):
            events.append(("started", workers.count, workers.address))
            self.stats = tile_workers.TileStats(workers=3)

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            events.append(("stopped",))

    monkeypatch.setattr(tile_workers, "TileWorkers", Workers)
    monkeypatch.setattr(web, "listen", lambda host, port: None)
    monkeypatch.setattr(
        web, "serve", lambda listener, config, stylize, device: served.append((config, stylize, device))
    )
    assert cli.main(["serve", "--workers", "3", "--abandon-after", "2.5"]) == 0
    [(config, stylize, device)] = served
    assert config.abandon_after_s == 2.5
    assert events == [("started", 3, None), ("stopped",)]
    assert device == f"{cli.device()}, tiles on 3 Ray workers"
    assert isinstance(stylize.keywords["cluster"], Workers)
