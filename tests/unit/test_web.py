"""The web app's HTTP side, in-process (FastAPI's TestClient) with a fake run: limits, bad input as
one clear line, sessions, examples by name only, loopback by default, the first frame."""

import io
from pathlib import Path

import numpy as np
import pytest
import tomllib
from fastapi.testclient import TestClient
from PIL import Image

import nst
from nst import Options
from nst.apps import cli
from nst.apps.web import app as web
from nst.apps.web import page
from nst.apps.web.app import WebConfig, create_app
from nst.apps.web.config import EXAMPLES
from nst.errors import NstError
from nst.media.saving import read_metadata
from nst.run import memory
from tests.helpers import CONTENT, ROOT, FakeStylize, job_events, submit_form, wait_until


class RecordingStylize(FakeStylize):
    """The fake run, remembering what it was asked to do."""

    def __call__(self, content, styles, options, *, callback, on_tile=None):
        self.asked = (content, list(styles), options, [path.is_file() for path in [content, *styles]])
        return super().__call__(content, styles, options, callback=callback, on_tile=on_tile)


def png(size=(48, 32), seed=0, format="PNG") -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, format=format)
    return buffer.getvalue()


def error_of(response) -> str:
    assert response.status_code >= 400
    body = response.json()
    assert list(body) == ["error"]
    assert "Traceback" not in body["error"] and "\n" not in body["error"]
    return body["error"]


def test_the_page_its_headers_and_the_examples(client):
    app = client()
    page = app.get("/")
    assert "<form" in page.text and "app.js" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    examples = {"photos": ["cat.jpg", "coffee.jpg"], "paintings": ["starry-night.jpg", "the-scream.jpg"]}
    assert app.get("/api/config").json()["examples"] == examples
    assert app.get("/api/examples/cat.jpg").content == CONTENT.read_bytes()
    for sneaky in ("..%2Fpyproject.toml", "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "..", "cat.jpg%00.png"):
        assert app.get(f"/api/examples/{sneaky}").status_code == 404
    assert app.get("/static/../pyproject.toml").status_code == 404


def test_a_form_runs_with_the_options_and_files_it_names(client, tmp_path):
    stylize = RecordingStylize()
    app = client(stylize)
    files = [("style", ("my painting.png", png(seed=1), "image/png")), ("mask", ("mask.png", png(seed=2), "image/png"))]
    fields = {"style_blend": "0.7,0.3", "preserve_colors": "histogram", "style_strength": "2", "style_scale": "1.5"}
    response = app.post("/api/jobs", data={"content": "cat.jpg", "style": "starry-night.jpg", "size": "64",
                        "time_budget": "30", **fields}, files=files)  # fmt: skip
    assert response.status_code == 200, response.text
    statuses = job_events(app, response.json()["id"])
    assert statuses[-1]["state"] == "done"
    content, styles, options, existed = stylize.asked
    assert content == EXAMPLES / "photos" / "cat.jpg"
    assert [styles[0], styles[1].name] == [EXAMPLES / "paintings" / "starry-night.jpg", "my_painting.png"]
    assert all(existed) and options.mask.endswith("/mask/mask.png")
    assert (options.size, options.time_budget, options.style_blend) == (64, 30.0, (0.7, 0.3))
    assert (options.preserve_colors, options.style_weight, options.style_scale) == (
        "histogram", 2 * Options().style_weight, 1.5
    )  # fmt: skip
    download = app.get(f"/api/jobs/{statuses[-1]['id']}/result")
    assert download.headers["content-disposition"] == 'attachment; filename="cat-starry-night-my_painting.png"'
    # The PNG's parameters name the images as the user did, not by the server's private paths.
    (tmp_path / "result.png").write_bytes(download.content)
    params = read_metadata(tmp_path / "result.png")
    assert params == {"content": "cat.jpg", "style": ["starry-night.jpg", "my painting.png"]}


def test_the_examples_are_package_data_sorted_into_photos_and_paintings():
    """A wheel carries them: the files offered are under the package and matched by its package-data."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["nst"]
    package = Path(nst.__file__).parent
    shipped = {path for pattern in patterns for path in package.glob(pattern)}
    kinds = page.example_images(EXAMPLES)
    assert EXAMPLES.parent == package
    assert kinds["photos"] and kinds["paintings"]
    assert set(kinds["photos"] + kinds["paintings"]) <= shipped


def test_a_text_file_gets_the_command_lines_message(client):
    app = client()
    response = submit_form(app, [("content", ("notes.txt", b"not a picture\n", "text/plain"))])
    assert (response.status_code, error_of(response)) == (400, "notes.txt: not an image Pillow can read")
    empty = submit_form(app, [("style", ("empty.jpg", b"", "image/jpeg"))], style=None)
    assert error_of(empty) == "empty.jpg: empty file, not an image"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"size": "abc"}, "size must be a whole number, got 'abc'"),
        ({"size": "8"}, "size must be at least 16 px, got 8"),
        ({"size": "99999"}, "size must be at most "),  # the largest that fits in memory (below)
        ({"steps": "1000000"}, "steps must be at most 1000 here, got 1000000"),
        ({"time_budget": "-5"}, "time_budget must be a number of seconds > 0, got -5.0"),
        ({"style_strength": "0"}, "style strength must be a number > 0, got 0"),
        ({"style_blend": "1,2"}, "style_blend has 2 weights for 1 style images"),
        ({"preserve_colors": "sepia"}, "preserve_colors must be one of luminance, histogram, got 'sepia'"),
        ({"content": "../pyproject.toml"}, "'../pyproject.toml' is not one of the examples"),
        ({"style": "/etc/passwd"}, "'/etc/passwd' is not one of the examples"),
        ({"style": None}, "choose at least one painting"),
    ],
)
def test_bad_settings_get_one_clear_line(client, fields, message):
    response = submit_form(client(), **fields)
    assert response.status_code == 400
    assert error_of(response).startswith(message)


def test_limits_on_bytes_pixels_and_types(client):
    app = client(max_upload_mb=0.01, max_pixels=10_000)
    big = png((80, 80), format="BMP")  # 19 KB
    assert error_of(submit_form(app, [("content", ("big.bmp", big, "image/bmp"))])).startswith(
        "big.bmp: 0.0184 MB, over the 0.01 MB limit"
    )
    many = png((120, 100), format="JPEG")
    assert error_of(submit_form(app, [("content", ("many.jpg", many, "image/jpeg"))])) == (
        "many.jpg: 120x100 is 0.012 million pixels, over the limit of 0.01 million"
    )
    pcx = png((20, 20), format="PCX")
    assert error_of(submit_form(app, [("content", ("old.pcx", pcx, "image/x-pcx"))])) == (
        "old.pcx: a PCX image; the app takes JPEG, PNG, WebP, GIF, BMP or TIFF"
    )
    huge = submit_form(app, [("content", ("huge.png", b"\0" * 1_200_000, "image/png"))])
    assert huge.status_code == 413 and "too large" in error_of(huge)


def test_a_phone_sized_photo_gets_through(client):
    # Noise does not compress: 5 MB, a real photo's size and over Starlette's 1 MB limits for text fields.
    photo = png((1500, 1200))
    assert len(photo) > 5_000_000
    response = submit_form(client(), [("content", ("phone.png", photo, "image/png"))])
    assert response.status_code == 200, response.text


def test_runs_are_only_visible_to_the_session_that_started_them(client):
    app = client()
    job_id = submit_form(app).json()["id"]
    assert job_events(app, job_id)[-1]["state"] == "done"
    mine = dict(app.cookies)
    app.cookies.clear()
    for path in ("", "/events", "/preview", "/result"):
        assert app.get(f"/api/jobs/{job_id}{path}").status_code == 404
    assert app.post(f"/api/jobs/{job_id}/cancel").status_code == 404
    app.cookies.update(mine)
    assert app.get(f"/api/jobs/{job_id}/result").status_code == 200


def test_cancel_through_the_api(client):
    app = client(FakeStylize(step_s=0.02))
    job_id = submit_form(app, steps="1000").json()["id"]
    assert app.post(f"/api/jobs/{job_id}/cancel").status_code == 200
    assert job_events(app, job_id)[-1]["state"] == "cancelled"


def test_only_the_loopback_names_may_ask(client):
    app = client()
    assert app.get("/", headers={"host": "evil.example"}).status_code == 400  # DNS rebinding
    assert app.get("/", headers={"host": "localhost:8000"}).status_code == 200


def test_serve_listens_on_loopback_unless_told_and_warns_when_told(monkeypatch, capsys):
    assert cli.build_parser().commands["serve"].parse_args([]).host == "127.0.0.1"
    assert web.is_loopback("127.0.0.1") and web.is_loopback("::1") and web.is_loopback("localhost")
    assert not web.is_loopback("0.0.0.0") and not web.is_loopback("192.168.1.10")
    asked = []

    def listen(host, port):
        asked.append((host, port))
        raise NstError(f"cannot listen on {host}:{port}: stopped by the test")

    monkeypatch.setattr(web, "listen", listen)
    assert cli.main(["serve"]) == 2
    assert capsys.readouterr().err == "nst: error: cannot listen on 127.0.0.1:8000: stopped by the test\n"
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "9"]) == 2
    warning, error = capsys.readouterr().err.splitlines()
    assert warning == "nst: warning: listening on 0.0.0.0: anyone who can reach this machine can use the app"
    assert asked == [("127.0.0.1", 8000), ("0.0.0.0", 9)]
    assert cli.main(["serve", "--abandon-after", "0"]) == 2
    assert capsys.readouterr().err == "nst: error: --abandon-after must be more than 0 seconds, got 0\n"
    assert len(asked) == 2  # refused before it listens


def test_the_page_offers_print_sizes_up_to_what_fits_in_memory_in_tiles(client, monkeypatch):
    """Unless the server sets --max-size, the page offers the largest size whose plan fits in the
    memory available (6000 MB here), which needs tiles; a size over it gets one line."""
    monkeypatch.setattr(memory, "available_mb", lambda: 6000.0)
    largest = memory.largest_size(Options())
    assert memory.plan_size(Options(), largest, largest).tile is not None  # a print's size: in tiles
    assert memory.plan_size(Options(), largest + 16, largest + 16) is None
    app = client()
    assert app.get("/api/config").json()["max_size"] == largest > 4096
    assert (
        error_of(submit_form(app, size=str(largest + 1)))
        == f"size must be at most {largest} px here, got {largest + 1}"
    )
    assert submit_form(app, size=str(largest)).status_code == 200
    assert client(max_size=1024).get("/api/config").json()["max_size"] == 1024  # the server's own limit


def test_the_page_says_which_device_runs_the_jobs(client):
    assert client().get("/api/config").json()["device"] is None  # not told: the page says nothing
    app = create_app(WebConfig(), FakeStylize(), device="GPU (NVIDIA H200)")
    with TestClient(app, base_url="http://127.0.0.1") as page:
        assert page.get("/api/config").json()["device"] == "GPU (NVIDIA H200)"
        assert '<p class="hint" id="device" hidden></p>' in page.get("/").text  # app.js fills it in


def test_a_busy_port_is_one_line(capsys):
    with web.listen("127.0.0.1", 0) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(NstError, match=f"cannot listen on 127.0.0.1:{port}: Address already in use"):
            web.listen("127.0.0.1", port)


@pytest.mark.parametrize("installed", [True, False], ids=["with-the-fast-extra", "without-it"])
def test_the_first_frame_comes_before_the_first_step_with_the_fast_extra(client, installed):
    """With the extra, the fast network's picture of the run, of the run's size, is shown
    while the first step is still to come; without it the page waits for the step, as before."""
    stylize = RecordingStylize()
    stylize.gate.clear()  # the first step waits
    app = client(stylize, fast_extra=installed)
    job_id = submit_form(app, size="96").json()["id"]
    wait_until(lambda: hasattr(stylize, "asked"))  # the run has started: a first frame comes before that
    status = app.get(f"/api/jobs/{job_id}").json()
    assert (status["step"], status["preview"]) == (0, 1 if installed else 0)
    preview = app.get(f"/api/jobs/{job_id}/preview")
    if installed:
        with Image.open(io.BytesIO(preview.content)) as image:
            assert image.size == (96, 64)  # the size the run makes
    else:
        assert preview.status_code == 404
    stylize.gate.set()
    assert job_events(app, job_id)[-1]["state"] == "done"


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"origin": "http://127.0.0.1:9999"},  # another port on this machine is another site's page
        {"origin": "null"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
    ],
    ids=["other-site", "other-port", "null", "cross-site", "same-site"],
)
def test_other_sites_cannot_start_or_cancel_runs(client, headers):
    app = client()
    job_id = submit_form(app).json()["id"]
    app.cookies.clear()  # what a forged request brings: no session, so none must be made for it
    forged = app.post("/api/jobs", data={"content": "cat.jpg", "style": "starry-night.jpg"}, headers=headers)
    assert forged.status_code == 403
    assert error_of(forged) == "refused: the request came from another site's page"
    assert "set-cookie" not in forged.headers
    assert app.post(f"/api/jobs/{job_id}/cancel", headers=headers).status_code == 403


def test_the_apps_own_page_may_post(client):
    app = client()
    own = {"origin": "http://127.0.0.1", "sec-fetch-site": "same-origin"}
    response = app.post("/api/jobs", data={"content": "cat.jpg", "style": "starry-night.jpg"}, headers=own)
    assert response.status_code == 200, response.text
