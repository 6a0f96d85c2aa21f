"""Shared fixtures. The test database gets the real Jakarta areas and the six programs once
per session (they are what every page and rule works on); each test then runs in a
transaction that is rolled back."""

import io
import os
import re
import socket
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from ksbb.i18n import compile_catalogs
from locations.models import Area

from .browser import phone_page, watch_errors
from .factories import collaborator_and_member

# Threads the tests start (live server, Celery worker, racing clients) must not keep
# connections open after their work, or the test database cannot be dropped at the end.
settings.DATABASES["default"]["CONN_MAX_AGE"] = 0

# Before any page renders: the Indonesian catalogue compiled from its .po, so that plain
# `pytest` works in a fresh clone too.
if compile_catalogs(Path(__file__).resolve().parent.parent / "locale"):
    from django.utils.translation import trans_real

    trans_real._translations = {}  # catalogues already loaded by set-up start over
    trans_real._default = None


@pytest.fixture(scope="session")
def django_db_setup(request, django_db_setup, django_db_blocker):
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.fixtures import _get_databases_for_setup

    with django_db_blocker.unblock():
        created = None
        if "default" not in _get_databases_for_setup(request.session.items)[0]:
            # Only browser tests were selected, and pytest-django sets up a database only
            # for tests that ask it for one.
            created = setup_databases(verbosity=0, interactive=False, aliases={"default"})
        call_command("load_programs", stdout=io.StringIO())
        call_command("load_jakarta", stdout=io.StringIO())
    yield
    with django_db_blocker.unblock():
        _end_other_sessions()
        if created:
            teardown_databases(created, verbosity=0)


def _end_other_sessions() -> None:
    """Threads the tests started (a live server's, a Celery worker's) may still hold a
    PostgreSQL session, which would stop the test database from being dropped."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def kali_anyar(db) -> Area:
    return Area.objects.get(code="31.73.04.1002")


@pytest.fixture
def donor(db):
    """A verified collaborator and its owner: (collaborator, member)."""
    return collaborator_and_member()


# --- browser tests ----------------------------------------------------------------------
# They drive Debian's Chromium against a live server thread on the test database, with
# data committed for real (the server is another connection), so they run last.

CHROMIUM = "/usr/bin/chromium"
UNREACHABLE_TILES = "http://tiles.invalid/{z}/{x}/{y}.png"


# Skips for want of a service: in CI's PostgreSQL leg (KSBB_REQUIRE_SERVICES=1) each is a
# failure, as a missing Chromium is under KSBB_REQUIRE_BROWSER.
SERVICE_SKIP = re.compile(r"\b(needs?|run on)\b.*\b(PostgreSQL|Redis)\b")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not (report.skipped and os.environ.get("KSBB_REQUIRE_SERVICES")):
        return
    reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if SERVICE_SKIP.search(reason):
        report.outcome = "failed"
        report.longrepr = f"KSBB_REQUIRE_SERVICES is set, yet this test was skipped: {reason}"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Browser tests last, and last of all those that leave a world committed behind."""
    items.sort(
        key=lambda item: (
            item.get_closest_marker("browser") is not None,
            item.get_closest_marker("commits_world") is not None,
        )
    )


@pytest.fixture(scope="session")
def live_portal(django_db_setup, django_db_blocker):
    """Base URL of a live portal with Jakarta, the programs and the demo data committed."""
    import os

    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread

    from collaborators.models import Collaborator
    from commitments.housekeeping.demo import seed_demo
    from ksbb.settings import content_security_policy

    if not os.path.exists(CHROMIUM):
        if os.environ.get("KSBB_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing and KSBB_REQUIRE_BROWSER is set")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests
    # make here are plain synchronous code all the same.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    # Tiles from the internet never load in tests: the map must work without them.
    settings.MAP_TILE_URL = UNREACHABLE_TILES
    settings.CONTENT_SECURITY_POLICY = content_security_policy(UNREACHABLE_TILES)
    with django_db_blocker.unblock():
        if not Area.objects.filter(level="rw").exists():  # a transactional test flushed it
            call_command("load_programs", stdout=io.StringIO())
            call_command("load_jakarta", stdout=io.StringIO())
        if not Collaborator.objects.filter(is_demo=True).exists():
            seed_demo(force=True)
        server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
        server.daemon = True
        server.start()
        server.is_ready.wait()
        if server.error:
            raise server.error
        try:
            yield f"http://127.0.0.1:{server.port}"
        finally:
            server.terminate()


@pytest.fixture(scope="session")
def chromium(live_portal):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, django_db_blocker):
    """A fresh browser context that fails the test on any JavaScript error."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = watch_errors(page)
    with django_db_blocker.unblock():
        yield page
    context.close()
    assert errors == [], errors


@pytest.fixture
def phone(chromium, django_db_blocker):
    """Like `page`, on a phone (390x844, touch)."""
    with phone_page(chromium) as (page, errors), django_db_blocker.unblock():
        yield page
    assert errors == [], errors


# --- Celery ---------------------------------------------------------------------------
# Tests run tasks in-process (eager), whatever REDIS_URL says, so each test sees the effect
# of its tasks; test_notifications drives a real broker where it matters.


@contextmanager
def celery_broker(url: str | None, *, eager: bool):
    from ksbb.celery import app

    saved = (app.conf.broker_url, app.conf.task_always_eager)

    def reset_pool():
        # Connections and producers are pooled per broker URL; start afresh each time.
        import kombu.pools

        if app._pool is not None:
            app._pool.force_close_all()
            app._pool = None
        app.amqp._producer_pool = None
        kombu.pools.reset()

    reset_pool()
    if url is not None:
        app.conf.broker_url = url
    app.conf.task_always_eager = eager
    try:
        yield app
    finally:
        reset_pool()
        app.conf.broker_url, app.conf.task_always_eager = saved


@pytest.fixture(autouse=True)
def _eager_tasks():
    with celery_broker(None, eager=True):
        yield


# --- Redis hung --------------------------------------------------------------------------


@pytest.fixture
def silent_port():
    """A port that accepts connections and never answers: a hung Redis."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept_forever():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()
