"""Load the six KSBB programs and their donation forms from the city's 2021 report."""

from __future__ import annotations

import calendar
import datetime
import json
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils.text import slugify

from .models import DonationForm, Program, ProgramPause

PROGRAMS_FILE = Path(__file__).resolve().parent / "data" / "ksbb_programs_2021.json"
REPORTED_AS_OF = datetime.date(2021, 10, 27)  # the date of the deck the figures come from
# Free-text notes of a program entry, each with an optional Indonesian "<key>_id" beside it.
NOTE_KEYS = ("note", "launch_note", "example")


class ProgramFileError(Exception):
    pass


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def count(self, created: bool, changed: bool) -> None:
        if created:
            self.created += 1
        elif changed:
            self.updated += 1
        else:
            self.unchanged += 1


def _month(value: str | None, *, end: bool = False) -> datetime.date | None:
    """'2020-04' -> 2020-04-01 (or the month's last day with end=True)."""
    if not value:
        return None
    year, month = (int(part) for part in value.split("-")[:2])
    day = calendar.monthrange(year, month)[1] if end else 1
    return datetime.date(year, month, day)


def _upsert(model, lookup: dict, values: dict):
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        return model.objects.create(**lookup, **values), True, True
    changed = any(getattr(obj, name) != value for name, value in values.items())
    if changed:
        for name, value in values.items():
            setattr(obj, name, value)
        obj.save()
    return obj, False, changed


def _notes(entry: dict, indonesian: bool = False) -> str:
    """The reported notes in English or, with `indonesian`, from the "<key>_id" texts: then
    "" unless every English part has its Indonesian one (a page shows the English notes
    whole, marked lang="en", rather than a mix)."""
    suffix = "_id" if indonesian else ""
    parts = [entry.get(key + suffix) for key in NOTE_KEYS if entry.get(key)]
    if entry.get("collaborator_examples"):
        examples = entry.get("collaborator_examples" + suffix)
        lead = "Kolaborator antara lain: " if indonesian else "Collaborators include: "
        parts.append(examples and lead + ", ".join(examples))
    labels = entry.get("totals_labels_id") or {}
    for key, value in (entry.get("totals_reported") or {}).items():
        if indonesian:
            parts.append(labels.get(key) and f"{labels[key]}: {value:,}".replace(",", "."))
        else:
            parts.append(f"{key.replace('_', ' ')}: {value:,}")
    if not all(parts):
        return ""
    return "\n".join(str(part) for part in parts)


def _reports(entry: dict) -> bool:
    return any(key.endswith("_reported") for key in entry)


def _program_values(entry: dict, order: int, source: str) -> dict:
    """A Program's loaded fields from one entry of the file. Each text has its English key
    (as the deck gives it) and an optional Indonesian one, "<key>_id"."""
    return {
        "name_id": entry["name_id"],
        "name_en": entry["name_en"],
        "lead_agency": entry["lead"],
        "lead_agency_id": entry.get("lead_id", ""),
        "launched_on": _month(entry.get("launched")),
        "launch_is_target": "target" in entry.get("launch_note", ""),
        "facilitator": entry.get("facilitator", ""),
        "facilitator_id": entry.get("facilitator_id", ""),
        "beneficiaries": entry.get("beneficiaries", ""),
        "beneficiaries_id": entry.get("beneficiaries_id", ""),
        "asset_recording": entry.get("asset_recording", ""),
        "asset_recording_id": entry.get("asset_recording_id", ""),
        # Whose assets donated goods become (commitments.assets), from the deck's wording in
        # asset_recording.
        "asset_owners": entry.get("asset_owners", []),
        "planning_notes": "\n".join(entry.get("planning", [])),
        "planning_notes_id": "\n".join(entry.get("planning_id", [])),
        "reported_collaborators": entry.get("collaborators_reported"),
        "reported_commitments": entry.get("commitments_reported"),
        "reported_value_idr": entry.get("commitment_value_idr_reported"),
        # Only a file with reported figures has a date they are as of.
        "reported_as_of": REPORTED_AS_OF if _reports(entry) else None,
        "reported_source": source,
        "reported_notes": _notes(entry),
        "reported_notes_id": _notes(entry, indonesian=True),
        "sort_order": order,
    }


def load_programs(path: Path = PROGRAMS_FILE) -> dict[str, LoadResult]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = data["programs"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ProgramFileError(f"{path.name}: cannot read the programs ({exc})") from None
    results = {"programs": LoadResult(), "donation forms": LoadResult(), "pauses": LoadResult()}
    source = data.get("source", "")
    with transaction.atomic():
        for order, entry in enumerate(entries):
            try:
                program, created, changed = _upsert(
                    Program, {"slug": entry["slug"]}, _program_values(entry, order, source)
                )
                results["programs"].count(created, changed)
                for form_order, form in enumerate(entry.get("donation_forms", [])):
                    _, created, changed = _upsert(
                        DonationForm,
                        {"program": program, "slug": slugify(form["name_en"])[:50]},
                        {
                            "name_id": form["name_id"],
                            "name_en": form["name_en"],
                            "unit": form.get("unit", DonationForm.Unit.PACKAGE),
                            "note": form.get("note", ""),
                            "creates_assets": form.get("creates_assets", False),
                            "asks_serials": form.get("asks_serials", False),
                            "reported_commitments": form.get("commitments_reported"),
                            "reported_value_idr": form.get("value_idr_reported"),
                            "sort_order": form_order,
                        },
                    )
                    results["donation forms"].count(created, changed)
                for pause in entry.get("paused", []):
                    _, created, changed = _upsert(
                        ProgramPause,
                        {"program": program, "starts_on": _month(pause["from"])},
                        {
                            "ends_on": _month(pause.get("to"), end=True),
                            "note": pause.get("note", ""),
                            "note_id": pause.get("note_id", ""),
                        },
                    )
                    results["pauses"].count(created, changed)
            except (KeyError, ValueError, TypeError) as exc:
                raise ProgramFileError(
                    f"{path.name}: program {entry.get('slug', order)!r} is incomplete ({exc!r})"
                ) from None
    return results
