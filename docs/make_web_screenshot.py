"""Takes the README's picture of the web page (docs/web.png): ``nst serve`` as a person meets it,
the bundled photo and painting, the page's own defaults, Start, and the finished picture.

    NST_WEIGHTS=... NST_CHROMIUM=/usr/bin/chromium python docs/make_web_screenshot.py

Chromium is Debian's (as for the browser tests); a run at the defaults takes about a minute on
two cores.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def main() -> None:
    from playwright.sync_api import sync_playwright

    server = subprocess.Popen([sys.executable, "-m", "nst.apps.cli", "serve", "--port", "0"], cwd=ROOT,
                              stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        url = None
        while url is None:  # it says where it listens
            line = server.stdout.readline()
            if not line:
                raise SystemExit("nst serve ended before it listened")
            found = re.search(r"serving on (http://\S+:\d+)", line)
            url = found and found.group(1)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=os.environ.get("NST_CHROMIUM", "/usr/bin/chromium"),
                                                 args=CHROMIUM_ARGS)  # fmt: skip
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url)
            page.set_input_files("#content-file", ROOT / "examples" / "cat.jpg")
            page.click("#start")
            page.wait_for_selector("#download", state="visible", timeout=900_000)
            page.screenshot(path=ROOT / "docs" / "web.png")
            print(f"wrote docs/web.png: {page.inner_text('#status')}")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
