"""Forms for keeping needs: every field bounded (lengths, integer and date ranges); the
rules about who may keep what and about pledged quantities are commitments.needs.upkeep'."""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ksbb.bounds import INTEGER_MAX
from locations.models import Area, Need, Site, subtree_q
from programs.models import DonationForm, Program

from ..needs.upkeep import EDITABLE_FIELDS

# An assessment describes the present; a validity beyond this is a typing mistake.
# Above this many areas in scope (a lead or an administrator: all of Jakarta) the area is
# typed as a code (or comes from the area page's link) instead of picked from a list.
AREA_SELECT_LIMIT = 400


class NeedFieldsForm(forms.Form):
    """What an edit may change (commitments.needs.upkeep.EDITABLE_FIELDS)."""

    quantity_needed = forms.IntegerField(
        label=gettext_lazy("Quantity needed"), min_value=1, max_value=INTEGER_MAX
    )
    unit_value_idr = forms.DecimalField(
        label=gettext_lazy("Estimated value per unit (IDR, optional)"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=0,
    )
    priority = forms.TypedChoiceField(
        label=gettext_lazy("Priority"), choices=Need.Priority.choices, coerce=int
    )
    households = forms.IntegerField(
        label=gettext_lazy("Households to benefit"),
        required=False,
        min_value=0,
        max_value=INTEGER_MAX,
    )
    persons = forms.IntegerField(
        label=gettext_lazy("Persons to benefit"),
        required=False,
        min_value=0,
        max_value=INTEGER_MAX,
    )
    valid_until = forms.DateField(
        label=gettext_lazy("Valid until"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    description = forms.CharField(
        label=gettext_lazy("Note (optional)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["valid_until"].widget.attrs.update(
            {
                "min": today.isoformat(),
                "max": (today + datetime.timedelta(days=Need.MAX_VALID_DAYS)).isoformat(),
            }
        )
        for name in ("quantity_needed", "households", "persons"):
            self.fields[name].widget.attrs["inputmode"] = "numeric"

    def clean_valid_until(self):
        value = self.cleaned_data["valid_until"]
        today = timezone.localdate()
        refusal = Need.valid_until_refusal(value, today)
        if refusal:
            raise ValidationError(refusal)
        return value

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in EDITABLE_FIELDS}


class NeedEditForm(NeedFieldsForm):
    # The version the editor saw; the service refuses the save if it moved meanwhile.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=INTEGER_MAX)


class NeedCreateForm(NeedFieldsForm):
    field_order = ["area", "site", "program", "donation_form"]

    area = forms.ModelChoiceField(
        label=gettext_lazy("Area (RW or kelurahan)"),
        queryset=Area.objects.none(),
        to_field_name="code",
    )
    site = forms.ModelChoiceField(
        label=gettext_lazy("Institution (optional)"),
        queryset=Site.objects.none(),
        required=False,
        empty_label=gettext_lazy("None: the whole area"),
    )
    program = forms.ModelChoiceField(label=gettext_lazy("Program"), queryset=Program.objects.none())
    donation_form = forms.ModelChoiceField(
        label=gettext_lazy("Donation form"), queryset=DonationForm.objects.none()
    )

    def __init__(self, *args, scopes, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        areas = Area.objects.filter(
            level__in=[Area.Level.RW, Area.Level.KELURAHAN], is_residential=True
        ).select_related("parent")
        sites = Site.objects.select_related("area")
        if not (scopes.is_admin or scopes.program_ids):
            # A facilitator picks among the areas they keep, and their sites' areas.
            site_areas = Site.objects.filter(pk__in=scopes.site_ids).values("area_id")
            areas = areas.filter(Q(pk__in=site_areas) | subtree_q(scopes.area_paths))
            sites = sites.filter(Q(pk__in=scopes.site_ids) | subtree_q(scopes.area_paths, "area__"))
        self.fields["area"].queryset = areas.order_by("path")
        if scopes.is_admin or scopes.program_ids or areas.count() > AREA_SELECT_LIMIT:
            self.fields["area"].widget = forms.TextInput(attrs={"autocomplete": "off"})
            self.fields["area"].help_text = _("Its code, e.g. 31.73.04.1002.001")
        else:
            self.fields["area"].label_from_instance = lambda area: area.display_name
        self.fields["site"].queryset = sites.order_by("name")
        self.fields["site"].label_from_instance = lambda site: f"{site.name} ({site.area.name})"
        programs = Program.objects.all()
        if not (scopes.is_admin or scopes.is_facilitator):
            programs = programs.filter(pk__in=scopes.program_ids)
        self.fields["program"].queryset = programs.order_by("pk")
        self.fields["donation_form"].queryset = DonationForm.objects.filter(
            program__in=programs
        ).select_related("program")
        self.fields["donation_form"].label_from_instance = lambda form: (
            f"{form.name} ({form.get_unit_display()})"
        )

    def clean(self):
        data = super().clean()
        program, form = data.get("program"), data.get("donation_form")
        if program and form and form.program_id != program.pk:
            self.add_error("donation_form", _("This donation form belongs to another program."))
        return data


class NeedCloseForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=INTEGER_MAX)
    reason = forms.CharField(
        label=gettext_lazy("Why is the need closed?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
