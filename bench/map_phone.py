"""How soon the needs map answers on a phone on a slow connection, under the production
setup: gunicorn, DEBUG off, whitenoise serving compressed static files collected into a
temporary STATIC_ROOT, a throw-away database with real Jakarta (and a need in every
residential RW, the largest need state).

Debian's Chromium (through Playwright) opens /peta/ with a 390x844 phone profile and
Chromium's own network emulation (1.6 Mbps down, 750 kbps up, 150 ms latency).

"Interactive" is the moment needs-map.js has drawn every RW and applied the need state
(shaded, answering taps): it writes that moment, in ms since navigation start, to
#needs-map's data-interactive-at. Bytes are everything the page transferred until then
(compressed sizes, headers included), map tiles excepted: they come from a third party
and are switched off here.

    .venv/bin/python bench/map_phone.py [--runs 3]

Ends with one line: phone_map_interactive_s=... bytes=... (the median of the runs).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from common import ROOT, load_data, setup_django
from map_serving import free_port

CHROMIUM = "/usr/bin/chromium"
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "id-ID",
}
SLOW_NETWORK = {
    "offline": False,
    "latency": 150,  # ms
    "downloadThroughput": 1_600_000 / 8,  # bytes/s
    "uploadThroughput": 750_000 / 8,
}


def start_portal(database: str) -> tuple[subprocess.Popen, str]:
    static_root = tempfile.mkdtemp(prefix="ksbb-bench-static-")
    env = dict(
        os.environ,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        STATIC_ROOT=static_root,
        MAP_TILE_URL="",
        LOG_LEVEL="WARNING",
    )
    if not os.environ.get("DATABASE_URL"):
        env["SQLITE_PATH"] = database
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "ksbb.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(base + "/peta/", timeout=5)
            return server, base
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer")


def measure(browser, base: str) -> tuple[float, int]:
    """One cold visit (a new browser context: empty cache): seconds and bytes."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", SLOW_NETWORK)
    transferred = []
    cdp.on("Network.loadingFinished", lambda event: transferred.append(event["encodedDataLength"]))
    page.goto(base + "/peta/", wait_until="commit")
    page.wait_for_function(
        "() => { const m = document.getElementById('needs-map');"
        " return m && m.dataset.interactiveAt; }",
        timeout=60_000,
    )
    interactive_ms = int(page.locator("#needs-map").get_attribute("data-interactive-at"))
    # Interactive means it answers: a tap on the map opens an area's panel.
    box = page.locator("#needs-map").bounding_box()
    page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    total = sum(transferred)
    context.close()
    return interactive_ms / 1000, int(total)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    database = setup_django()
    load_data()
    server, base = start_portal(database)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            runs = [measure(browser, base) for _ in range(args.runs)]
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    for seconds, size in runs:
        print(f"run: {seconds:.2f} s, {size} bytes", file=sys.stderr)
    seconds = statistics.median(s for s, _ in runs)
    size = int(statistics.median(b for _, b in runs))
    print(f"phone_map_interactive_s={seconds:.2f} bytes={size}")


if __name__ == "__main__":
    main()
