"""Consent and the log of who viewed personal data (Law 27/2022), for every app to use: the
notifications ask `consent_given` before sending, views that show contact or reporter
details call `personal_data_viewed`. The person's own pages (download, erasure, who looked)
live in commitments.privacy, which may reach every app's rows."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import DatabaseError, transaction

from .models import Consent, PersonalDataView

logger = logging.getLogger(__name__)

# The wording a person agrees to, by purpose; a new wording gets a new version, and a
# consent recorded under an older one still counts (it is not withdrawn by a re-wording).
CONSENT_WORDING_VERSION = "2026-12"
# Purposes that hold until withdrawn once the account exists (signing up gives them).
GIVEN_AT_SIGN_UP = (Consent.Purpose.ACCOUNT, Consent.Purpose.NOTIFICATIONS)


def consent_record(*, user, purpose: str, given: bool) -> Consent:
    """Add a row: the person gave (or withdrew) consent to `purpose` now."""
    return Consent.objects.create(
        user=user, purpose=purpose, given=given, wording_version=CONSENT_WORDING_VERSION
    )


def consent_given(user, purpose: str) -> bool:
    """The latest word of the person on `purpose`. With no row: notifications and the
    account are given by signing up (accounts made before consent was recorded included);
    a public name is not."""
    latest = (
        Consent.objects.filter(user=user, purpose=purpose)
        .order_by("-at", "-pk")
        .values_list("given", flat=True)
        .first()
    )
    if latest is None:
        return purpose in GIVEN_AT_SIGN_UP
    return latest


def withdrawn_user_ids(user_ids: Iterable[int], purpose: str) -> set[int]:
    """Of these people, those whose latest word on `purpose` is a withdrawal (one query)."""
    ids = set(user_ids)
    if not ids:
        return set()
    latest: dict[int, bool] = {}
    rows = Consent.objects.filter(user_id__in=ids, purpose=purpose).order_by("at", "pk")
    for user_id, given in rows.values_list("user_id", "given"):
        latest[user_id] = given
    withdrawn = {uid for uid, given in latest.items() if not given}
    if purpose not in GIVEN_AT_SIGN_UP:
        withdrawn |= ids - set(latest)
    return withdrawn


def personal_data_viewed(
    *, viewer, what: str, subjects: Iterable = (), subject_ref: str = "", path: str = ""
) -> None:
    """Log that `viewer` saw `what` of each person in `subjects` (accounts), or of the
    person behind `subject_ref` (no account). A failed write is logged, never an error page:
    the page was allowed; the log is its trace."""
    viewer = viewer if getattr(viewer, "is_authenticated", False) else None
    rows = [
        PersonalDataView(viewer=viewer, subject=s, what=what, path=path[:300])
        for s in {s.pk: s for s in subjects}.values()
    ]
    if subject_ref:
        rows.append(
            PersonalDataView(viewer=viewer, subject_ref=subject_ref, what=what, path=path[:300])
        )
    if not rows:
        return
    try:
        with transaction.atomic():  # a savepoint: a failure leaves the page's work whole
            PersonalDataView.objects.bulk_create(rows)
    except DatabaseError:
        logger.exception("Could not log a view of personal data (%s)", what)


def consent_states(user) -> list[tuple[str, str, bool]]:
    """(purpose, its label, given now) for each purpose, for the person's privacy page."""
    return [
        (purpose, label, consent_given(user, purpose)) for purpose, label in Consent.Purpose.choices
    ]


def contacts_viewed(*, viewer, collaborators: Iterable, path: str = "") -> None:
    """Log that `viewer` saw the private contact details of these collaborators: for each,
    the account whose email is the contact's, or the collaborator as a reference."""
    contacts = [c.contact for c in collaborators if getattr(c, "contact", None) is not None]
    emails = {c.email.lower() for c in contacts if c.email}
    accounts = {
        u.email.lower(): u for u in get_user_model().objects.filter(email__in=emails) if u.email
    }
    for contact in contacts:
        person = accounts.get(contact.email.lower()) if contact.email else None
        personal_data_viewed(
            viewer=viewer,
            what=PersonalDataView.What.CONTACT,
            subjects=[person] if person else (),
            subject_ref="" if person else f"collaborator:{contact.collaborator_id}",
            path=path,
        )
