"""Forms of area adoption: the proposal (areas, period, phases of works), the facilitator's
comment, the lead's decision and a work of an active adoption. The rules themselves are in
commitments.adoption.rules and commitments.lifecycle.adoption_works."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collaborators.models import Collaborator
from ksbb.bounds import INTEGER_MAX
from locations.models import Area
from programs.models import DonationForm, Program

from ..adoption.models import Adoption, AdoptionArea, Phase
from ..adoption.rules import MAX_RW, VALUE_MAX, PlannedItem, PlannedPhase, Proposal
from .forms import form_key

# The proposal form shows this many phases and donation forms per phase: plain HTML, no
# script adding rows, and enough for the plans the deck describes (YPO's had three phases).
PHASE_ROWS = 4
ITEM_ROWS = 3

DATE_WIDGET = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


def _form_name(donation_form: DonationForm) -> str:
    return donation_form.name  # the program is the proposal's own


def _kelurahan_of(area: Area) -> Area:
    return area.parent if area.level == Area.Level.RW else area


class ProposalForm(forms.Form):
    """An adoption proposal for one program. The areas: the whole kelurahan, some of its RW
    (a kampung), and RW of neighbouring kelurahan by code (a kampung across a border)."""

    collaborator = forms.ModelChoiceField(
        label=gettext_lazy("Adopting as"), queryset=Collaborator.objects.none(), empty_label=None
    )
    name = forms.CharField(
        label=gettext_lazy("Name of the adopted area"),
        max_length=200,
        help_text=gettext_lazy("For example “Kampung Tanah Merah”."),
    )
    whole_kelurahan = forms.BooleanField(label="", required=False)
    rw = forms.MultipleChoiceField(
        label=gettext_lazy("RW"), required=False, widget=forms.CheckboxSelectMultiple
    )
    more_rw = forms.CharField(
        label=gettext_lazy("RW of other kelurahan (codes, separated by commas)"),
        required=False,
        max_length=2000,
    )
    starts_on = forms.DateField(label=gettext_lazy("Starts on"), widget=DATE_WIDGET)
    ends_on = forms.DateField(label=gettext_lazy("Ends on"), widget=DATE_WIDGET)
    description = forms.CharField(
        label=gettext_lazy("The plan in a few words"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, kelurahan: Area, program: Program, collaborators, **kwargs):
        super().__init__(*args, **kwargs)
        self.kelurahan, self.program = kelurahan, program
        self.fields["collaborator"].queryset = collaborators
        self.fields["whole_kelurahan"].label = _("The whole kelurahan %(name)s") % {
            "name": kelurahan.name
        }
        self.rw_areas = {a.code: a for a in Area.objects.filter(parent=kelurahan).order_by("code")}
        self.fields["rw"].choices = [(code, a.name) for code, a in self.rw_areas.items()]
        forms_of_program = DonationForm.objects.filter(program=program)
        for i in range(1, PHASE_ROWS + 1):
            self.fields[f"phase{i}_title"] = forms.CharField(
                label=_("Phase %(n)s: title") % {"n": i}, max_length=200, required=False
            )
            self.fields[f"phase{i}_target_on"] = forms.DateField(
                label=_("Target date"), required=False, widget=DATE_WIDGET
            )
            for j in range(1, ITEM_ROWS + 1):
                prefix = f"phase{i}_item{j}"
                self.fields[f"{prefix}_form"] = forms.ModelChoiceField(
                    label=_("Donation form"), queryset=forms_of_program, required=False
                )
                self.fields[f"{prefix}_form"].label_from_instance = _form_name
                self.fields[f"{prefix}_quantity"] = forms.IntegerField(
                    label=_("Quantity"), min_value=1, max_value=INTEGER_MAX, required=False
                )
                self.fields[f"{prefix}_value"] = forms.DecimalField(
                    label=_("Value (IDR)"),
                    min_value=1,
                    max_value=VALUE_MAX,
                    decimal_places=0,
                    required=False,
                )

    def phase_rows(self):
        """(phase number, its title and date fields, its item rows) for the template."""
        for i in range(1, PHASE_ROWS + 1):
            items = [
                [self[f"phase{i}_item{j}_{name}"] for name in ("form", "quantity", "value")]
                for j in range(1, ITEM_ROWS + 1)
            ]
            yield i, self[f"phase{i}_title"], self[f"phase{i}_target_on"], items

    def clean_more_rw(self) -> list[Area]:
        codes = [c for c in re.split(r"[\s,;]+", self.cleaned_data["more_rw"]) if c]
        if len(codes) > MAX_RW:
            raise ValidationError(_("Choose at most %(n)s RW.") % {"n": MAX_RW})
        found = {
            a.code: a
            for a in Area.objects.filter(code__in=[c[:40] for c in codes], level=Area.Level.RW)
        }
        unknown = [c[:40] for c in codes if c[:40] not in found]
        if unknown:
            raise ValidationError(
                _("These are not RW codes: %(codes)s.") % {"codes": ", ".join(unknown[:5])}
            )
        return list(found.values())

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        data["phases"] = self._phases(data)
        return data

    def _phases(self, data) -> list[PlannedPhase]:
        phases = []
        for i in range(1, PHASE_ROWS + 1):
            title, target = data.get(f"phase{i}_title", ""), data.get(f"phase{i}_target_on")
            items = []
            for j in range(1, ITEM_ROWS + 1):
                prefix = f"phase{i}_item{j}"
                form = data.get(f"{prefix}_form")
                quantity, value = data.get(f"{prefix}_quantity"), data.get(f"{prefix}_value")
                if form is None and quantity is None and value is None:
                    continue
                if form is None:
                    self.add_error(f"{prefix}_form", _("Choose the donation form."))
                    continue
                items.append(PlannedItem(donation_form=form, quantity=quantity, value_idr=value))
            if not (title or target or items):
                continue
            if not title or target is None:
                self.add_error(f"phase{i}_title", _("Give each phase a title and a target date."))
                continue
            phases.append(PlannedPhase(title=title, target_on=target, items=items))
        return phases

    def proposal(self) -> Proposal:
        data = self.cleaned_data
        if data["whole_kelurahan"]:
            areas = [self.kelurahan]
        else:
            areas = [self.rw_areas[code] for code in data["rw"]]
        areas += [a for a in data["more_rw"] if a not in areas]
        return Proposal(
            name=data["name"],
            description=data["description"],
            areas=areas,
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            phases=data["phases"],
        )


def proposal_initial(adoption: Adoption) -> tuple[Area, dict]:
    """The kelurahan a proposal is drawn in, and the form's initial values (for editing it)."""
    chosen = [
        c.area
        for c in AdoptionArea.objects.filter(adoption=adoption, is_chosen=True)
        .select_related("area", "area__parent")
        .order_by("area__code")
    ]
    kelurahan = _kelurahan_of(chosen[0])
    initial = {
        "collaborator": adoption.collaborator_id,
        "name": adoption.name,
        "description": adoption.description,
        "starts_on": adoption.starts_on,
        "ends_on": adoption.ends_on,
        "whole_kelurahan": chosen[0].level == Area.Level.KELURAHAN,
        "rw": [a.code for a in chosen if a.parent_id == kelurahan.pk and a.level == "rw"],
        "more_rw": ", ".join(a.code for a in chosen if a.parent_id != kelurahan.pk),
    }
    for i, phase in enumerate(adoption.phases.prefetch_related("items"), start=1):
        initial[f"phase{i}_title"] = phase.title
        initial[f"phase{i}_target_on"] = phase.target_on
        for j, item in enumerate(phase.items.all(), start=1):
            initial[f"phase{i}_item{j}_form"] = item.donation_form_id
            initial[f"phase{i}_item{j}_quantity"] = item.quantity
            initial[f"phase{i}_item{j}_value"] = item.value_idr
    return kelurahan, initial


class CommentForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Your comment as the area's facilitator"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DecisionForm(forms.Form):
    DECISIONS = [
        ("agree", gettext_lazy("Agree")),
        ("changes", gettext_lazy("Ask for changes")),
        ("decline", gettext_lazy("Decline")),
        ("end", gettext_lazy("End the adoption")),
    ]
    decision = forms.ChoiceField(choices=DECISIONS, widget=forms.HiddenInput)
    note = forms.CharField(
        label=gettext_lazy("Note to the adopter"),
        required=False,
        max_length=900,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class WorkForm(forms.Form):
    """A work of an active adoption: a phase, one of its planned donation forms, an adopted
    area and a quantity."""

    key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    phase = forms.ModelChoiceField(
        label=gettext_lazy("Phase"), queryset=Phase.objects.none(), empty_label=None
    )
    donation_form = forms.ModelChoiceField(
        label=gettext_lazy("Donation form"), queryset=DonationForm.objects.none()
    )
    area = forms.ModelChoiceField(
        label=gettext_lazy("Area"), queryset=Area.objects.none(), to_field_name="code"
    )
    quantity = forms.IntegerField(
        label=gettext_lazy("Quantity"), min_value=1, max_value=INTEGER_MAX
    )
    value_idr = forms.DecimalField(
        label=gettext_lazy("Value (IDR)"),
        help_text=gettext_lazy("Empty: the donation form's standard value, if it has one."),
        required=False,
        min_value=0,
        max_value=VALUE_MAX,
        decimal_places=0,
    )
    planned_delivery_on = forms.DateField(
        label=gettext_lazy("Planned delivery date"), required=False, widget=DATE_WIDGET
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=900)

    def __init__(self, *args, adoption: Adoption, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phase"].queryset = adoption.phases.all()
        self.fields["donation_form"].queryset = DonationForm.objects.filter(
            pk__in=Phase.objects.filter(adoption=adoption).values("items__donation_form")
        )
        self.fields["area"].queryset = (
            Area.objects.filter(adoption_claims__adoption=adoption, adoption_claims__holds=True)
            .select_related("parent")
            .order_by("code")
        )
        self.fields["area"].label_from_instance = lambda a: a.display_name
        self.fields["donation_form"].label_from_instance = _form_name

    def clean_key(self):
        return form_key(self.cleaned_data["key"])
