"""``nst serve`` end to end: the real command in its own process, driven by Debian's Chromium
through Playwright as a person would use it, and by two HTTP clients at once.

Chromium is Debian's, which ``make test`` installs when it is missing, or the one
``NST_CHROMIUM`` names: Playwright's own browser download is not possible here. Without
Chromium these tests fail, not skip.
"""

import contextlib
import email.policy
import functools
import http.server
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email.parser import BytesParser
from pathlib import Path

import httpx2
import psutil
import pytest
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from nst import Options
from nst.apps import cli
from nst.media.saving import read_metadata
from nst.run import ladder
from tests.helpers import CONTENT, ROOT, STYLE, started

CHROMIUM = os.environ.get("NST_CHROMIUM", "/usr/bin/chromium")
# The closed network here refuses Chromium's own background connections; these keep it quiet.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = ROOT / "docs" / "web.png"
ABANDON_AFTER_S = 3  # the shared server's --abandon-after


class Server:
    def __init__(self, process: subprocess.Popen, url: str) -> None:
        self.process, self.url = process, url

    def client(self) -> httpx2.Client:
        """A new browser session, as far as the server can tell."""
        client = httpx2.Client(base_url=self.url, timeout=30)
        assert client.get("/").status_code == 200  # the session cookie
        return client


@contextlib.contextmanager
def serving(weights: str, stderr_path: Path, *options: str) -> Iterator[Server]:
    """``nst serve --port 0 [OPTIONS]`` as a user starts it, ended with its process group at the end."""
    env = {**os.environ, "NST_WEIGHTS": weights}
    command = [sys.executable, "-m", "nst", "serve", "--port", "0", *options]
    with stderr_path.open("w") as stderr, started(command, stdout=subprocess.PIPE, stderr=stderr, env=env) as process:
        ready, _, _ = select.select([process.stdout], [], [], 180)
        line = process.stdout.readline().decode() if ready else ""
        assert line.startswith("nst: serving on http://127.0.0.1:"), (line, stderr_path.read_text())
        yield Server(process, line.split()[3])


@pytest.fixture(scope="module")
def server(weights, tmp_path_factory):
    """The server the page tests share; its stderr must stay empty (no TensorFlow notices, no
    tracebacks). A run whose page is gone is cancelled 3 s after, not 10: a closed page's run is
    not left to take the CPU for 10 s (its page asks about it 4 times a second while it is open)."""
    stderr_path = tmp_path_factory.mktemp("serve") / "stderr.txt"
    with serving(weights, stderr_path, "--abandon-after", str(ABANDON_AFTER_S)) as server:
        yield server
        server.process.terminate()
        server.process.wait(30)
    assert stderr_path.read_text() == ""


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"no Chromium at {CHROMIUM}: make test installs Debian's, or set NST_CHROMIUM=/path/to/chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(server.url)
    yield page
    context.close()


def settings(page, size: int, steps: int) -> None:
    page.fill("#size", str(size))
    page.select_option("#limit", "steps")
    page.fill("#steps", str(steps))


@pytest.mark.e2e
def test_upload_watch_the_picture_form_and_download_it(page, tmp_path):
    previews = []
    page.on("response", lambda response: previews.append(response) if "/preview" in response.url else None)
    page.set_input_files("#content-file", CONTENT)
    page.click("#paintings li button")  # the example painting chosen at first: an upload instead
    page.set_input_files("#style-file", STYLE)
    assert page.locator("#paintings li").all_inner_texts() == ["starry-night.jpg\n×"]
    settings(page, size=160, steps=10)
    page.click("#start")
    page.wait_for_selector("#download", state="visible", timeout=300_000)
    total = sum(ladder.steps_per_size(Options(size=160, steps=10)))  # the painting ladder's coarser sizes too
    assert page.inner_text("#status").startswith(f"Done: {total} steps in")
    assert page.inner_text("#error") == ""

    bodies = {response.body() for response in previews if response.ok}
    assert len(bodies) >= 2, "at least two different live previews"
    with page.expect_download() as download:
        page.click("#download")
    assert download.value.suggested_filename == "cat-starry-night.png"
    path = tmp_path / "result.png"
    download.value.save_as(path)
    with Image.open(path) as image:
        assert (image.format, max(image.size)) == ("PNG", 160)
    params = read_metadata(path)
    assert (params["size"], params["steps"]) == (160, 10)
    assert (params["content"], params["style"]) == ("cat.jpg", "starry-night.jpg")  # as uploaded, not server paths
    assert page.eval_on_selector("#picture", "img => img.naturalWidth") == 160  # the result is shown

    page.screenshot(path=tmp_path / "web.png")
    assert (tmp_path / "web.png").stat().st_size > 10_000
    if os.environ.get("NST_UPDATE_SCREENSHOT"):  # the README's picture: NST_UPDATE_SCREENSHOT=1 make test
        shutil.copy(tmp_path / "web.png", SCREENSHOT)


@pytest.mark.e2e
def test_a_first_picture_is_shown_before_the_first_step(browser, weights, tmp_path):
    """With the fast extra (the tests install it), the fast network's picture comes at once. A
    fresh server, as a person meets it, and a 1024 px run, whose first step (TensorFlow loading,
    compiling, a pass at 1024 px) takes many seconds: the picture is shown, at the run's size,
    while the page still says no step has been taken. The time from Start to the picture on
    the page is printed, not asserted."""
    stderr_path = tmp_path / "stderr.txt"
    with serving(weights, stderr_path) as server:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(server.url)
        expect(page.locator("#content-examples .thumb")).to_have_count(2)  # the page has its settings
        settings(page, size=1024, steps=1000)
        # Chromium's own clock: from the click on Start to the picture decoded and shown.
        page.evaluate("""() => {
            $("start").addEventListener("click", () => { window.startedAt = performance.now(); }, { capture: true });
            $("picture").addEventListener("load", () => { window.shownAt ??= performance.now(); });
        }""")  # fmt: skip
        page.click("#start")
        page.wait_for_function("() => window.shownAt !== undefined")
        shown_ms = page.evaluate("() => window.shownAt - window.startedAt")
        assert page.inner_text("#status").startswith("A quick sketch; loading the network")
        assert page.eval_on_selector("#picture", "img => [img.naturalWidth, img.src]")[0] == 1024
        assert "/preview" in page.eval_on_selector("#picture", "img => img.src")
        print(f"first picture shown {shown_ms / 1000:.2f} s after Start (1024 px, a fresh server)")
        context.close()
    assert stderr_path.read_text() == ""


@pytest.mark.e2e
def test_the_page_says_which_device_runs_the_jobs(page):
    expect(page.locator("#device")).to_have_text(f"Runs on {cli.device()}.")  # the backend's: "CPU" here


@pytest.mark.e2e
def test_wait_in_line_then_cancel(page, server):
    other = server.client()  # someone else's run goes first
    other.post("/api/jobs", data={"content": "cat.jpg", "style": "the-scream.jpg", "size": "32", "steps": "3"})
    settings(page, size=64, steps=1000)
    page.click("#start")
    expect(page.locator("#status")).to_have_text("Waiting: 1 run ahead of yours.")
    expect(page.locator("#status")).to_have_text(re.compile("^Step"), timeout=120_000)
    page.click("#cancel")
    expect(page.locator("#status")).to_have_text("Cancelled.", timeout=15_000)
    assert page.is_enabled("#start") and page.is_hidden("#cancel")


@pytest.mark.e2e
def test_the_page_sends_every_setting(page, tmp_path):
    """Blend, colours, strength, scale, mask and budget as the form sends them (the server's
    reading of them is tested in test_web.py); the page shows the server's answer."""
    mask = tmp_path / "mask.png"
    Image.new("L", (8, 8), 255).save(mask)
    names = "buttons => buttons.map(button => button.dataset.name)"
    # The page fills the pickers from /api/config after it loads: wait for them, then read them.
    expect(page.locator("#content-examples .thumb")).to_have_count(2)
    expect(page.locator("#style-examples .thumb")).to_have_count(2)
    assert page.eval_on_selector_all("#content-examples .thumb", names) == ["cat.jpg", "coffee.jpg"]  # photos as photos
    assert page.eval_on_selector_all("#style-examples .thumb", names) == ["starry-night.jpg", "the-scream.jpg"]
    page.click("#style-examples .thumb[data-name='the-scream.jpg']")
    weights = page.locator("#paintings input[type=number]")
    weights.nth(0).fill("0.7")
    weights.nth(1).fill("0.3")
    page.select_option("#preserve-colors", "histogram")
    page.focus("#strength")
    for _ in range(3):
        page.keyboard.press("ArrowRight")  # 10 ** 0.3: about twice the style weight
    assert page.inner_text("#strength-shown") == "×2.0"
    page.fill("#style-scale", "1.5")
    page.select_option("#limit", "time_budget")
    page.fill("#time-budget", "45")
    page.set_input_files("#mask-file", mask)
    sent = []

    def answer(route):
        sent.append((route.request.headers["content-type"], route.request.post_data_buffer))
        route.fulfill(status=400, json={"error": "stopped by the test"})

    page.route("**/api/jobs", answer)
    page.click("#start")
    expect(page.locator("#error")).to_have_text("stopped by the test")
    content_type, body = sent[0]
    message = BytesParser(policy=email.policy.HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    # Chromium does not hand over an uploaded file's bytes here, only its name.
    form = [
        (part.get_param("name", header="content-disposition"), part.get_filename() or part.get_payload(decode=True))
        for part in message.iter_parts()
    ]
    assert form == [
        ("content", b"cat.jpg"),
        ("style", b"starry-night.jpg"),
        ("style", b"the-scream.jpg"),
        ("style_blend", b"0.7,0.3"),
        ("size", b"512"),
        ("time_budget", b"45"),
        ("style_strength", b"1.9952623149688795"),
        ("style_scale", b"1.5"),
        ("preserve_colors", b"histogram"),
        ("mask", "mask.png"),
    ]


@pytest.mark.e2e
def test_a_text_file_gets_a_clear_message(page):
    page.set_input_files("#content-file", {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"a shopping list"})
    page.click("#start")
    page.wait_for_selector("#error:not(:empty)")
    assert page.inner_text("#error") == "notes.txt: not an image Pillow can read"
    assert page.is_enabled("#start")


@pytest.mark.e2e
def test_closing_the_page_frees_the_worker(browser, server):
    context = browser.new_context()
    page = context.new_page()
    page.goto(server.url)
    settings(page, size=64, steps=1000)
    page.click("#start")
    expect(page.locator("#status")).to_have_text(re.compile("^Step"), timeout=120_000)
    abandoned = page.evaluate("state.job.id")
    cookies = {cookie["name"]: cookie["value"] for cookie in context.cookies()}
    context.close()  # the tab is gone mid-run; nobody cancels
    client = server.client()
    job = client.post("/api/jobs", data={"content": "cat.jpg", "style": "starry-night.jpg", "size": "32", "steps": "2"})
    state = wait_for_end(client, job.json()["id"])
    assert state == "done"
    # The next run got the worker because the abandoned one was cancelled for its closed page,
    # ABANDON_AFTER_S after it closed, long before its 1000 steps.
    with httpx2.Client(base_url=server.url, cookies=cookies, timeout=30) as owner:
        status = owner.get(f"/api/jobs/{abandoned}").json()
    assert (status["state"], status["message"]) == ("cancelled", "cancelled: its page was closed")
    assert status["step"] < 1000


@pytest.mark.e2e
def test_two_runs_at_once_one_waits_and_neither_is_mixed_up(server, tmp_path):
    first, second = server.client(), server.client()
    ask = {"content": "cat.jpg", "size": "64", "steps": "10"}
    one = first.post("/api/jobs", data={**ask, "style": "starry-night.jpg"}).json()["id"]
    two = second.post("/api/jobs", data={**ask, "style": "the-scream.jpg", "size": "48"}).json()["id"]
    status = second.get(f"/api/jobs/{two}").json()
    assert (status["state"], status["ahead"]) == ("queued", 1)
    seen = set()
    while not {"one done", "two done"} <= seen:
        # Two first: it runs only after one has ended, so seeing it running and then one running
        # means they overlapped; the other order could see one just before it ended, then two.
        two_state = second.get(f"/api/jobs/{two}").json()["state"]
        states = first.get(f"/api/jobs/{one}").json()["state"], two_state
        assert states != ("running", "running")
        seen |= {f"one {states[0]}", f"two {states[1]}"}
        assert not seen & {"one failed", "two failed", "one cancelled", "two cancelled"}, seen
        time.sleep(0.1)
    assert "two queued" in seen
    assert second.get(f"/api/jobs/{one}/result").status_code == 404  # not its run
    for client, job, size, style in ((first, one, 64, "starry-night.jpg"), (second, two, 48, "the-scream.jpg")):
        path = tmp_path / f"{job}.png"
        path.write_bytes(client.get(f"/api/jobs/{job}/result").content)
        params = read_metadata(path)
        assert params["size"] == size and params["style"].endswith(style)


@pytest.mark.e2e
def test_it_listens_on_loopback_only(server):
    listening = [c for c in psutil.Process(server.process.pid).net_connections("inet") if c.status == "LISTEN"]
    assert [c.laddr.ip for c in listening] == ["127.0.0.1"]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # not on the test's stderr
        pass


@pytest.mark.e2e
def test_another_sites_page_cannot_start_a_run(page, server, tmp_path):
    """A page served from another port (another origin, the same site) submits a form to the
    app, as a forged request would: refused. The app's own page still starts runs."""
    port = server.url.rsplit(":", 1)[1]
    (tmp_path / "forge.html").write_text(
        f'<form method="post" enctype="multipart/form-data" action="http://127.0.0.1:{port}/api/jobs">'
        '<input name="content" value="cat.jpg"><input name="style" value="starry-night.jpg">'
        '<input name="size" value="32"><input name="steps" value="1"></form>'
        "<script>document.forms[0].submit()</script>"
    )
    handler = functools.partial(QuietHandler, directory=tmp_path)
    other_site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=other_site.serve_forever, daemon=True).start()
    try:
        with page.expect_response(f"{server.url}/api/jobs") as answer:
            page.goto(f"http://127.0.0.1:{other_site.server_address[1]}/forge.html")
        assert answer.value.status == 403
        assert answer.value.json() == {"error": "refused: the request came from another site's page"}
    finally:
        other_site.shutdown()
        other_site.server_close()
    page.goto(server.url)  # the app's own page: its fetch is same-origin
    own = page.evaluate(
        """async () => {
            const form = new FormData();
            for (const [name, value] of [["content", "cat.jpg"], ["style", "starry-night.jpg"], ["size", "32"],
                                         ["steps", "1"]]) form.append(name, value);
            const response = await fetch("/api/jobs", { method: "POST", body: form });
            return [response.status, await response.json()];
        }"""
    )
    assert own[0] == 200 and set(own[1]) == {"id"}


@pytest.mark.slow
@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_server_stops_at_once_with_a_run_in_progress(weights, tmp_path, number):
    """A run has nothing to save: the server does not wait for its step. The first step at
    1024 px (loading, compiling, one pass) takes far longer than the 10 s allowed here; waiting
    for it took 22 s."""
    stderr_path = tmp_path / "stderr.txt"
    with serving(weights, stderr_path) as server:
        client = server.client()
        job = client.post("/api/jobs", data={"content": "cat.jpg", "style": "starry-night.jpg", "size": "1024"})
        job_id = job.json()["id"]
        while client.get(f"/api/jobs/{job_id}").json()["state"] != "running":
            time.sleep(0.1)
        # Into the run: the server is working on it (loading the network, compiling, the first step),
        # its CPU time a second more than when the run began.
        process, deadline = psutil.Process(server.process.pid), time.monotonic() + 120
        began = sum(process.cpu_times()[:2])
        while sum(process.cpu_times()[:2]) < began + 1.0:
            assert time.monotonic() < deadline, "the run never started working"
            time.sleep(0.1)
        asked = time.monotonic()
        server.process.send_signal(number)
        server.process.wait(timeout=10)
        stopped_s = time.monotonic() - asked
    print(f"stopped {stopped_s:.1f} s after {signal.Signals(number).name}")  # the figure the README gives
    assert server.process.returncode in (0, -number)
    assert stderr_path.read_text() == ""


def wait_for_end(client: httpx2.Client, job_id: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get(f"/api/jobs/{job_id}").json()["state"]
        if state in ("done", "failed", "cancelled"):
            return state
        time.sleep(0.2)
    raise AssertionError(f"run {job_id} did not end in {timeout} s")
