"""Shared set-up for the benchmarks: a throw-away database with real Jakarta data and an
open need in every residential RW (the worst case for the need-state payload)."""

from __future__ import annotations

import io
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(sqlite_path: str | None = None) -> str:
    """Configure Django on a fresh SQLite file (unless DATABASE_URL is set); returns it."""
    if not os.environ.get("DATABASE_URL"):
        sqlite_path = sqlite_path or os.path.join(
            tempfile.mkdtemp(prefix="ksbb-bench-"), "db.sqlite3"
        )
        os.environ["SQLITE_PATH"] = sqlite_path
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ksbb.settings")
    import django

    django.setup()
    return sqlite_path or os.environ["DATABASE_URL"]


def load_data(needs_everywhere: bool = True) -> None:
    from django.core.management import call_command

    out = io.StringIO()
    call_command("migrate", verbosity=0, stdout=out)
    call_command("load_programs", stdout=out)
    call_command("load_jakarta", stdout=out)
    if needs_everywhere:
        add_need_in_every_rw()


def add_need_in_every_rw() -> int:
    import datetime
    import random

    from locations.models import Area, Need
    from programs.models import DonationForm

    if Need.objects.filter(description="bench").exists():
        return 0
    rng = random.Random(7)
    forms = list(DonationForm.objects.select_related("program"))
    needs = []
    for area in Area.objects.filter(level="rw", is_residential=True):
        form = rng.choice(forms)
        needs.append(
            Need(
                area=area,
                program=form.program,
                donation_form=form,
                quantity_needed=rng.randint(5, 900),
                unit_value_idr=rng.choice([50_000, 300_000]),
                households=rng.randint(80, 900),
                priority=rng.choice([1, 2, 3]),
                valid_until=datetime.date(2099, 1, 1),
                description="bench",
            )
        )
    Need.objects.bulk_create(needs, batch_size=500)
    return len(needs)
