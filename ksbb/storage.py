import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    """Proofs of delivery and statement letters: stored under PRIVATE_MEDIA_ROOT, never
    under MEDIA_URL, and served only by views that check who may see them. The location
    is read from settings on every use, so tests can point it elsewhere."""

    @property
    def base_location(self):
        return str(settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        return "/private/"


def private_storage() -> PrivateStorage:
    return PrivateStorage()
