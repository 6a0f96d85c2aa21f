"""Files people uploaded or asked for are kept only while they are of use: an export's file
for EXPORT_FILE_DAYS after it was written, an import's file for IMPORT_FILE_DAYS after it
was applied, failed or left unapplied. The rows stay (what was imported, what was
exported, with which filters); a preview never applied is then marked failed, and an export
whose file is gone can be made again.

Run daily by the forget_stored_files job. Idempotent: each file is deleted first (deleting
a missing file does nothing), then its row forgets it with a conditional UPDATE, so a run
killed between the two leaves the row for the next run and no orphan file.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from locations.models import IndicatorImport

from ..models import Export, NeedImport

logger = logging.getLogger(__name__)


def stored_files_forget(*, now: datetime.datetime | None = None) -> int:
    """Delete the files past their time; returns how many."""
    now = now or timezone.now()
    exports_before = now - datetime.timedelta(days=settings.EXPORT_FILE_DAYS)
    imports_before = now - datetime.timedelta(days=settings.IMPORT_FILE_DAYS)
    forgotten = 0
    for export in Export.objects.filter(
        status=Export.Status.DONE, finished_at__lt=exports_before
    ).exclude(file=""):
        forgotten += _forget(
            export,
            status=Export.Status.FAILED,
            error=_("The file was deleted %(days)s days after it was written. Make it again.")
            % {"days": settings.EXPORT_FILE_DAYS},
        )
    unapplied = _(
        "This file was not applied within %(days)s days and was deleted. Upload it again."
    ) % {"days": settings.IMPORT_FILE_DAYS}
    for model, date_field, waiting in (
        (NeedImport, "updated_at", [NeedImport.Status.UPLOADED, NeedImport.Status.CHECKED]),
        (IndicatorImport, "created_at", [IndicatorImport.Status.CHECKED]),
    ):
        ended = [model.Status.APPLIED, model.Status.FAILED]
        old = model.objects.filter(**{f"{date_field}__lt": imports_before}).exclude(file="")
        for job in old.filter(status__in=ended):
            forgotten += _forget(job)
        for job in old.filter(status__in=waiting):
            forgotten += _forget(job, status=model.Status.FAILED, error=unapplied)
    return forgotten


def _forget(row, *, status: str | None = None, error: str = "") -> int:
    """Delete the row's file, then blank it (and set the status and error) unless the row
    moved meanwhile (a retried export, an import being applied)."""
    name = row.file.name
    try:
        row.file.storage.delete(name)
    except OSError:
        logger.warning("Could not delete %s", name, exc_info=True)
        return 0
    changes = {"file": ""}
    if status:
        changes.update(status=status, error=error)
    moved = type(row).objects.filter(Q(pk=row.pk) & Q(status=row.status) & Q(file=name))
    return moved.update(**changes)
