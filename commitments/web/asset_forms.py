"""Forms of the donated-asset register: one row per asset at receipt, and an entry of an
asset's history. The rules themselves are commitments.assets.registry's (entry_refusal,
owner_refusal), asked here row by row so that each row shows its own error."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from programs.models import AssetOwner

from ..assets.models import NAME_MAX, NOTE_MAX, SERIAL_MAX, AssetCondition, AssetStatus, EventKind
from ..assets.registry import AssetEntry, allowed_owners, entry_refusal, owner_refusal, schools_for
from ..lifecycle.uploads import clean_upload
from ..models import Commitment


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


class AssetRowForm(OwnerFields):
    """One asset at receipt."""

    serial_number = forms.CharField(
        label=gettext_lazy("Serial number"), required=False, max_length=SERIAL_MAX
    )
    condition = forms.ChoiceField(
        label=gettext_lazy("Condition"), choices=AssetCondition.choices, initial="new"
    )
    photo = forms.FileField(
        label=gettext_lazy("Photo (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )

    def __init__(self, *args, commitment: Commitment, **kwargs) -> None:
        super().__init__(*args, commitment=commitment, **kwargs)
        if commitment.donation_form.asks_serials:
            self.fields["serial_number"].required = True

    def clean_photo(self):
        upload = self.cleaned_data.get("photo")
        return clean_upload(upload, pdf=False) if upload else None

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            refusal = entry_refusal(self.as_entry(), commitment=self.commitment)
            if refusal:
                raise ValidationError(refusal)
        return cleaned

    def as_entry(self) -> AssetEntry:
        data = self.cleaned_data
        return self.entry(
            serial_number=data.get("serial_number", ""),
            condition=data.get("condition", ""),
            photo=data.get("photo"),
        )


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
