"""Serving a stored file (a delivery photo, a statement letter, a report's photo): one way,
so that each answer says the same about caching and content type, and a file missing from
storage (deleted by hand, a database restored without its media) is a logged 404, not a
server error."""

import logging

from django.http import FileResponse, Http404

logger = logging.getLogger(__name__)

PRIVATE = "private, max-age=3600"


def stored_file(field, content_type: str, *, cache_control: str = PRIVATE) -> FileResponse:
    """The file of `field` (a FieldFile) as `content_type`, never sniffed as another type."""
    try:
        handle = field.open("rb")
    except OSError:
        logger.warning("stored file missing: %s", field.name)
        raise Http404("The file is missing.") from None
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = cache_control
    response["X-Content-Type-Options"] = "nosniff"
    return response
