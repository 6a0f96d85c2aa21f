from __future__ import annotations

import datetime
import uuid

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collaborators.models import Collaborator
from ksbb.bounds import BIGINT_MAX, INTEGER_MAX
from locations.models import Area, Need
from programs.models import DonationForm
from programs.units import quantity_with_unit

from ..assistant.plans import MAX_LINES_SENT, MAX_PLAN_LINES
from ..lifecycle.offline import MADE_WITHIN_DAYS, TARGET_LEVELS, made_on_refusal
from ..lifecycle.pledges import planned_delivery_refusal
from ..lifecycle.transitions import delivered_on_refusal
from ..lifecycle.uploads import clean_upload, clean_uploads


class AtMost:
    """A maximum with a message that says what the limit means."""

    def __init__(self, limit: int, message: str) -> None:
        self.limit, self.message = limit, message

    def __call__(self, value: int) -> None:
        if value is not None and value > self.limit:
            raise ValidationError(self.message % {"limit": self.limit})


def form_key(key: str) -> str:
    """A pledge form's idempotency key: a UUID minted when the form was shown."""
    try:
        return uuid.UUID(hex=key).hex
    except ValueError:
        raise ValidationError(_("This form is out of date; please submit it again.")) from None


class PledgeChecks:
    """The checks a single pledge and a whole plan share: their submission key and the
    planned delivery date (commitments.lifecycle.planned_delivery_refusal)."""

    def clean_key(self):
        return form_key(self.cleaned_data["key"])

    def clean_planned_delivery_on(self):
        value = self.cleaned_data["planned_delivery_on"]
        refusal = planned_delivery_refusal(value, timezone.localdate())
        if refusal:
            raise ValidationError(refusal)
        return value


class PledgeForm(PledgeChecks, forms.Form):
    """One pledge to one need. `key` is minted per form render, so a double click or a
    retry after a timeout submits the same key and finds the same commitment."""

    key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    collaborator = forms.ModelChoiceField(
        label=gettext_lazy("Pledging as"), queryset=Collaborator.objects.none(), empty_label=None
    )
    quantity = forms.IntegerField(label=gettext_lazy("Quantity"), min_value=1)
    planned_delivery_on = forms.DateField(
        label=gettext_lazy("Planned delivery date"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    aggregator = forms.ModelChoiceField(
        label=gettext_lazy("Channelled through (optional)"),
        queryset=Collaborator.objects.none(),
        required=False,
        empty_label=gettext_lazy("Directly, no aggregator"),
        help_text=gettext_lazy("A humanitarian agency or philanthropy that pools the gift."),
    )
    statement_letter = forms.FileField(
        label=gettext_lazy("Signed statement letter (PDF, optional)"), required=False
    )
    is_anonymous = forms.BooleanField(
        label=gettext_lazy("Show me as 'anonymous' on public pages"), required=False
    )
    note = forms.CharField(
        label=gettext_lazy("Note for the facilitator (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, need: Need, collaborators, most: int | None = None, **kwargs):
        """`most`: the largest quantity any of `collaborators` may pledge now (their
        limits, commitments.lifecycle.limits); the server refuses more with the limit's name."""
        super().__init__(*args, **kwargs)
        self.need = need
        self.fields["collaborator"].queryset = collaborators
        self.fields["aggregator"].queryset = Collaborator.objects.verified().filter(
            is_aggregator=True
        )
        remaining = need.quantity_remaining
        self.fields["quantity"].widget.attrs.update(
            {"max": remaining if most is None else min(most, remaining), "min": 1}
        )
        self.fields["quantity"].help_text = _("At most %(quantity)s left.") % {
            "quantity": quantity_with_unit(remaining, need.donation_form.unit)
        }
        self.fields["quantity"].validators.append(
            AtMost(remaining, _("Only %(limit)s remain to be pledged for this need."))
        )
        today = timezone.localdate()
        self.fields["planned_delivery_on"].widget.attrs.update({"min": today.isoformat()})
        if not self.is_bound:
            self.initial.setdefault("key", uuid.uuid4().hex)
            self.initial.setdefault("quantity", min(remaining, 1) or 1)
            self.initial.setdefault(
                "planned_delivery_on", (today + datetime.timedelta(days=14)).isoformat()
            )

    def clean_statement_letter(self):
        upload = self.cleaned_data.get("statement_letter")
        if not upload:
            return None
        return clean_upload(upload, images=False, pdf=True)

    def clean(self):
        data = super().clean()
        collaborator, aggregator = data.get("collaborator"), data.get("aggregator")
        if collaborator and aggregator and collaborator.pk == aggregator.pk:
            self.add_error("aggregator", _("Choose an aggregator other than yourself."))
        return data


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Proof files: photos, and PDFs unless pdf=False, checked and re-encoded by
    lifecycle.uploads.clean_uploads."""

    def __init__(self, *args, pdf: bool = True, **kwargs):
        self.pdf = pdf
        accept = "image/*,application/pdf" if pdf else "image/*"
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": accept}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if not files:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return []
        if len(files) > settings.UPLOAD_MAX_FILES:
            raise ValidationError(
                _("Add at most %(count)s files.") % {"count": settings.UPLOAD_MAX_FILES}
            )
        return clean_uploads(files, pdf=self.pdf)


def handed_over_setup(form: forms.Form, *, left: int, date_field: str, message: str) -> None:
    """A quantity handed over (a delivery, a distribution): at most what is `left`, on a date
    no later than today; both offered as the form's first values."""
    form.fields["quantity"].widget.attrs.update({"max": left, "min": 1})
    form.fields["quantity"].validators.append(AtMost(left, message))
    form.fields[date_field].widget.attrs["max"] = timezone.localdate().isoformat()
    if not form.is_bound:
        form.initial.update({"quantity": left, date_field: timezone.localdate()})


class DeliveryForm(forms.Form):
    quantity = forms.IntegerField(label=gettext_lazy("Quantity delivered"), min_value=1)
    delivered_on = forms.DateField(
        label=gettext_lazy("Delivery date"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    recipients_households = forms.IntegerField(
        label=gettext_lazy("Households reached"),
        min_value=0,
        max_value=INTEGER_MAX,
        required=False,
    )
    recipients_persons = forms.IntegerField(
        label=gettext_lazy("Persons reached"),
        min_value=0,
        max_value=INTEGER_MAX,
        required=False,
    )
    proofs = MultipleFileField(
        label=gettext_lazy("Photos or documents"),
        help_text=gettext_lazy(
            "JPEG, PNG, WebP or PDF, up to 8 MB each. Photos are re-encoded and their location "
            "data removed."
        ),
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, left: int, **kwargs):
        super().__init__(*args, **kwargs)
        handed_over_setup(
            self,
            left=left,
            date_field="delivered_on",
            message=_("Only %(limit)s are left to deliver for this commitment."),
        )

    def clean_delivered_on(self):
        value = self.cleaned_data["delivered_on"]
        refusal = delivered_on_refusal(value, timezone.localdate())
        if refusal:
            raise ValidationError(refusal)
        return value


class PhotoFilesField(MultipleFileField):
    """Optional photos straight from the phone's camera, checked and re-encoded as delivery
    proofs are (JPEG, PNG, WebP; no PDF)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/*", "capture": "environment"})
        )
        kwargs.setdefault("required", False)
        super().__init__(*args, pdf=False, **kwargs)


class ReceiptForm(forms.Form):
    """Confirming receipt of a delivery, with photos of what arrived if one likes."""

    photos = PhotoFilesField(
        label=gettext_lazy("Photos of what arrived (optional)"),
        help_text=gettext_lazy(
            "JPEG, PNG or WebP, up to 8 MB each. Photos are re-encoded and their location "
            "data removed."
        ),
    )


class StatusForm(forms.Form):
    target = forms.CharField(max_length=10)
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DecisionForm(forms.Form):
    """A verification decision from the queue."""

    decision = forms.ChoiceField(choices=[("verify", "verify"), ("reject", "reject")])
    # Choices are the lead's own programs: nothing else can be posted.
    program = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    reason = forms.CharField(required=False, max_length=1000)

    def __init__(self, *args, program_ids, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = [("", "")] + [(str(p), str(p)) for p in program_ids]


class OfflineCommitmentForm(forms.Form):
    """A commitment made outside the portal, for a need (`need`, from the page's URL) or
    for an RW / kelurahan and a donation form. `key` makes a resubmission find the first
    record, as on the pledge form."""

    key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    collaborator = forms.ModelChoiceField(
        label=gettext_lazy("Collaborator"),
        queryset=Collaborator.objects.none(),
        help_text=gettext_lazy(
            "Verified collaborators only. Administrators add new collaborators in the admin."
        ),
    )
    area = forms.CharField(
        label=gettext_lazy("RW or kelurahan (code)"),
        max_length=40,
        help_text=gettext_lazy("Type a name or a code, e.g. 31.73.04.1002.001."),
        widget=forms.TextInput(attrs={"list": "offline-areas", "autocomplete": "off"}),
    )
    donation_form = forms.ModelChoiceField(
        label=gettext_lazy("Donation form"), queryset=DonationForm.objects.none()
    )
    quantity = forms.IntegerField(
        label=gettext_lazy("Quantity"), min_value=1, max_value=INTEGER_MAX
    )
    value_idr = forms.DecimalField(
        label=gettext_lazy("Value (IDR, optional)"),
        required=False,
        min_value=0,
        max_digits=15,
        decimal_places=0,
        help_text=gettext_lazy("Leave empty to use the need's or the donation form's estimate."),
    )
    made_on = forms.DateField(
        label=gettext_lazy("Date the commitment was made"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    note = forms.CharField(
        label=gettext_lazy("Note (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, need: Need | None, program_ids: set[int] | None, **kwargs):
        """`program_ids`: the programs whose donation forms may be chosen (None: all)."""
        super().__init__(*args, **kwargs)
        self.need = need
        self.fields["collaborator"].queryset = Collaborator.objects.verified().order_by("name")
        if need is not None:
            del self.fields["area"], self.fields["donation_form"]
            remaining = need.quantity_remaining
            self.fields["quantity"].widget.attrs["max"] = remaining
            self.fields["quantity"].validators.append(
                AtMost(remaining, _("Only %(limit)s remain of this need."))
            )
        else:
            forms_ = DonationForm.objects.select_related("program").order_by(
                "program__sort_order", "program__slug", "sort_order", "slug"
            )
            if program_ids is not None:
                forms_ = forms_.filter(program__in=program_ids)
            self.fields["donation_form"].queryset = forms_
            self.fields["donation_form"].label_from_instance = lambda form: (
                f"{form.program.name} · {form.name}"
            )
        today = timezone.localdate()
        self.fields["made_on"].widget.attrs.update(
            {
                "max": today.isoformat(),
                "min": (today - datetime.timedelta(days=MADE_WITHIN_DAYS)).isoformat(),
            }
        )
        if not self.is_bound:
            self.initial.setdefault("key", uuid.uuid4().hex)
            self.initial.setdefault("made_on", today.isoformat())
            self.initial.setdefault("quantity", 1)

    clean_key = PledgeForm.clean_key

    def clean_area(self) -> Area:
        code = self.cleaned_data["area"].strip()
        area = Area.objects.filter(code=code, level__in=TARGET_LEVELS).first()
        if area is None:
            raise ValidationError(
                _("Enter the code of an RW or a kelurahan, e.g. 31.73.04.1002.001.")
            )
        return area

    def clean_made_on(self):
        value = self.cleaned_data["made_on"]
        refusal = made_on_refusal(value, timezone.localdate())
        if refusal:
            raise ValidationError(refusal)
        return value


class PlanForm(PledgeChecks, forms.Form):
    """A whole plan pledged in one action (commitments.assistant.plans). The lines come as repeated
    `need` and `quantity` fields, pairwise, in the plan's order; `key` is minted when the
    plan is shown, so a double click or a retry pledges it once."""

    key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    collaborator = forms.ModelChoiceField(
        label=gettext_lazy("Pledging as"), queryset=Collaborator.objects.all(), empty_label=None
    )
    planned_delivery_on = forms.DateField(
        label=gettext_lazy("Planned delivery date"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    note = forms.CharField(
        label=gettext_lazy("Note for the facilitators (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        data = super().clean()
        getlist = getattr(self.data, "getlist", None)
        needs = getlist("need") if getlist else []
        quantities = getlist("quantity") if getlist else []
        if not needs or len(needs) != len(quantities):
            raise ValidationError(_("Send the plan's lines: a need and a quantity for each."))
        if len(needs) > MAX_LINES_SENT:
            raise ValidationError(
                _("A plan holds at most %(count)s lines.") % {"count": MAX_PLAN_LINES}
            )
        lines = []
        for need, quantity in zip(needs, quantities, strict=True):
            need, quantity = need.strip(), quantity.strip()
            if not (_digits(need, BIGINT_MAX) and _digits(quantity, INTEGER_MAX)):
                raise ValidationError(_("Each line needs a need and a whole quantity."))
            lines.append((int(need), int(quantity)))
        data["lines"] = lines
        return data


def _digits(text: str, most: int) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 19 and int(text) <= most
