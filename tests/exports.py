"""Building an export as the job does, for the tests that read its file."""

from commitments.models import Export
from commitments.reporting.exports import export_build

from .factories import UserFactory


def build(format_: str) -> bytes:
    """Build an export of every commitment in `format_` (as an administrator asks for it)
    and return its file's bytes; fails the test if the build did not finish."""
    export = Export.objects.create(
        requested_by=UserFactory(is_staff=True), format=format_, filters={}
    )
    export_build(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == Export.Status.DONE, export.error
    with export.file.open("rb") as handle:
        return handle.read()
