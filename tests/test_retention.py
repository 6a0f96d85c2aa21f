"""Stored files are kept only while of use: the daily job deletes an export's file a week
after it was written (the export can be made again) and an import's file a month after it
was applied, failed or left waiting (a preview left waiting is then marked failed). Rows
stay, recent files stay, and a second run deletes nothing more."""

import datetime

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from commitments.models import Export, NeedImport
from commitments.tasks import forget_stored_files
from ksbb.storage import private_storage as storage_of
from locations.models import IndicatorImport

from .factories import UserFactory, lead_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    settings.EXPORT_FILE_DAYS = 7
    settings.IMPORT_FILE_DAYS = 30


def days_ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def stored(row, content: bytes = b"area_code;quantity\n31.73.04.1002.001;5\n"):
    row.file.save(f"{row._meta.model_name}-{row.pk}.csv", ContentFile(content), save=True)
    return row.file.name


def test_old_files_are_deleted_their_rows_kept_and_the_pages_say_what_to_do(client):
    lead = lead_of("pangan")
    other = UserFactory()
    old_export = Export.objects.create(
        requested_by=lead, format="csv", status="done", finished_at=days_ago(8), rows_total=1
    )
    new_export = Export.objects.create(
        requested_by=lead, format="csv", status="done", finished_at=days_ago(6), rows_total=1
    )
    imports = {
        status: NeedImport.objects.create(uploaded_by=other, file_name="rw.csv", format="csv")
        for status in ("applied", "checked", "failed", "applying")
    }
    recent = NeedImport.objects.create(uploaded_by=other, file_name="rw.csv", format="csv")
    indicator = IndicatorImport.objects.create(
        uploaded_by=lead, file_name="kepadatan.csv", format="csv", created_at=days_ago(31)
    )
    files = {row: stored(row) for row in [old_export, new_export, *imports.values(), recent]}
    files[indicator] = stored(indicator)
    for status, job in imports.items():
        NeedImport.objects.filter(pk=job.pk).update(status=status, updated_at=days_ago(31))
    NeedImport.objects.filter(pk=recent.pk).update(status="checked", updated_at=days_ago(29))

    assert forget_stored_files.delay().get() == 5

    gone = {old_export, imports["applied"], imports["checked"], imports["failed"], indicator}
    for row, name in files.items():
        assert storage_of().exists(name) == (row not in gone), row
        row.refresh_from_db()
        assert bool(row.file) == (row not in gone), row
    assert (old_export.status, new_export.status) == ("failed", "done")
    assert old_export.error == "Berkas ini dihapus 7 hari setelah dibuat. Buat lagi."
    assert [imports[s].status for s in imports] == ["applied", "failed", "failed", "applying"]
    assert "30" in imports["checked"].error and imports["failed"].error == ""
    assert (indicator.status, recent.status) == ("failed", "checked")
    assert forget_stored_files.delay().get() == 0

    # The lead's export page says the file is gone and offers to make it again.
    client.force_login(lead)
    page = client.get(reverse("export-detail", args=[old_export.pk]))
    assert page.status_code == 200
    assert old_export.error in page.text and reverse("export-retry", args=[old_export.pk]) in (
        page.text
    )
    assert client.get(reverse("export-download", args=[old_export.pk])).status_code == 404
    assert client.get(reverse("export-download", args=[new_export.pk])).status_code == 200
    # The uploader's import page says why the preview can no longer be applied.
    client.force_login(other)
    page = client.get(reverse("need-import-detail", args=[imports["checked"].pk]))
    assert page.status_code == 200 and imports["checked"].error in page.text
