"""Shared fixtures. The test database gets the real Jakarta areas and the six programs once
per session (they are what every page and rule works on); each test then runs in a
transaction that is rolled back."""

import io

import pytest
from django.core.management import call_command

from locations.models import Area


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("load_programs", stdout=io.StringIO())
        call_command("load_jakarta", stdout=io.StringIO())


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def kali_anyar(db) -> Area:
    return Area.objects.get(code="31.73.04.1002")
