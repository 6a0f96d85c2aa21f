"""The roll-up's levels (CommitmentMonthRollup, CommitmentKecamatanRollup) must be exactly
the GROUP BY of the kecamatan roll-up whenever a transaction commits: checked here, by the
summary, rebuild, concurrency and dashboard tests."""

from collections import defaultdict
from decimal import Decimal

from commitments.models import CommitmentKecamatanRollup, CommitmentMonthRollup, CommitmentRollup

SUMS = ("count", "quantity", "value_idr", "households", "persons")
MONTH_KEY = ("program_id", "donation_form_id", "month", "channel", "status")
KECAMATAN_KEY = ("program_id", "donation_form_id", "kecamatan_id", "kota_id", "channel", "status")


def rollup_levels() -> tuple[dict, dict]:
    """The month and kecamatan roll-up rows: {key: sums} each."""
    return tuple(
        {row[: len(key)]: row[len(key) :] for row in model.objects.values_list(*key, *SUMS)}
        for model, key in (
            (CommitmentMonthRollup, MONTH_KEY),
            (CommitmentKecamatanRollup, KECAMATAN_KEY),
        )
    )


def rollup_levels_expected() -> tuple[dict, dict]:
    """The same rows grouped in Python from the kecamatan roll-up."""
    levels = ({}, {})
    for keys, level in zip((MONTH_KEY, KECAMATAN_KEY), levels, strict=True):
        totals = defaultdict(lambda: [0, 0, Decimal(0), 0, 0])
        for row in CommitmentRollup.objects.values(*keys, *SUMS):
            sums = totals[tuple(row[c] for c in keys)]
            for i, column in enumerate(SUMS):
                sums[i] += row[column]
        level.update({key: tuple(sums) for key, sums in totals.items()})
    return levels


def assert_levels_equal_rollup() -> None:
    month, kecamatan = rollup_levels()
    expected_month, expected_kecamatan = rollup_levels_expected()
    assert month == expected_month
    assert kecamatan == expected_kecamatan


def levels_computed_at() -> dict:
    """Every level row's computed_at by table and id: what a rebuild that writes nothing
    leaves as it was."""
    return {
        (model.__name__, pk): at
        for model in (CommitmentMonthRollup, CommitmentKecamatanRollup)
        for pk, at in model.objects.values_list("pk", "computed_at")
    }
