"""The donation assistant's forms: what a donor asks for (AssistantRequestForm), and the
program lead's weights with a sample plan (WeightsForm)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ksbb.bounds import INTEGER_MAX
from ksbb.formatting import number
from locations.models import Area, Need, area_geometry_deferred
from programs.models import (
    ASSISTANT_WEIGHT_MAX,
    ASSISTANT_WEIGHT_NAMES,
    DonationForm,
    Program,
    validate_assistant_weights,
)

from ..assistant.engine import (
    BUDGET_MAX_IDR,
    DISTANCE_MAX_KM,
    PARTS,
    SPREAD_FEW,
    SPREAD_MANY,
    AssistantRequest,
    Weights,
    start_of,
)

SAMPLE_QUANTITY_MAX = 100_000


class WeightsForm(forms.Form):
    """One number per weight (empty: the default); the sample plan's form and quantity."""

    sample_form = forms.ModelChoiceField(
        label=_("Sample plan for"), queryset=DonationForm.objects.none(), required=False
    )
    sample_quantity = forms.IntegerField(
        label=_("Units in the sample plan"),
        min_value=1,
        max_value=SAMPLE_QUANTITY_MAX,
        initial=100,
        required=False,
    )

    def __init__(self, *args, program: Program, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        defaults = Weights().as_dict()
        for name in ASSISTANT_WEIGHT_NAMES:
            self.fields[name] = forms.FloatField(
                label=PARTS[name][0],
                min_value=0,
                max_value=ASSISTANT_WEIGHT_MAX,
                required=False,
                help_text=_("Default %(default)s; empty for the default.")
                % {"default": number(Decimal(str(defaults[name])))},
                widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
            )
        self.fields["sample_form"].queryset = program.donation_forms.order_by("sort_order", "pk")
        self.order_fields([*ASSISTANT_WEIGHT_NAMES, "sample_form", "sample_quantity"])

    def clean(self):
        cleaned = super().clean()
        # The model's own validator, so the form can never store what the admin would refuse.
        try:
            validate_assistant_weights(self.overrides())
        except ValidationError as error:
            raise ValidationError(error.messages) from None
        return cleaned

    def overrides(self) -> dict[str, float]:
        """The weights given that differ from the defaults: what the program stores."""
        defaults = Weights().as_dict()
        data = getattr(self, "cleaned_data", {})
        return {
            name: data[name]
            for name in ASSISTANT_WEIGHT_NAMES
            if data.get(name) is not None and data[name] != defaults[name]
        }

    def weights(self) -> Weights:
        return Weights(**self.overrides())


class AssistantRequestForm(forms.Form):
    """What a donor asks the assistant (the donor's page, GET, so a plan can be bookmarked):
    one donation form (its program follows), a quantity or a budget, where they start from
    and how far they go, few areas or many. Clean data become an AssistantRequest."""

    form = forms.TypedChoiceField(label=_("What you give"), coerce=int, choices=())
    quantity = forms.IntegerField(
        label=_("How many units"), min_value=1, max_value=INTEGER_MAX, required=False
    )
    budget = forms.IntegerField(
        label=_("Or a budget (IDR)"), min_value=1, max_value=BUDGET_MAX_IDR, required=False
    )
    start = forms.ChoiceField(label=_("Starting from (kelurahan)"), choices=(), required=False)
    # A point tapped on the map overrides the kelurahan (hidden fields set by the page's JS).
    lon = forms.FloatField(min_value=-180, max_value=180, required=False, widget=forms.HiddenInput)
    lat = forms.FloatField(min_value=-90, max_value=90, required=False, widget=forms.HiddenInput)
    max_km = forms.FloatField(
        label=_("At most this far (km)"),
        min_value=0.1,
        max_value=DISTANCE_MAX_KM,
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
    )
    spread = forms.ChoiceField(
        label=_("Spread the gift over"),
        choices=((SPREAD_MANY, _("many areas")), (SPREAD_FEW, _("a few areas"))),
        initial=SPREAD_MANY,
        required=False,  # a bookmarked plan without it spreads, as the form starts out
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Only forms some open need asks for: the others could only give an empty plan.
        forms_open = (
            DonationForm.objects.filter(pk__in=Need.objects.open().values("donation_form"))
            .select_related("program")
            .order_by("program__sort_order", "program__pk", "sort_order", "pk")
        )
        groups: dict[Program, list] = {}
        for donation_form in forms_open:
            groups.setdefault(donation_form.program, []).append(donation_form)
        self.donation_forms = {f.pk: f for group in groups.values() for f in group}
        self.fields["form"].choices = [("", _("Choose a donation form"))] + [
            (program.name, [(f.pk, f.name) for f in group]) for program, group in groups.items()
        ]
        kelurahan = (
            Area.objects.filter(level=Area.Level.KELURAHAN)
            .select_related("parent")
            .defer(*area_geometry_deferred("parent"))
            .order_by("name", "code")
        )
        self.kelurahan = {area.code: area for area in kelurahan}
        self.fields["start"].choices = [
            ("", _("Anywhere in %(city)s") % {"city": settings.CITY_NAME})
        ] + [
            (code, f"{area.name} ({area.parent.name})" if area.parent else area.name)
            for code, area in self.kelurahan.items()
        ]

    def clean(self):
        data = super().clean()
        quantity, budget = data.get("quantity"), data.get("budget")
        if "quantity" not in self.errors and "budget" not in self.errors:
            if quantity is None and budget is None:
                raise ValidationError(_("Give either a quantity or a budget."))
            if quantity is not None and budget is not None:
                raise ValidationError(_("Give a quantity or a budget, not both."))
        if (data.get("lon") is None) != (data.get("lat") is None):
            raise ValidationError(_("The starting point is not a place on Earth."))
        if data.get("max_km") is not None and not (data.get("start") or data.get("lon")):
            self.add_error("max_km", _("A distance limit needs a starting point."))
        return data

    def start_area(self) -> Area | None:
        return self.kelurahan.get(self.cleaned_data.get("start") or "")

    def assistant_request(self) -> AssistantRequest:
        """The request, or RequestInvalid with the assistant's own reason."""
        data = self.cleaned_data
        donation_form = self.donation_forms[data["form"]]
        if data.get("lon") is not None:
            start = (data["lon"], data["lat"])
        else:
            start = start_of(self.start_area())
        return AssistantRequest(
            program=donation_form.program,
            donation_form=donation_form,
            quantity=data.get("quantity"),
            budget_idr=data.get("budget"),
            start=start,
            max_km=data.get("max_km"),
            spread=data.get("spread") or SPREAD_MANY,
        )
