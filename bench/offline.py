"""The workspace offline on a slow phone (issue 22): what the service worker keeps for the
busiest facilitator, and how long a day's offline work takes to send once the network
returns. Production setup as bench/map_phone.py: gunicorn (2 workers), DEBUG off,
whitenoise serving the collected static files, a throw-away database with real Jakarta.

The busiest facilitator: the head of the kelurahan with the most RW, with `--needs-per-rw`
open needs in each RW and a delivery waiting for receipt in each RW.

The phone: Debian's Chromium in map_phone.PHONE's 390x844 touch context, with
map_phone.SLOW_NETWORK ("slow 4G": 562.5 ms added per request, 1.47 Mbit/s down) and
map_phone.CPU_SLOWDOWN (4x) applied through the DevTools protocol to the page AND to the
service worker's own target (attached through the browser's protocol session) once the
field pages are saved, before the sending is measured (the stored bytes do not depend on
the link; warming a few hundred pages one at a time over it would only make the run long).

Measured:

- offline_shell_bytes: the bytes of every response the service worker holds once the
  workspace has said it is ready offline (data-offline-ready): the precached shell (CSS,
  scripts, Leaflet, icons, offline page) plus the warmed field pages and map data of that
  facilitator; bodies as stored (uncompressed), summed over every cache of the origin.
- sync_50_actions_s: 50 need edits queued in the outbox while offline (as the need form
  queues them: PATCH with the version seen and an Idempotency-Key), then the network back:
  from the page's 'online' event until the outbox is empty (body data-outbox-count 0), both
  timed in the page; each of the 50 needs is then checked to be changed exactly once.

    .venv/bin/python bench/offline.py [--needs-per-rw 3] [--trace]

Ends with one line: offline_shell_bytes=... sync_50_actions_s=...
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import uuid
from contextlib import ExitStack

from common import collect_static, load_data, progress, serve, throwaway_setup
from map_phone import CPU_SLOWDOWN, PHONE, SLOW_NETWORK, launch_chromium

ACTIONS = 50
PASSWORD = "bench-offline-" + "k" * 12

# Installed before the page's scripts: when the network returns, and when the outbox has
# emptied afterwards, in the page's clock.
WATCH = """
window.bench = {};
window.addEventListener("online", () => { window.bench.onlineAt = performance.now(); });
window.bench.empty = new Promise((resolve) => {
  new MutationObserver(() => {
    if (window.bench.onlineAt !== undefined && document.body.dataset.outboxCount === "0") {
      window.bench.emptyAt = performance.now();
      resolve();
    }
  }).observe(document, { subtree: true, attributes: true,
    attributeFilter: ["data-outbox-count"] });
});
"""

STORED_BYTES = """async () => {
  let total = 0;
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      total += (await response.blob()).size;
    }
  }
  return total;
}"""

QUEUE = """async ([userId, edits]) => {
  for (const edit of edits) {
    await KsbbOutbox.add({
      userId: userId, kind: "need-edit", label: edit.label, method: "PATCH",
      url: edit.url, body: edit.body, page: location.pathname,
    });
  }
  return (await KsbbOutbox.all()).length;
}"""


def busiest_facilitator(needs_per_rw: int):
    """The head of the kelurahan with the most residential RW, with open needs and a
    delivery waiting for receipt in each RW. Returns (user, needs)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count, Q
    from django.utils import timezone

    from collaborators.models import Collaborator
    from commitments.models import Commitment, Delivery
    from locations.models import Area, Facilitator, Need
    from programs.models import DonationForm

    kelurahan = (
        Area.objects.filter(level="kelurahan")
        .annotate(rw=Count("children", filter=Q(children__is_residential=True)))
        .order_by("-rw", "code")[0]
    )
    email = f"lurah-{uuid.uuid4().hex[:6]}@example.org"
    user = get_user_model().objects.create_user(email, email, PASSWORD)
    Facilitator.objects.create(user=user, area=kelurahan, title=f"Lurah {kelurahan.name}")
    forms = list(DonationForm.objects.select_related("program").filter(creates_assets=False))
    donor = Collaborator.objects.create(
        name="Bench donor",
        kind="company",
        slug=f"bench-{uuid.uuid4().hex[:8]}",
        verification_status="verified",
    )
    until = timezone.localdate() + datetime.timedelta(days=90)
    needs = []
    for rw in Area.objects.filter(parent=kelurahan, is_residential=True).order_by("code"):
        for number in range(needs_per_rw):
            form = forms[(len(needs) + number) % len(forms)]
            needs.append(
                Need.objects.create(
                    area=rw,
                    program=form.program,
                    donation_form=form,
                    quantity_needed=200,
                    households=40,
                    valid_until=until,
                    description="bench",
                )
            )
        need = needs[-1]
        commitment = Commitment.objects.create(
            collaborator=donor,
            need=need,
            area=rw,
            program=need.program,
            donation_form=need.donation_form,
            quantity=5,
            status="delivered",
            idempotency_key=uuid.uuid4().hex,
        )
        Need.objects.filter(pk=need.pk).update(quantity_claimed=5)
        Delivery.objects.create(
            commitment=commitment, quantity=5, delivered_on=timezone.localdate()
        )
    return user, needs


def throttle(context, page, browser) -> list[str]:
    """The phone's network and CPU on the page and on the service worker's target. Returns
    what could not be applied to the worker (reported on stderr)."""
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_NETWORK)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    browser_cdp = browser.new_browser_cdp_session()
    workers = [
        t
        for t in browser_cdp.send("Target.getTargets")["targetInfos"]
        if t["type"] == "service_worker"
    ]
    missed = [] if workers else ["no service worker target"]
    for worker in workers:
        session = browser_cdp.send(
            "Target.attachToTarget", {"targetId": worker["targetId"], "flatten": False}
        )["sessionId"]
        commands = [
            ("Network.enable", {}),
            ("Network.emulateNetworkConditions", SLOW_NETWORK),
            ("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN}),
        ]
        for number, (method, params) in enumerate(commands, start=1):
            message = json.dumps({"id": number, "method": method, "params": params})
            try:
                browser_cdp.send(
                    "Target.sendMessageToTarget", {"sessionId": session, "message": message}
                )
            except Exception as error:  # noqa: BLE001 - reported, the bench goes on
                missed.append(f"{method}: {error}")
    return missed


def measure(browser, base: str, user, needs, trace: bool) -> tuple[int, float]:
    from locations.models import Need, NeedChange

    context = browser.new_context(**PHONE)
    context.add_init_script(WATCH)
    page = context.new_page()
    page.set_default_timeout(180_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(base + "/akun/masuk/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    page.goto(base + "/ruang-kerja/")
    if "/akun/masuk/" in page.url:
        raise SystemExit("signing in failed: " + page.url)
    page.wait_for_function("() => document.documentElement.dataset.offlineReady === '1'")
    stored = page.evaluate(STORED_BYTES)
    # The phone's profile for the sending (the warm-up above is only counted in bytes).
    missed = throttle(context, page, browser)
    if missed:
        progress("not applied to the service worker: " + "; ".join(missed))

    edited = needs[:ACTIONS]
    edits = [
        {
            "label": f"Ubah kebutuhan #{need.pk}",
            "url": f"/api/v1/needs/{need.pk}/",
            "body": {"version": need.version, "quantity_needed": "150", "description": "luring"},
        }
        for need in edited
    ]
    context.set_offline(True)
    queued = page.evaluate(QUEUE, [str(user.pk), edits])
    assert queued == ACTIONS, queued
    context.set_offline(False)
    page.evaluate(
        """(s) => Promise.race([window.bench.empty, new Promise((_, reject) =>
          setTimeout(() => reject(new Error("outbox not empty in time")), s * 1000))])""",
        300,
    )
    times = page.evaluate("() => window.bench")
    seconds = (times["emptyAt"] - times["onlineAt"]) / 1000
    assert not errors, errors
    changed = Need.objects.filter(pk__in=[n.pk for n in edited], quantity_needed=150)
    assert changed.count() == ACTIONS, changed.count()
    history = NeedChange.objects.filter(need__in=edited, action="updated").count()
    assert history == ACTIONS, f"{history} changes for {ACTIONS} actions"
    if trace:
        progress(f"stored {stored} bytes; {ACTIONS} actions in {seconds:.2f} s")
    context.close()
    return stored, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--needs-per-rw", type=int, default=3)
    parser.add_argument("--trace", action="store_true")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls are plain
    # synchronous code all the same.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with ExitStack() as cleanup:
        progress("preparing the database")
        database, static_root = throwaway_setup(cleanup)
        load_data(needs_everywhere=False)
        user, needs = busiest_facilitator(args.needs_per_rw)
        if len(needs) < ACTIONS:
            raise SystemExit(f"only {len(needs)} needs: raise --needs-per-rw")
        progress("starting the portal")
        env = {"STATIC_ROOT": static_root, "CACHE_KEY_PREFIX": f"bench-offline-{os.getpid()}"}
        collect_static(**env)
        server, base = serve(database, workers=2, **env)
        cleanup.callback(server.wait, timeout=10)
        cleanup.callback(server.terminate)
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            stored, seconds = measure(browser, base, user, needs, args.trace)
            browser.close()
    print(f"offline_shell_bytes={stored} sync_50_actions_s={seconds:.2f}")


if __name__ == "__main__":
    main()
