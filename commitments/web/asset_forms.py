"""Forms of the donated-asset register: groups of assets at receipt (one owner kind,
condition and photo a group, a count or one line an asset), and an entry of an asset's
history. The rules themselves are commitments.assets.registry's (entry_refusal,
owner_refusal), asked here line by line so that each problem names its group and line."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator as ProhibitNull
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from programs.models import AssetOwner

from ..assets.models import NAME_MAX, NOTE_MAX, SERIAL_MAX, AssetCondition, AssetStatus, EventKind
from ..assets.registry import (
    MAX_ASSETS,
    AssetEntry,
    allowed_owners,
    entry_refusal,
    owner_refusal,
    school_ids_for,
    schools_for,
    serials_taken,
)
from ..lifecycle.uploads import clean_upload
from ..models import Commitment

# A line: a serial number, a semicolon and a private owner's name, at most.
LINE_MAX = SERIAL_MAX + NAME_MAX + 10
# Problems listed per group (and across groups): enough to fix, not a page of 5,000.
MAX_PROBLEMS = 20


def _owner_choices(commitment: Commitment) -> list[tuple[str, str]]:
    return [(owner, AssetOwner(owner).label) for owner in allowed_owners(commitment.program)]


def _school_choices(commitment: Commitment) -> list[tuple[str, str]]:
    schools = schools_for(commitment).order_by("name").values_list("pk", "name")
    return [("", gettext_lazy("– choose a school –")), *((str(pk), n) for pk, n in schools)]


class OwnerFields(forms.Form):
    """The owner of an asset: its kind, and the school or the private person's name."""

    owner_kind = forms.ChoiceField(label=gettext_lazy("Owner"))
    owner_site = forms.TypedChoiceField(
        label=gettext_lazy("School"), coerce=int, required=False, empty_value=None
    )
    owner_name = forms.CharField(
        label=gettext_lazy("Owner's name (private person)"),
        required=False,
        max_length=NAME_MAX,
        help_text=gettext_lazy("Shown only to the area's facilitators and the program's leads."),
    )

    def __init__(self, *args, commitment: Commitment, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.commitment = commitment
        self.fields["owner_kind"].choices = _owner_choices(commitment)
        if AssetOwner.SCHOOL in allowed_owners(commitment.program):
            self.fields["owner_site"].choices = _school_choices(commitment)
        else:
            del self.fields["owner_site"]
        if AssetOwner.PRIVATE not in allowed_owners(commitment.program):
            del self.fields["owner_name"]

    def entry(self, **more) -> AssetEntry:
        data = self.cleaned_data
        return AssetEntry(
            owner_kind=data.get("owner_kind", ""),
            owner_site_id=data.get("owner_site"),
            owner_name=data.get("owner_name", ""),
            **more,
        )


class AssetGroupForm(OwnerFields):
    """A group of assets at receipt: one owner kind (and school), one condition, an optional
    photo, and either a count (forms that ask no serial numbers) or lines, one asset a line:
    "serial", or "serial; owner name" for private owners; "owner name" for private owners of
    forms without serial numbers. A group whose count and lines are empty is skipped."""

    count = forms.IntegerField(
        label=gettext_lazy("How many"),
        required=False,
        min_value=1,
        max_value=MAX_ASSETS,
        help_text=gettext_lazy("For a school, an RW, a kelurahan or the city: how many."),
    )
    lines = forms.CharField(
        label=gettext_lazy("One asset a line"),
        required=False,
        max_length=MAX_ASSETS * (LINE_MAX + 2),
        widget=forms.Textarea(attrs={"rows": 5, "autocapitalize": "off", "spellcheck": "false"}),
    )
    condition = forms.ChoiceField(
        label=gettext_lazy("Condition"), choices=AssetCondition.choices, initial="new"
    )
    photo = forms.FileField(
        label=gettext_lazy("Photo (optional, for the whole group)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
    field_order = ["owner_kind", "owner_site", "count", "lines", "condition", "photo"]

    def __init__(self, *args, commitment: Commitment, number, school_ids=None, **kwargs) -> None:
        super().__init__(*args, commitment=commitment, **kwargs)
        self.number = number
        self.school_ids = school_ids
        self.fields.pop("owner_name", None)  # names come with the lines
        self.fields["owner_kind"].required = False
        # NUL bytes are refused line by line below, naming the line.
        self.fields["lines"].validators = [
            v for v in self.fields["lines"].validators if not isinstance(v, ProhibitNull)
        ]
        private = AssetOwner.PRIVATE in allowed_owners(commitment.program)
        if commitment.donation_form.asks_serials:
            del self.fields["count"]
            self.fields["lines"].help_text = (
                _SERIAL_AND_NAME_HELP if private else gettext_lazy("One serial number a line.")
            )
        else:
            self.fields["lines"].label = gettext_lazy("Private owners: one name a line")
            if not private:
                del self.fields["lines"]
        self.entries: list[tuple[int, AssetEntry]] = []  # (line number, entry)

    def clean_photo(self):
        upload = self.cleaned_data.get("photo")
        return clean_upload(upload, pdf=False) if upload else None

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not data.get("count") and not (data.get("lines") or "").strip()

    def clean(self):
        cleaned = super().clean()
        if self.errors or self.is_blank():
            return cleaned
        problems = self._entries_or_problems(cleaned)
        if problems:
            shown = problems[:MAX_PROBLEMS]
            if len(problems) > MAX_PROBLEMS:
                shown.append(
                    _("Group %(group)s: and %(more)s more lines like these.")
                    % {"group": self.number, "more": len(problems) - MAX_PROBLEMS}
                )
            raise ValidationError(shown)
        return cleaned

    def problem(self, problem: str, line: int | None = None) -> str:
        if line is None:
            return _("Group %(group)s: %(problem)s") % {"group": self.number, "problem": problem}
        return _("Group %(group)s, line %(line)s: %(problem)s") % {
            "group": self.number,
            "line": line,
            "problem": problem,
        }

    def _entries_or_problems(self, cleaned) -> list[str]:
        """Fill self.entries from the group, or say what is wrong with it, line by line."""
        kind = cleaned.get("owner_kind") or ""
        if not kind:
            return [self.problem(_("Choose the owner."))]
        common = {
            "owner_kind": kind,
            "owner_site_id": cleaned.get("owner_site"),
            "condition": cleaned.get("condition") or "",
            "photo": cleaned.get("photo"),
        }
        lines = (cleaned.get("lines") or "").splitlines()
        numbered = [(n, line.strip()) for n, line in enumerate(lines, start=1) if line.strip()]
        if "count" in self.fields and kind != AssetOwner.PRIVATE:
            if numbered:
                return [self.problem(_("Give a count for this owner, not lines."))]
            if not cleaned.get("count"):
                return [self.problem(_("Give how many."))]
            entry = AssetEntry(**common)
            refusal = self._refusal(entry)
            self.entries = [(0, entry)] * cleaned["count"]
            return [self.problem(refusal)] if refusal else []
        if not numbered:
            return [self.problem(_("Give one line for each asset."))]
        if len(numbered) > MAX_ASSETS:
            return [self.problem(_("At most %(most)s lines.") % {"most": MAX_ASSETS})]
        if cleaned.get("count") and cleaned["count"] != len(numbered):
            return [
                self.problem(
                    _("The count says %(count)s but there are %(lines)s lines.")
                    % {"count": cleaned["count"], "lines": len(numbered)}
                )
            ]
        return self._line_entries(numbered, kind, common)

    def _line_entries(self, numbered, kind: str, common: dict) -> list[str]:
        problems = []
        serials = self.commitment.donation_form.asks_serials
        for number, line in numbered:
            if "\x00" in line:
                problems.append(
                    self.problem(_("contains a character that is not allowed."), number)
                )
                continue
            if len(line) > LINE_MAX:
                problems.append(
                    self.problem(
                        _("too long (at most %(limit)s characters).") % {"limit": LINE_MAX},
                        number,
                    )
                )
                continue
            serial, name = (part.strip() for part in (line.split(";", 1) + [""])[:2])
            if not serials:
                serial, name = "", line
            if name and kind != AssetOwner.PRIVATE:
                problems.append(self.problem(_("only a private owner's line has a name."), number))
                continue
            entry = AssetEntry(serial_number=serial, owner_name=name, **common)
            refusal = self._refusal(entry)
            if refusal:
                problems.append(self.problem(refusal, number))
            else:
                self.entries.append((number, entry))
        return problems

    def _refusal(self, entry: AssetEntry) -> str | None:
        if self.school_ids is None:
            self.school_ids = school_ids_for(self.commitment)
        return entry_refusal(entry, commitment=self.commitment, school_ids=self.school_ids)


_SERIAL_AND_NAME_HELP = gettext_lazy(
    "One serial number a line; for a private owner, the serial number, a semicolon and the "
    "owner's name: SN123; Siti Rahmawati."
)


def group_entries(groups: list[AssetGroupForm], *, quantity: int) -> tuple[list, list[str]]:
    """The assets of valid `groups`, in order, or the problems across them (the total against
    the delivery's quantity, a serial number given twice or already registered), each naming
    its group and line."""
    located = [(g, n, e) for g in groups for n, e in g.entries]
    total = len(located)
    if total != quantity:
        problem = _("The groups add up to %(given)s assets; this delivery is of %(quantity)s.") % {
            "given": total,
            "quantity": quantity,
        }
        return [], [problem]
    problems = []
    first: dict[str, tuple[int, int]] = {}
    for group, number, entry in located:
        serial = entry.serial_number.strip()
        if not serial:
            continue
        if serial in first:
            problems.append(
                group.problem(
                    _("the serial number %(serial)s is also on group %(group)s, line %(line)s.")
                    % {"serial": serial, "group": first[serial][0], "line": first[serial][1]},
                    number,
                )
            )
        else:
            first[serial] = (group.number, number)
    if not problems and first:
        form_id = groups[0].commitment.donation_form_id
        for serial in serials_taken(list(first), donation_form_id=form_id):
            group, number = first[serial]
            problems.append(
                _("Group %(group)s, line %(line)s: %(problem)s")
                % {
                    "group": group,
                    "line": number,
                    "problem": _("the serial number %(serial)s is already registered.")
                    % {"serial": serial},
                }
            )
    return [e for _g, _n, e in located], problems[:MAX_PROBLEMS]


class AssetEventForm(OwnerFields):
    """What happened to an asset: a status change, or a handover to a new owner."""

    kind = forms.ChoiceField(
        label=gettext_lazy("What happened"),
        choices=[
            (EventKind.IN_USE, gettext_lazy("in use")),
            (EventKind.REPAIRED, gettext_lazy("repaired")),
            (EventKind.BROKEN, gettext_lazy("broken")),
            (EventKind.LOST, gettext_lazy("lost")),
            (EventKind.HANDED_OVER, gettext_lazy("handed over to another owner")),
        ],
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    field_order = ["kind", "owner_kind", "owner_site", "owner_name", "note"]

    def __init__(self, *args, commitment: Commitment, **kwargs) -> None:
        super().__init__(*args, commitment=commitment, **kwargs)
        self.fields["owner_kind"].required = False
        self.fields["owner_kind"].label = gettext_lazy("New owner (for a handover)")
        self.fields["owner_kind"].choices = [("", "–"), *_owner_choices(commitment)]

    def clean(self):
        cleaned = super().clean()
        if not self.errors and cleaned.get("kind") == EventKind.HANDED_OVER:
            refusal = owner_refusal(self.entry(), commitment=self.commitment)
            if refusal:
                raise ValidationError(refusal)
        return cleaned

    def new_owner(self) -> AssetEntry | None:
        return self.entry() if self.cleaned_data["kind"] == EventKind.HANDED_OVER else None


class StatusFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("all")), *AssetStatus.choices],
    )
