"""The admin works for every model: list, search and change pages answer 200 for staff."""

import pytest
from django.contrib import admin
from django.urls import reverse

from .factories import CommitmentFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_every_registered_model_lists_searches_and_opens(client):
    CommitmentFactory()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        listing = client.get(reverse(f"{prefix}_changelist"), {"q": "kali"})
        assert listing.status_code == 200, model
        obj = model_admin.get_queryset(listing.wsgi_request).first()
        if obj is not None:
            change = client.get(reverse(f"{prefix}_change", args=[obj.pk]))
            assert change.status_code == 200, model


def test_staff_assign_facilitators_and_leads_in_the_admin(client):
    from locations.models import Area, Facilitator

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    lurah = UserFactory()
    kali_anyar = Area.objects.get(code="31.73.04.1002")
    response = client.post(
        reverse("admin:locations_facilitator_add"),
        {
            "user": lurah.pk,
            "area": kali_anyar.pk,
            "title": "Lurah Kali Anyar",
            "assigned_at_0": "2026-11-01",
            "assigned_at_1": "08:00:00",
        },
    )
    assert response.status_code == 302
    assert Facilitator.objects.get(user=lurah).area == kali_anyar
