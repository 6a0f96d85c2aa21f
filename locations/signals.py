"""Keep the map's cached data in step with edits made anywhere (admin, forms, shell).

Writes that bypass model signals (the conditional UPDATE that claims a need) call
mapdata.needs_changed themselves.
"""

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from ksbb.after_commit import on_commit_once

from .mapdata import needs_changed
from .models import Need, Site


@receiver([post_save, post_delete], sender=Need)
def need_saved(sender, **kwargs):
    on_commit_once(needs_changed)


def sites_cache_key(language: str | None) -> str:
    """The site markers' payload is cached per language (it carries translated kinds)."""
    return f"map:sites:{language or settings.LANGUAGE_CODE}"


@receiver([post_save, post_delete], sender=Site)
def site_saved(sender, **kwargs):
    keys = [sites_cache_key(code) for code, _name in settings.LANGUAGES]
    transaction.on_commit(lambda: cache.delete_many(keys))
