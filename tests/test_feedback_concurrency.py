"""An overdue report escalates once even when two runs of the hourly job meet (a redelivered
task beside the next one), and two handlers closing the same report at once close it once:
in real threads, each with its own connection (PostgreSQL, or a SQLite file)."""

import datetime

import pytest
from django.utils import timezone

from commitments.feedback.escalation import escalate_overdue
from commitments.feedback.models import Report, ReportEvent
from commitments.feedback.reports import ReportRefused, report_set_status
from commitments.models import Notification

from .factories import UserFactory
from .world import run_in_threads, small_world

pytestmark = pytest.mark.django_db(transaction=True)


def _overdue_report(need) -> Report:
    created = timezone.now() - datetime.timedelta(days=8)
    return Report.objects.create(
        category=Report.Category.NOT_RECEIVED,
        text="Belum sampai.",
        area=need.area,
        program=need.program,
        created_at=created,
        due_at=created + datetime.timedelta(days=7),
    )


@pytest.mark.parametrize("runs", [2, 4])
def test_two_jobs_at_once_escalate_an_overdue_report_once(runs):
    need = small_world()
    admins = [UserFactory(is_staff=True), UserFactory(is_superuser=True)]
    reports = [_overdue_report(need) for _ in range(3)]
    results = run_in_threads([escalate_overdue for _ in range(runs)])
    assert [r for r in results if isinstance(r, Exception)] == []
    assert sum(results) == len(reports)
    for report in reports:
        told = Notification.objects.filter(url=report.get_absolute_url())
        assert sorted(told.values_list("user_id", flat=True)) == sorted(a.pk for a in admins)
    assert escalate_overdue() == 0


def test_two_handlers_closing_at_once_close_it_once():
    need = small_world()
    report = _overdue_report(need)
    handlers = [UserFactory(), UserFactory()]

    def close(user, status):
        def job():
            try:
                return report_set_status(
                    report_id=report.pk, actor=user, status=status, answer=f"{status} oleh {user}"
                ).status
            except ReportRefused:
                return "refused"

        return job

    results = run_in_threads([close(handlers[0], "resolved"), close(handlers[1], "not_upheld")])
    assert sorted(map(str, results)).count("refused") == 1, results
    closed = Report.objects.get(pk=report.pk)
    assert closed.status in ("resolved", "not_upheld")
    assert ReportEvent.objects.filter(report=report).count() == 1  # the closing one only
