"""The monthly public report of a program (issue 23, part 1): the figures the city reports
upward (confirmed commitments, their value in IDR, households and persons reached, by
donation form and by channel: the portal and the offline records) for one month and from
the start to the end of that month, with the program's reported 2021 baseline beside them.

Read from CommitmentMonthRollup, the table the program dashboard groups by form and month
(commitments.figures): as there, a commitment counts in the month it was made (Jakarta),
in its state today, and only confirmed states count (committed, delivered, completed)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Min
from django.utils import timezone

from programs.models import DonationForm, Program

from ..models import CONFIRMED_STATUSES, Commitment, CommitmentMonthRollup, figure_sums

# The first month a report may be asked for (the program predates the portal: 2021's
# figures are the baseline).
FIRST_MONTH = datetime.date(2020, 1, 1)
MEASURES = tuple(figure_sums())  # commitments, quantity, value, households, persons


def _zero() -> dict[str, int]:
    return dict.fromkeys(MEASURES, 0)


@dataclass
class FormLine:
    donation_form: DonationForm
    month: dict[str, int] = field(default_factory=_zero)
    cumulative: dict[str, int] = field(default_factory=_zero)


@dataclass
class MonthReport:
    program: Program
    month: datetime.date
    forms: list[FormLine]
    # channel -> figures, and "total"
    month_by_channel: dict[str, dict[str, int]]
    cumulative_by_channel: dict[str, dict[str, int]]
    computed_at: datetime.datetime | None

    @property
    def month_total(self) -> dict[str, int]:
        return self.month_by_channel["total"]

    @property
    def cumulative_total(self) -> dict[str, int]:
        return self.cumulative_by_channel["total"]

    @property
    def channels(self) -> list[tuple[str, str, dict, dict]]:
        """(code, label, month, cumulative) per channel."""
        return [
            (code, label, self.month_by_channel[code], self.cumulative_by_channel[code])
            for code, label in Commitment.Channel.choices
        ]


def parse_month(text: str) -> datetime.date | None:
    """ "2026-05" as the first day of the month, if it is a month a report exists for (from
    FIRST_MONTH to the current month in Jakarta); None otherwise."""
    try:
        year, month = (int(part) for part in text.split("-"))
        first = datetime.date(year, month, 1)
    except (ValueError, TypeError):
        return None
    if len(text) != 7 or not FIRST_MONTH <= first <= current_month():
        return None
    return first


def current_month() -> datetime.date:
    return timezone.localdate().replace(day=1)


def report_months(program: Program) -> list[datetime.date]:
    """The months a report is offered for, newest first: from the program's first
    commitment (or this month) to this month."""
    first = CommitmentMonthRollup.objects.filter(program=program).aggregate(first=Min("month"))[
        "first"
    ]
    last = current_month()
    month = max(min(first or last, last), FIRST_MONTH)
    months = []
    while month <= last:
        months.append(month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return months[::-1]


def month_report(program: Program, month: datetime.date) -> MonthReport:
    """The figures of `month` and of everything until its end, by form and by channel: one
    grouped query on the month roll-up (by form, channel and whether the month is this
    one), whatever the number of commitments."""
    forms = {
        form.pk: FormLine(donation_form=form)
        for form in DonationForm.objects.filter(program=program).order_by("sort_order", "pk")
    }
    month_by_channel = {code: _zero() for code in (*Commitment.Channel.values, "total")}
    cumulative_by_channel = {code: _zero() for code in (*Commitment.Channel.values, "total")}
    rows = (
        CommitmentMonthRollup.objects.filter(
            program=program, status__in=CONFIRMED_STATUSES, month__lte=month
        )
        .figures_by("donation_form", "channel", "month")
        .order_by()
    )
    for row in rows:
        this_month = row["month"] == month
        line = forms.get(row["donation_form"])
        for target in ([line.cumulative] if line else []) + [
            cumulative_by_channel[row["channel"]],
            cumulative_by_channel["total"],
        ]:
            _add(target, row)
        if this_month:
            for target in ([line.month] if line else []) + [
                month_by_channel[row["channel"]],
                month_by_channel["total"],
            ]:
                _add(target, row)
    return MonthReport(
        program=program,
        month=month,
        forms=list(forms.values()),
        month_by_channel=month_by_channel,
        cumulative_by_channel=cumulative_by_channel,
        computed_at=program.live_updated_at,
    )


def _add(target: dict[str, int], row: dict) -> None:
    for name in MEASURES:
        target[name] += int(row[name] or 0)
