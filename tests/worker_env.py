"""A pytest plugin (loaded with `-p tests.worker_env`, before Django reads its settings) that
gives each pytest-xdist worker what it must not share with the other: its own Redis database
(the cache, which the tests clear, and the Celery broker, whose queue a test's worker would
drain) and its own media folders (files are named by row ids, which both workers' databases
hand out). The test databases are per worker already (pytest-django adds _gw0, _gw1...)."""

import atexit
import os
import shutil
import tempfile
from urllib.parse import urlsplit, urlunsplit

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1... in a worker, else ""


def redis_url_of_worker(url: str, worker: int) -> str:
    """redis://host:port/N -> redis://host:port/(N + worker)."""
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0) + worker
    return urlunsplit(parts._replace(path=f"/{database}"))


if WORKER:
    number = int(WORKER.removeprefix("gw"))
    if os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = redis_url_of_worker(os.environ["REDIS_URL"], number)
    os.environ["CACHE_KEY_PREFIX"] = os.environ.get("CACHE_KEY_PREFIX", "") + WORKER
    media = tempfile.mkdtemp(prefix=f"ksbb-test-{WORKER}-")
    atexit.register(shutil.rmtree, media, ignore_errors=True)
    os.environ["MEDIA_ROOT"] = os.path.join(media, "media")
    os.environ["PRIVATE_MEDIA_ROOT"] = os.path.join(media, "private-media")
