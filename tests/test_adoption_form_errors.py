"""The adoption form's RW choice names its errors (issue 25): the checkboxes are marked
invalid, and the fieldset around them is described by the error list, so that a screen
reader entering the group hears what is wrong with it."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from .adoption_world import RW2, make_adoption
from .factories import collaborator_and_member

pytestmark = pytest.mark.django_db


def test_a_refused_rw_choice_is_named_by_the_fieldset_around_it():
    collaborator, owner = collaborator_and_member()
    proposal = make_adoption(collaborator, status="changes_requested", codes=(RW2,))
    client = Client()
    client.force_login(owner)

    response = client.post(reverse("adoption-edit", args=[proposal.pk]), {"rw": "no-such-rw"})

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_rw_error"' in html
    fieldset = re.search(r'<fieldset aria-describedby="([^"]*)">\s*<legend>', html)
    assert fieldset is not None
    assert "id_rw_error" in fieldset[1].split()
    assert re.search(r'<input type="checkbox" name="rw"[^>]*aria-invalid="true"', html)


def test_the_fieldset_names_nothing_before_the_form_is_sent():
    collaborator, owner = collaborator_and_member()
    proposal = make_adoption(collaborator, status="changes_requested", codes=(RW2,))
    client = Client()
    client.force_login(owner)

    response = client.get(reverse("adoption-edit", args=[proposal.pk]))

    assert response.status_code == 200
    assert "id_rw_error" not in response.content.decode()
