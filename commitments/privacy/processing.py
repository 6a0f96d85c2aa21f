"""The record of processing (Law 27/2022 art. 31), as data: every model field that can hold
personal data, with what it is, why it is kept (purpose), the legal basis, how long, who
sees it, and what erasure does to it. The download of a person's data (mydata.py), the
erasure and its proof (erasure.py) and the administrators' page all read this one table,
so a personal field cannot be forgotten by one of them; tests/test_privacy_walk.py walks
every model of the project and fails on a text-like field that is in neither list.

Erasure rules, per field:
- ANONYMISE: replaced by a neutral value (the account row stays, so that what the person
  did stays counted and owned);
- BLANK: emptied;
- SCRUB: free text or a name that may mention the person: their name, email, username and
  phone are cut out wherever they appear, in every row of the table;
- ROW: the rows the person owns are deleted (memberships, numbers, notifications...);
- KEEP: kept as evidence; it holds no value that identifies the person by itself.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models
from django.utils.translation import gettext_lazy as _


class Erasure(enum.StrEnum):
    ANONYMISE = "anonymise"
    BLANK = "blank"
    SCRUB = "scrub"
    ROW = "row"
    KEEP = "keep"


ERASURE_LABELS = {
    Erasure.ANONYMISE: _("replaced by a neutral value"),
    Erasure.BLANK: _("emptied"),
    Erasure.SCRUB: _("the person's name and contacts cut out"),
    Erasure.ROW: _("deleted with the row"),
    Erasure.KEEP: _("kept as evidence (identifies nobody by itself)"),
}

# Purposes and legal bases (Law 27/2022 art. 20): used by many rows below.
ACCOUNT = _("running the person's account")
NOTIFY = _("sending the person notifications")
RECORDS = _("the program's records of gifts and deliveries")
ACCOUNTABILITY = _("accountability: who did what, and complaints")
SECURITY = _("security of the portal")
CONSENT_BASIS = _("consent")
CONTRACT_BASIS = _("performing the agreement with the person")
DUTY_BASIS = _("a legal duty of the city government")
INTEREST_BASIS = _("legitimate interest")
UNTIL_ERASED = _("until the account is erased")
ADMINS = _("administrators")
LEADS = _("program leads and administrators")
SELF = _("the person and administrators")


@dataclass(frozen=True)
class Use:
    what: str
    purpose: str
    basis: str
    kept: str
    seen_by: str
    erasure: Erasure


@dataclass(frozen=True)
class Holder:
    """A model and how the person's rows are found: `person` is an ORM path from the row
    to the person's User ("" when none; the row is then reached only by SCRUB), or
    "=field" for a column holding the person's email (CollaboratorContact, axes)."""

    label: str
    person: str = ""
    personal: dict[str, Use] = field(default_factory=dict)
    not_personal: tuple[str, ...] = ()
    delete_rows: bool = False  # erasure deletes the person's rows


def _u(what, purpose, basis, kept, seen_by, erasure) -> Use:
    return Use(what, purpose, basis, kept, seen_by, erasure)


_NOTE = _("free text that may name people")
_REPORT = _("a report and its handling (may name people)")
_HANDLERS = _("those handling the report")
_ACCOUNT_DATA = (ACCOUNT, CONTRACT_BASIS, UNTIL_ERASED)

HOLDERS: tuple[Holder, ...] = (
    Holder(
        "auth.User",
        person="pk",
        personal={
            "username": _u(_("username (the email)"), *_ACCOUNT_DATA, SELF, Erasure.ANONYMISE),
            "email": _u(_("email"), *_ACCOUNT_DATA, SELF, Erasure.ANONYMISE),
            "first_name": _u(
                _("name"), *_ACCOUNT_DATA, _("everyone they work with"), Erasure.BLANK
            ),
            "last_name": _u(_("name"), *_ACCOUNT_DATA, _("everyone they work with"), Erasure.BLANK),
            "password": _u(_("password hash"), *_ACCOUNT_DATA, _("nobody"), Erasure.ANONYMISE),
        },
    ),
    Holder(
        "sessions.Session",
        person="*session",
        personal={
            "session_data": _u(
                _("sign-in session"),
                ACCOUNT,
                CONTRACT_BASIS,
                _("2 weeks"),
                _("nobody"),
                Erasure.ROW,
            ),
        },
        not_personal=("session_key",),
        delete_rows=True,
    ),
    Holder(
        "collaborators.Consent",
        person="user",
        personal={
            "purpose": _u(
                _("consents given and withdrawn"),
                ACCOUNTABILITY,
                DUTY_BASIS,
                _("kept as evidence"),
                SELF,
                Erasure.KEEP,
            ),
            "wording_version": _u(
                _("version of the wording agreed to"),
                ACCOUNTABILITY,
                DUTY_BASIS,
                _("kept as evidence"),
                SELF,
                Erasure.KEEP,
            ),
        },
    ),
    Holder(
        "collaborators.Membership",
        person="user",
        not_personal=("role",),
        delete_rows=True,
    ),
    Holder(
        "collaborators.WhatsAppNumber",
        person="user",
        personal={
            "number": _u(
                _("WhatsApp number"),
                NOTIFY,
                CONSENT_BASIS,
                UNTIL_ERASED,
                _("the person; facilitators of their areas"),
                Erasure.ROW,
            ),
            "code_hash": _u(
                _("verification code (hashed)"),
                NOTIFY,
                CONSENT_BASIS,
                _("until verified; stale codes cleared daily"),
                _("nobody"),
                Erasure.ROW,
            ),
        },
        not_personal=("channel",),
        delete_rows=True,
    ),
    Holder(
        "collaborators.CollaboratorContact",
        person="=email",
        personal={
            "contact_name": _u(
                _("contact person's name"),
                RECORDS,
                CONTRACT_BASIS,
                _("while the collaborator is registered"),
                LEADS,
                Erasure.SCRUB,
            ),
            "email": _u(
                _("contact email"),
                RECORDS,
                CONTRACT_BASIS,
                _("while the collaborator is registered"),
                LEADS,
                Erasure.BLANK,
            ),
            "phone": _u(
                _("contact phone"),
                RECORDS,
                CONTRACT_BASIS,
                _("while the collaborator is registered"),
                LEADS,
                Erasure.BLANK,
            ),
            "address": _u(
                _("address"),
                RECORDS,
                CONTRACT_BASIS,
                _("while the collaborator is registered"),
                LEADS,
                Erasure.BLANK,
            ),
            "tax_id": _u(
                _("tax number (NPWP)"),
                RECORDS,
                DUTY_BASIS,
                _("while the collaborator is registered"),
                LEADS,
                Erasure.BLANK,
            ),
        },
    ),
    Holder(
        "collaborators.Collaborator",
        personal={
            # An individual collaborator is named after its person.
            "name": _u(
                _("an individual collaborator's name"),
                RECORDS,
                CONSENT_BASIS,
                UNTIL_ERASED,
                _("the public, with consent"),
                Erasure.SCRUB,
            ),
            "slug": _u(
                _("an individual collaborator's name in its address"),
                RECORDS,
                CONSENT_BASIS,
                UNTIL_ERASED,
                _("the public, with consent"),
                Erasure.SCRUB,
            ),
            "description": _u(
                _NOTE, RECORDS, CONSENT_BASIS, UNTIL_ERASED, _("the public"), Erasure.SCRUB
            ),
        },
        not_personal=("kind", "verification_status", "website", "logo"),
    ),
    Holder(
        "collaborators.PersonalDataView",
        person="subject",
        personal={
            "subject_ref": _u(
                _("reference to a reporter without an account"),
                ACCOUNTABILITY,
                DUTY_BASIS,
                _("ACCESS_LOG_DAYS"),
                SELF,
                Erasure.KEEP,
            ),
            "path": _u(
                _("page where personal data was viewed"),
                ACCOUNTABILITY,
                DUTY_BASIS,
                _("ACCESS_LOG_DAYS"),
                SELF,
                Erasure.KEEP,
            ),
        },
        not_personal=("what",),
    ),
    Holder(
        "collaborators.ProgramVerification",
        not_personal=("status",),
        personal={"reason": _u(_NOTE, RECORDS, DUTY_BASIS, _("kept"), LEADS, Erasure.SCRUB)},
    ),
    Holder(
        "commitments.Notification",
        person="user",
        personal={
            "subject": _u(
                _("notifications"), NOTIFY, CONSENT_BASIS, UNTIL_ERASED, SELF, Erasure.SCRUB
            ),
            "body": _u(
                _("notifications"), NOTIFY, CONSENT_BASIS, UNTIL_ERASED, SELF, Erasure.SCRUB
            ),
        },
        not_personal=("url",),
        delete_rows=True,
    ),
    Holder(
        "commitments.Commitment",
        person="created_by",
        personal={
            "note": _u(_NOTE, RECORDS, DUTY_BASIS, _("kept"), LEADS, Erasure.SCRUB),
            "statement_letter": _u(
                _("statement letter (may be signed)"),
                RECORDS,
                DUTY_BASIS,
                _("kept"),
                LEADS,
                Erasure.KEEP,
            ),
        },
        not_personal=("channel", "status", "idempotency_key"),
    ),
    Holder(
        "commitments.Delivery",
        person="recorded_by",
        personal={"note": _u(_NOTE, RECORDS, DUTY_BASIS, _("kept"), LEADS, Erasure.SCRUB)},
    ),
    Holder(
        "commitments.DeliveryProof",
        personal={
            "file": _u(
                _("delivery proof (photos may show faces)"),
                RECORDS,
                DUTY_BASIS,
                _("kept"),
                _("facilitators, leads; public only when marked"),
                Erasure.KEEP,
            )
        },
        not_personal=("kind", "content_type"),
    ),
    Holder(
        "commitments.CommitmentEvent",
        person="actor",
        personal={"reason": _u(_NOTE, ACCOUNTABILITY, DUTY_BASIS, _("kept"), LEADS, Erasure.SCRUB)},
        not_personal=("actor_role", "from_status", "to_status"),
    ),
    Holder(
        "commitments.Export",
        person="requested_by",
        personal={
            "file": _u(
                _("export file (may list contacts)"),
                RECORDS,
                DUTY_BASIS,
                _("EXPORT_FILE_DAYS"),
                SELF,
                Erasure.KEEP,
            )
        },
        not_personal=("format", "filters", "status", "file_name", "error"),
    ),
    Holder(
        "commitments.NeedImport",
        personal={
            "file": _u(
                _("uploaded needs file (may name households)"),
                RECORDS,
                DUTY_BASIS,
                _("IMPORT_FILE_DAYS"),
                SELF,
                Erasure.KEEP,
            ),
            "problems": _u(_NOTE, RECORDS, DUTY_BASIS, _("kept"), SELF, Erasure.SCRUB),
            "summary": _u(_NOTE, RECORDS, DUTY_BASIS, _("kept"), SELF, Erasure.KEEP),
        },
        not_personal=("file_name", "format", "header_language", "status", "error"),
    ),
    Holder(
        "locations.IndicatorImport",
        personal={
            "file": _u(
                _("uploaded indicator file"),
                RECORDS,
                DUTY_BASIS,
                _("IMPORT_FILE_DAYS"),
                SELF,
                Erasure.KEEP,
            )
        },
        not_personal=(
            "file_name",
            "format",
            "spec",
            "status",
            "unmatched",
            "problems",
            "preview",
            "error",
        ),
    ),
    Holder(
        "locations.Site",
        personal={
            "address": _u(
                _("an institution's address"),
                RECORDS,
                DUTY_BASIS,
                _("kept"),
                _("the public"),
                Erasure.KEEP,
            )
        },
        not_personal=("kind", "name"),
    ),
    Holder(
        "locations.Need",
        not_personal=("assessed_by_role", "status"),
        personal={
            "description": _u(_NOTE, RECORDS, DUTY_BASIS, _("kept"), _("the public"), Erasure.SCRUB)
        },
    ),
    Holder(
        "locations.NeedChange",
        not_personal=("action",),
        personal={
            "changes": _u(_NOTE, ACCOUNTABILITY, DUTY_BASIS, _("kept"), LEADS, Erasure.KEEP),
            "reason": _u(_NOTE, ACCOUNTABILITY, DUTY_BASIS, _("kept"), LEADS, Erasure.SCRUB),
        },
    ),
    Holder("locations.Facilitator", person="user", not_personal=("title",)),
    Holder(
        "programs.ProgramPause",
        personal={
            "note": _u(_NOTE, RECORDS, DUTY_BASIS, _("kept"), _("the public"), Erasure.SCRUB),
            "note_id": _u(_NOTE, RECORDS, DUTY_BASIS, _("kept"), _("the public"), Erasure.SCRUB),
        },
    ),
    Holder(
        "adoption.Adoption",
        personal={
            "description": _u(
                _NOTE, RECORDS, DUTY_BASIS, _("kept"), _("the public"), Erasure.SCRUB
            ),
            "decision_note": _u(_NOTE, RECORDS, DUTY_BASIS, _("kept"), LEADS, Erasure.SCRUB),
        },
        not_personal=("name", "status"),
    ),
    Holder(
        "adoption.FacilitatorComment",
        person="author",
        not_personal=("author_title",),
        personal={"text": _u(_NOTE, RECORDS, DUTY_BASIS, _("kept"), LEADS, Erasure.SCRUB)},
    ),
    Holder(
        "assets.Asset",
        personal={
            "owner_name": _u(
                _("name of the person holding an asset"),
                RECORDS,
                DUTY_BASIS,
                _("kept"),
                LEADS,
                Erasure.SCRUB,
            ),
            "photo": _u(_("asset photo"), RECORDS, DUTY_BASIS, _("kept"), LEADS, Erasure.KEEP),
        },
        not_personal=("kind", "serial_number", "owner_kind", "condition", "status"),
    ),
    Holder(
        "assets.AssetEvent",
        person="actor",
        personal={
            "owner_name": _u(
                _("name of the person holding an asset"),
                RECORDS,
                DUTY_BASIS,
                _("kept"),
                LEADS,
                Erasure.SCRUB,
            ),
            "note": _u(_NOTE, RECORDS, DUTY_BASIS, _("kept"), LEADS, Erasure.SCRUB),
        },
        not_personal=("kind", "from_status", "to_status", "owner_kind", "actor_role"),
    ),
    Holder(
        "pooling.Contribution",
        personal={
            "note": _u(_NOTE, RECORDS, DUTY_BASIS, _("kept"), LEADS, Erasure.SCRUB),
            "refusal_reason": _u(_NOTE, RECORDS, DUTY_BASIS, _("kept"), LEADS, Erasure.SCRUB),
        },
        not_personal=("kind", "status", "receipt_number", "idempotency_key"),
    ),
    Holder(
        "pooling.Distribution",
        personal={
            "note": _u(_NOTE, RECORDS, DUTY_BASIS, _("kept"), LEADS, Erasure.SCRUB),
            "proof": _u(
                _("distribution proof"), RECORDS, DUTY_BASIS, _("kept"), LEADS, Erasure.KEEP
            ),
        },
        not_personal=("proof_kind", "proof_content_type"),
    ),
    Holder(
        "api.ApiToken",
        person="user",
        personal={
            "name": _u(
                _("API token names"), ACCOUNT, CONTRACT_BASIS, UNTIL_ERASED, SELF, Erasure.ROW
            )
        },
        not_personal=("prefix", "digest"),
        delete_rows=True,
    ),
    Holder(
        "api.IdempotentRequest",
        person="user",
        personal={
            "response_json": _u(
                _("stored API answers"),
                ACCOUNT,
                CONTRACT_BASIS,
                _("14 days"),
                _("nobody"),
                Erasure.ROW,
            )
        },
        not_personal=("key_digest", "method", "path", "body_digest"),
        delete_rows=True,
    ),
    Holder(
        "admin.LogEntry",
        personal={
            "object_repr": _u(
                _("what an administrator changed"),
                ACCOUNTABILITY,
                DUTY_BASIS,
                _("kept"),
                ADMINS,
                Erasure.SCRUB,
            ),
            "change_message": _u(
                _("what an administrator changed"),
                ACCOUNTABILITY,
                DUTY_BASIS,
                _("kept"),
                ADMINS,
                Erasure.SCRUB,
            ),
        },
        not_personal=("object_id",),
    ),
    *(
        Holder(
            f"axes.{name}",
            person="=username",
            personal={
                f: _u(
                    _("sign-in attempts (address, browser)"),
                    SECURITY,
                    INTEREST_BASIS,
                    _("ACCESS_LOG_DAYS"),
                    ADMINS,
                    Erasure.ROW,
                )
                for f in fields
            },
            delete_rows=True,
        )
        for name, fields in (
            (
                "AccessAttempt",
                (
                    "user_agent",
                    "ip_address",
                    "username",
                    "http_accept",
                    "path_info",
                    "get_data",
                    "post_data",
                ),
            ),
            (
                "AccessFailureLog",
                ("user_agent", "ip_address", "username", "http_accept", "path_info"),
            ),
            (
                "AccessLog",
                (
                    "user_agent",
                    "ip_address",
                    "username",
                    "http_accept",
                    "path_info",
                    "session_hash",
                ),
            ),
        )
    ),
    Holder(
        "feedback.Report",
        person="reporter",
        personal={
            "contact_phone": _u(
                _("a reporter's phone"),
                ACCOUNTABILITY,
                CONSENT_BASIS,
                _("REPORT_CONTACT_DAYS after the report closed"),
                _("those handling the report"),
                Erasure.BLANK,
            ),
            "contact_email": _u(
                _("a reporter's email"),
                ACCOUNTABILITY,
                CONSENT_BASIS,
                _("REPORT_CONTACT_DAYS after the report closed"),
                _("those handling the report"),
                Erasure.BLANK,
            ),
            "photo": _u(
                _("a report's photo"),
                ACCOUNTABILITY,
                CONSENT_BASIS,
                _("kept"),
                _("those handling the report"),
                Erasure.KEEP,
            ),
            "text": _u(_REPORT, ACCOUNTABILITY, CONSENT_BASIS, _("kept"), _HANDLERS, Erasure.SCRUB),
            "answer": _u(_REPORT, ACCOUNTABILITY, DUTY_BASIS, _("kept"), _HANDLERS, Erasure.SCRUB),
            "code": _u(
                _("a report's tracking code"),
                ACCOUNTABILITY,
                CONSENT_BASIS,
                _("kept"),
                _("the reporter and those handling it"),
                Erasure.KEEP,
            ),
        },
        not_personal=("status", "category", "channel"),
    ),
    Holder(
        "feedback.ReportEvent",
        person="actor",
        personal={
            "note": _u(_REPORT, ACCOUNTABILITY, DUTY_BASIS, _("kept"), _HANDLERS, Erasure.SCRUB),
        },
        not_personal=("status",),
    ),
)

# Models with no field that can hold personal data (their text columns name places,
# programs, figures or states). A field of them listed here by name, or the whole model.
NOT_PERSONAL_MODELS = frozenset(
    {
        "auth.Permission",
        "auth.Group",
        "contenttypes.ContentType",
        "programs.Program",
        "programs.DonationForm",
        "programs.ProgramLead",
        "locations.Area",
        "locations.AreaIndicator",
        "locations.MapLayer",
        "commitments.CommitmentSummary",
        "commitments.SummaryDirtyKey",
        "commitments.CommitmentRollup",
        "commitments.CommitmentMonthRollup",
        "commitments.CommitmentKecamatanRollup",
        "commitments.CollaboratorFigures",
        "commitments.CollaboratorDigest",
        "adoption.Phase",
        "adoption.PhaseItem",
        "adoption.AdoptionArea",
        "adoption.AdoptionWork",
        "adoption.NeedFirstOffer",
        "pooling.Allocation",
        "axes.AccessAttemptExpiration",
        "privacy.ErasureRequest",
    }
)

TEXT_LIKE = (
    models.CharField,
    models.TextField,
    models.FileField,
    models.JSONField,
    models.GenericIPAddressField,
)


def holders() -> list[tuple[type[models.Model], Holder]]:
    """The registered models that are installed (a model still being written is skipped)."""
    found = []
    for holder in HOLDERS:
        try:
            found.append((apps.get_model(holder.label), holder))
        except LookupError:
            continue
    return found


def personal_fields(model: type[models.Model], holder: Holder) -> list[str]:
    """The holder's personal fields that exist on the model."""
    names = {f.name for f in model._meta.concrete_fields}
    return [name for name in holder.personal if name in names]


def record_rows() -> list[dict]:
    """The record of processing, one row per model and field, for the administrators' page."""
    rows = []
    for model, holder in holders():
        for name in personal_fields(model, holder):
            use = holder.personal[name]
            rows.append(
                {
                    "model": model._meta.verbose_name,
                    "label": holder.label,
                    "field": name,
                    "what": use.what,
                    "purpose": use.purpose,
                    "basis": use.basis,
                    "kept": use.kept,
                    "seen_by": use.seen_by,
                    "erasure": ERASURE_LABELS[use.erasure],
                }
            )
    return rows
