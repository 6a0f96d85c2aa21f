"""Concurrent pledges, each followed by its own refresh of the summaries, in real threads
on the real database: no recompute loses another's change, and no stale mark is left."""

import pytest

from commitments.figures.summaries import summary_key_recompute
from commitments.models import (
    Commitment,
    CommitmentKecamatanRollup,
    CommitmentMonthRollup,
    CommitmentSummary,
    SummaryDirtyKey,
    SummaryKey,
)
from locations.models import Area, Need

from .conftest import celery_broker
from .factories import collaborator_and_member
from .rollup_levels import assert_levels_equal_rollup
from .world import (
    direct_group_by,
    form_pledge_job,
    pledge_directly,
    run_in_threads,
    signed_in,
    small_world,
    summaries,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_pledges_and_refreshes_of_one_key_lose_no_update():
    need = small_world(quantity_needed=100)
    donors = [collaborator_and_member() for _ in range(12)]
    jobs = [form_pledge_job(signed_in(m), c, need, quantity=2) for c, m in donors]
    results = run_in_threads(jobs)

    assert [r for r in results if isinstance(r, Exception)] == []
    assert all(r.status_code == 302 for r in results)
    assert not SummaryDirtyKey.objects.exists()
    assert summaries() == direct_group_by()
    row = CommitmentSummary.objects.get(program=need.program)
    assert (row.count, row.quantity) == (12, 24)
    assert Commitment.objects.filter(need=need).count() == 12
    assert_levels_equal_rollup()


def needs_in_kecamatan(count: int) -> list[Need]:
    """Needs of one program and form in `count` kecamatan of one kota (one RW each)."""
    first = small_world(quantity_needed=100)
    kota = first.area.parent.parent.parent.parent
    needs = [first]
    for n in range(2, count + 1):
        parent = kota
        for level, code in (
            ("kecamatan", f"{kota.code}.{n:02d}"),
            ("kelurahan", f"{kota.code}.{n:02d}.1001"),
            ("rw", f"{kota.code}.{n:02d}.1001.001"),
        ):
            parent = Area.objects.create(
                code=code, level=level, name=f"Uji {level} {n}", parent=parent,
                path=f"{parent.path}/{code}",
            )  # fmt: skip
        needs.append(
            Need.objects.create(
                area=parent,
                program=first.program,
                donation_form=first.donation_form,
                quantity_needed=100,
                valid_until=first.valid_until,
                assessed_by_role="Ketua RW 01",
            )
        )
    return needs


def test_concurrent_pledges_in_kecamatan_of_one_month_lose_no_update_of_the_roll_ups():
    # Every recompute rewrites the same month roll-up rows (one program, form, month and
    # channel) from roll-up rows of different kecamatan, each under its own lock.
    needs = needs_in_kecamatan(4)
    donors = [collaborator_and_member() for _ in range(12)]
    jobs = [
        form_pledge_job(signed_in(m), c, needs[n % len(needs)], quantity=1 + n % 3)
        for n, (c, m) in enumerate(donors)
    ]
    results = run_in_threads(jobs)

    assert [r for r in results if isinstance(r, Exception)] == []
    assert all(r.status_code == 302 for r in results)
    assert not SummaryDirtyKey.objects.exists()
    assert summaries() == direct_group_by()  # the roll-up is the summaries' GROUP BY
    assert_levels_equal_rollup()  # its levels the roll-up's
    # And the commitments' own GROUP BY, per month and per kecamatan.
    pledged = Commitment.objects.filter(program=needs[0].program)
    month = CommitmentMonthRollup.objects.get(program=needs[0].program)
    assert (month.count, month.quantity) == (12, sum(c.quantity for c in pledged))
    by_kecamatan = {
        r.kecamatan_id: (r.count, r.quantity)
        for r in CommitmentKecamatanRollup.objects.filter(program=needs[0].program)
    }
    assert by_kecamatan == {
        need.area.parent.parent_id: (
            pledged.filter(need=need).count(),
            sum(c.quantity for c in pledged.filter(need=need)),
        )
        for need in needs
    }


def test_recomputes_of_kecamatan_of_one_month_at_once_each_see_the_others_rows():
    # The stale keys of pledges in four kecamatan (broker down: nothing recomputed yet),
    # then all recomputed at the same moment: each rewrites the month roll-up row the
    # others rewrite, after the others' roll-up rows commit (its lock), never over them.
    needs = needs_in_kecamatan(4)
    collaborator, member = collaborator_and_member()
    with celery_broker("redis://127.0.0.1:1/0", eager=False):
        for n, need in enumerate(needs):
            pledge_directly(need, collaborator, member, quantity=n + 1)
    keys = list(SummaryDirtyKey.objects.values_list(*SummaryKey.KEY_FIELDS).distinct())
    assert len(keys) == 4
    assert not CommitmentMonthRollup.objects.exists()

    results = run_in_threads([lambda key=key: summary_key_recompute(key=key) for key in keys])

    assert results == [True] * 4
    assert summaries() == direct_group_by()
    assert_levels_equal_rollup()
    month = CommitmentMonthRollup.objects.get(program=needs[0].program)
    assert (month.count, month.quantity) == (4, 1 + 2 + 3 + 4)
    assert CommitmentKecamatanRollup.objects.filter(program=needs[0].program).count() == 4
