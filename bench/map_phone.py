"""How soon the needs map answers on a slow phone, under the production setup: gunicorn
(2 workers), DEBUG off, whitenoise serving compressed static files collected into a
temporary STATIC_ROOT, a throw-away database with real Jakarta (and a need in every
residential RW, the largest need state). The server's caches are warmed first, as a
running server's are (the page, the data it preloads, an area panel).

The phone: Debian's Chromium (/usr/bin/chromium through Playwright, headless, never a
downloaded browser) in a 390x844 touch context (device scale factor 3), one new context
(an empty cache) per run, with Lighthouse's "slow 4G" DevTools throttling applied through
the Chrome DevTools Protocol before the page is requested:

- CPU: `Emulation.setCPUThrottlingRate` 4 (every script, layout and paint 4x slower);
- network, per request (`Network.emulateNetworkConditions`): 562.5 ms latency added to
  every request (150 ms RTT x 3.75), 1474.56 kbit/s down (1.6 Mbit/s x 0.9, shared by all
  requests in flight), 675 kbit/s up.

Base-map tiles are on: a tile server the bench starts on 127.0.0.1 (threaded, HTTP/1.1
keep-alive, its own origin like a real tile host) serves 256x256 PNG tiles of noise of
17-28 KB each, which gzip cannot shrink; the portal is pointed at it through MAP_TILE_URL
(and so its Content-Security-Policy lets images come from it).

Measured per run:

- phone_map_interactive_s: from navigation start until needs-map.js has drawn every RW and
  shaded it by the need state (answering taps): the moment it writes, in ms since
  navigation start, to #needs-map's data-interactive-at.
- tap_to_panel_s: right after that (the base map's tiles still loading), a tap (touch
  events, at phone size) inside a shaded RW on screen, until that RW's area panel has
  opened with its content (#area-panel shown, data-code the tapped RW's, aria-busy gone):
  from the touch event's timestamp to the panel's change, both timed in the page.
- bytes: everything the page transferred (compressed sizes, headers included; the
  document, CSS, scripts, geometry, need state and tiles) until interactive; a response
  still arriving then counts with the bytes received so far.

    .venv/bin/python bench/map_phone.py [--runs 3] [--trace]

Each run also checks that the page raised no error and that base-map tiles were drawn.
--trace prints every request of each run (start, end, bytes, URL, in seconds since
navigation start) to stderr. Ends with one line:
phone_map_interactive_s=... tap_to_panel_s=... bytes=... (the medians of the runs).
"""

from __future__ import annotations

import argparse
import html
import io
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from common import collect_static, free_port, load_data, progress, serve, throwaway_setup

CHROMIUM = "/usr/bin/chromium"
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "id-ID",
}
CPU_SLOWDOWN = 4
# Lighthouse's "slow 4G" (150 ms RTT, 1.6 Mbit/s) as DevTools applies it, request by request.
SLOW_NETWORK = {
    "offline": False,
    "latency": 562.5,  # ms, added to every request
    "downloadThroughput": 1474.56 * 1024 / 8,  # bytes/s
    "uploadThroughput": 675 * 1024 / 8,
}
NO_SHADE = ("#dfe3e8", "#a7b0ba")  # needs-map.js: NO_NEED, NO_RESIDENTS

# Installed before the page's scripts: when a touch starts, and when the area panel has
# its content (aria-busy removed while shown), in the page's clock (performance.now()).
# The bench waits on promises, not by polling: polls would run on the page's (throttled)
# main thread and slow down what they measure.
WATCH = """
window.bench = { tap: {} };
window.bench.interactive = new Promise((resolve) => {
  new MutationObserver((records, observer) => {
    const map = document.getElementById("needs-map");
    if (map && map.dataset.interactiveAt) { observer.disconnect(); resolve(); }
  }).observe(document, {
    subtree: true, attributes: true, attributeFilter: ["data-interactive-at"],
  });
});
window.bench.panel = new Promise((resolve) => {
  const tap = window.bench.tap;
  document.addEventListener("touchstart", (event) => {
    if (tap.at === undefined) tap.at = event.timeStamp;
  }, { capture: true, passive: true });
  new MutationObserver((records, observer) => {
    const panel = document.getElementById("area-panel");
    if (tap.at !== undefined && panel && !panel.hidden && panel.dataset.code
        && !panel.hasAttribute("aria-busy")) {
      tap.panelAt = performance.now();
      tap.code = panel.dataset.code;
      observer.disconnect();
      resolve();
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["aria-busy"] });
});
"""
# Awaits one of those promises, or fails after `seconds`.
AWAIT = """([name, seconds]) => Promise.race([window.bench[name], new Promise((_, reject) =>
  setTimeout(() => reject(new Error(`${name} not reached in ${seconds} s`)), seconds * 1000))])"""

# A point well inside the largest shaded RW on screen (away from its edges, the zoom
# buttons and the attribution), in viewport pixels, and that RW's code.
TAP_TARGET = """(noShade) => {
  const map = ksbbMap.map, rect = map.getContainer().getBoundingClientRect();
  const size = map.getSize(), margin = 6;
  const onScreen = (p) => p.x > 56 && p.x < size.x - 8 && p.y > 8 && p.y < size.y - 24
    && rect.top + p.y > 0 && rect.top + p.y < window.innerHeight;
  const candidates = Object.entries(ksbbMap.state.byCode)
    .filter(([code, layer]) => !noShade.includes(layer.options.fillColor) && layer._pxBounds)
    .map(([code, layer]) => [code, layer, layer._pxBounds.getSize()])
    .sort((a, b) => b[2].x * b[2].y - a[2].x * a[2].y);
  const ring = [[margin, 0], [-margin, 0], [0, margin], [0, -margin],
    [margin, margin], [-margin, margin], [margin, -margin], [-margin, -margin]];
  for (const [code, layer] of candidates) {
    const b = layer._pxBounds;
    for (let y = b.min.y + margin; y <= b.max.y - margin; y += 2) {
      for (let x = b.min.x + margin; x <= b.max.x - margin; x += 2) {
        const p = L.point(x, y);
        if (!layer._containsPoint(p)) continue;
        if (!ring.every(([dx, dy]) => layer._containsPoint(L.point(x + dx, y + dy)))) continue;
        const c = map.layerPointToContainerPoint(p);
        if (!onScreen(c)) continue;
        return { code: code, x: rect.left + c.x, y: rect.top + c.y };
      }
    }
  }
  return null;
}"""


def noise_tiles(count: int = 8) -> list[bytes]:
    """PNG tiles (256x256) of random pixels from 4 or 5 colours: 17-28 KB each, like a
    city's base-map tiles, and as incompressible."""
    from PIL import Image

    palette = [242, 239, 233, 170, 211, 223, 255, 255, 255, 205, 235, 176, 232, 146, 162]
    tiles = []
    for seed in range(count):
        rng = random.Random(seed)
        colours = 4 + seed % 2
        image = Image.new("P", (256, 256))
        image.putpalette(palette)
        image.putdata([rng.randrange(colours) for _ in range(256 * 256)])
        out = io.BytesIO()
        image.save(out, "PNG", optimize=True)
        tiles.append(out.getvalue())
    return tiles


def start_tile_server() -> tuple[ThreadingHTTPServer, str]:
    """A base-map tile server on 127.0.0.1: /{z}/{x}/{y}.png, in a thread."""
    tiles = noise_tiles()

    class Tiles(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as tile hosts do

        def do_GET(self):  # noqa: N802 (the http.server API)
            body = tiles[zlib.crc32(self.path.encode()) % len(tiles)]
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "public, max-age=86400")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            if not isinstance(sys.exc_info()[1], ConnectionError):  # a page closed mid-tile
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", free_port()), Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/{{z}}/{{x}}/{{y}}.png"


def start_portal(database: str, tile_url: str, static_root: str) -> tuple[subprocess.Popen, str]:
    """Collect the static files into `static_root` and start gunicorn on `database`, with
    the base map at `tile_url`, caches warm; returns (process, base URL)."""
    env = {
        "STATIC_ROOT": static_root,
        "MAP_TILE_URL": tile_url,
        # With REDIS_URL set, nothing cached by another database's portal is read.
        "CACHE_KEY_PREFIX": f"bench-map-phone-{os.getpid()}",
    }
    collect_static(**env)
    server, base = serve(database, workers=2, ready="/peta/", **env)
    try:
        warm(base)
    except OSError:
        server.terminate()
        raise SystemExit("gunicorn did not answer") from None
    return server, base


def warm(base: str) -> None:
    """Warm the portal's caches as a production server's are: the page, the data it
    preloads and an area panel, each asked for several times at once (every worker)."""
    from django.urls import reverse

    from locations.models import Area

    page = urllib.request.urlopen(base + "/peta/", timeout=30).read().decode()
    urls = [base + "/peta/"]
    preloads = re.findall(r'rel="preload" href="([^"]+)"', page)
    urls += [base + html.unescape(href) for href in preloads]
    code = Area.objects.filter(level="rw", is_residential=True).values_list("code", flat=True)[0]
    urls.append(base + reverse("area-panel", kwargs={"code": code}))

    def get(url: str) -> None:
        request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
        urllib.request.urlopen(request, timeout=30).read()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(get, urls * 4))


class Transfers:
    """The page's requests as the DevTools protocol reports them."""

    def __init__(self, cdp):
        self.requests: dict[str, dict] = {}
        cdp.on("Network.requestWillBeSent", self.sent)
        cdp.on("Network.dataReceived", self.received)
        cdp.on("Network.loadingFinished", self.finished)

    def sent(self, event):
        self.requests.setdefault(event["requestId"], {"chunks": []}).update(
            url=event["request"]["url"], start=event["timestamp"], wall=event["wallTime"]
        )

    def received(self, event):
        entry = self.requests.setdefault(event["requestId"], {"chunks": []})
        entry["chunks"].append((event["timestamp"], event["encodedDataLength"]))

    def finished(self, event):
        entry = self.requests.setdefault(event["requestId"], {"chunks": []})
        entry.update(end=event["timestamp"], size=event["encodedDataLength"])

    def bytes_until(self, moment: float) -> int:
        total = 0
        for entry in self.requests.values():
            if entry.get("end") is not None and entry["end"] <= moment:
                total += entry["size"]
            else:
                total += sum(size for at, size in entry["chunks"] if at <= moment)
        return int(total)

    def trace(self, origin: float, interactive: float, tap: dict) -> None:
        print(
            f"  interactive at {interactive - origin:.2f} s, tap at {tap['at'] / 1000:.2f} s,"
            f" panel at {tap['panelAt'] / 1000:.2f} s",
            file=sys.stderr,
        )
        for entry in sorted(self.requests.values(), key=lambda e: e.get("start", 0)):
            if "start" not in entry:
                continue
            end = f"{entry['end'] - origin:6.2f}" if entry.get("end") else "   ..."
            size = entry.get("size", sum(s for _, s in entry["chunks"]))
            url = entry["url"].split("//", 1)[-1].split("/", 1)[-1][:90]
            print(
                f"  {entry['start'] - origin:6.2f} -> {end} s {int(size):8d} B  /{url}",
                file=sys.stderr,
            )


def measure(browser, base: str, trace: bool = False) -> tuple[float, float, int]:
    """One cold visit (a new browser context: empty cache): interactive seconds, tap to
    panel seconds, bytes until interactive."""
    context = browser.new_context(**PHONE)
    context.add_init_script(WATCH)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    transfers = Transfers(cdp)
    cdp.send("Network.emulateNetworkConditions", SLOW_NETWORK)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    page.goto(base + "/peta/", wait_until="commit", timeout=60_000)
    page.evaluate(AWAIT, ["interactive", 60])
    interactive_ms = int(page.locator("#needs-map").get_attribute("data-interactive-at"))
    time_origin_ms = page.evaluate("() => performance.timeOrigin")

    # Interactive means it answers: a tap inside a shaded RW opens that RW's panel.
    target = page.evaluate(TAP_TARGET, list(NO_SHADE))
    assert target, "no shaded RW on screen to tap"
    page.touchscreen.tap(target["x"], target["y"])
    page.evaluate(AWAIT, ["panel", 30])
    tapped = page.evaluate("() => window.bench.tap")
    assert tapped["code"] == target["code"], f"tapped {target['code']}, opened {tapped['code']}"
    panel = page.locator("#area-panel")
    assert panel.is_visible() and panel.locator("#panel-title").count() == 1, "no area panel"
    # The base map was on (its host allowed by the Content-Security-Policy, its tiles drawn).
    page.wait_for_selector("#needs-map .leaflet-tile-loaded", state="attached", timeout=30_000)
    assert not errors, errors

    # The protocol's timestamps run on another clock: the document request ties the two.
    document = next(e for e in transfers.requests.values() if e.get("url", "").endswith("/peta/"))
    origin = document["start"] + (time_origin_ms / 1000 - document["wall"])
    interactive = origin + interactive_ms / 1000
    size = transfers.bytes_until(interactive)
    if trace:
        transfers.trace(origin, interactive, tapped)
    context.close()
    return interactive_ms / 1000, (tapped["panelAt"] - tapped["at"]) / 1000, size


def launch_chromium(playwright):
    """Debian's Chromium, headless, as every browser bench and test runs it."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--trace", action="store_true", help="print each run's requests")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    runs = []
    with ExitStack() as cleanup:
        progress("preparing the database")
        # Removed at the end: 40 MB of static files, and the database unless PostgreSQL's.
        database, static_root = throwaway_setup(cleanup)
        load_data()
        tiles, tile_url = start_tile_server()
        cleanup.callback(tiles.shutdown)
        progress("starting the portal")
        server, base = start_portal(database, tile_url, static_root)
        cleanup.callback(server.wait, timeout=10)
        cleanup.callback(server.terminate)
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            for number in range(args.runs):
                runs.append(measure(browser, base, trace=args.trace))
                interactive, tap, size = runs[-1]
                progress(f"run {number + 1}: {interactive:.2f} s, tap {tap:.2f} s, {size} bytes")
            browser.close()
    interactive = statistics.median(r[0] for r in runs)
    tap = statistics.median(r[1] for r in runs)
    size = int(statistics.median(r[2] for r in runs))
    print(f"phone_map_interactive_s={interactive:.2f} tap_to_panel_s={tap:.2f} bytes={size}")


if __name__ == "__main__":
    main()
