"""A small world of its own for tests that commit for real (threads, transactional tests):
it does not depend on the Jakarta data, which a transactional test's flush removes."""

import datetime
import itertools
import threading

from django.db import connection
from django.utils import timezone

from locations.models import Area, Need
from programs.models import DonationForm, Program

_counter = itertools.count(1)


def small_world(quantity_needed: int = 10) -> Need:
    n = next(_counter)
    root = f"9{n % 10}"
    chain = [
        ("province", f"{root}"),
        ("kota", f"{root}.01"),
        ("kecamatan", f"{root}.01.01"),
        ("kelurahan", f"{root}.01.01.1001"),
        ("rw", f"{root}.01.01.1001.001"),
    ]
    parent = None
    for level, code in chain:
        area, _ = Area.objects.get_or_create(
            code=code,
            defaults={
                "level": level,
                "name": f"Uji {level} {n}",
                "parent": parent,
                "path": (parent.path + "/" if parent else "") + code,
            },
        )
        parent = area
    program, _ = Program.objects.get_or_create(
        slug=f"uji-{n}",
        defaults={
            "name_id": f"Program uji {n}",
            "name_en": f"Test {n}",
            "lead_agency": "Dinas Uji",
        },
    )
    form = DonationForm.objects.create(
        program=program,
        slug="paket",
        name_id="Paket",
        name_en="Package",
        unit="package",
        unit_value_idr=100_000,
    )
    return Need.objects.create(
        area=parent,
        program=program,
        donation_form=form,
        quantity_needed=quantity_needed,
        valid_until=timezone.localdate() + datetime.timedelta(days=30),
        assessed_by_role="Ketua RW 01",
    )


def run_in_threads(jobs):
    """Start every job at the same moment; each thread has its own database connection."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def worker(index, job):
        try:
            barrier.wait()
            results[index] = job()
        except Exception as exc:  # noqa: BLE001 - reported by the assertions below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results
