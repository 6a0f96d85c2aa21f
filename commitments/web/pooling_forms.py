"""Forms of the chain through aggregators: a source's gift, the aggregator's receipt or
refusal, a commitment funded from the pool, and the executor's distribution."""

from __future__ import annotations

import datetime
import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collaborators.models import Collaborator
from ksbb.bounds import INTEGER_MAX
from programs.models import DonationForm, Program

from ..lifecycle.pledges import planned_delivery_refusal
from ..lifecycle.uploads import clean_upload
from ..pooling.models import AMOUNT_MAX, Contribution
from ..pooling.rules import Share, contribution_refusal, received_on_refusal
from .forms import AtMost, form_key, handed_over_setup

DATE_INPUT = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class KeyedForm(forms.Form):
    """A form whose submission key is minted when it is shown (a double click or a retry
    submits the same key and finds what the first one made)."""

    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("key", uuid.uuid4().hex)

    def clean_key(self):
        return form_key(self.cleaned_data["key"])


class GiveForm(KeyedForm):
    source = forms.ModelChoiceField(
        label=gettext_lazy("Giving as"), queryset=Collaborator.objects.none(), empty_label=None
    )
    aggregator = forms.ModelChoiceField(
        label=gettext_lazy("To the aggregator"), queryset=Collaborator.objects.none()
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("What you give"),
        choices=Contribution.Kind.choices,
        widget=forms.RadioSelect,
        initial=Contribution.Kind.MONEY,
    )
    amount = forms.IntegerField(
        label=gettext_lazy("Amount"),
        help_text=gettext_lazy("In rupiah for money; the number of items for goods."),
        min_value=1,
        max_value=AMOUNT_MAX,
    )
    program = forms.ModelChoiceField(
        label=gettext_lazy("For the program (optional)"),
        queryset=Program.objects.none(),
        required=False,
        empty_label=gettext_lazy("Any program"),
    )
    donation_form = forms.ModelChoiceField(
        label=gettext_lazy("Goods (for a gift of goods)"),
        queryset=DonationForm.objects.none(),
        required=False,
        empty_label=gettext_lazy("Not goods: money"),
    )
    is_anonymous = forms.BooleanField(
        label=gettext_lazy("Show me as 'anonymous' to others"), required=False
    )
    note = forms.CharField(
        label=gettext_lazy("Note for the aggregator (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, sources, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = sources
        self.fields["aggregator"].queryset = Collaborator.objects.filter(
            is_aggregator=True
        ).exclude(verification_status=Collaborator.Verification.REJECTED)
        self.fields["program"].queryset = Program.objects.order_by("sort_order", "pk")
        self.fields["donation_form"].queryset = DonationForm.objects.select_related(
            "program"
        ).order_by("program__sort_order", "sort_order", "pk")

    def clean(self):
        data = super().clean()
        if not all(data.get(name) for name in ("source", "aggregator", "kind", "amount")):
            return data
        kind = data["kind"]
        form = data.get("donation_form") if kind == Contribution.Kind.GOODS else None
        data["donation_form"] = form
        data["program"] = data.get("program") or (form.program if form else None)
        refusal = contribution_refusal(
            source=data["source"],
            aggregator=data["aggregator"],
            kind=kind,
            amount=data["amount"],
            donation_form=form,
            program=data["program"],
        )
        if refusal:
            raise ValidationError(refusal)
        return data


class ReceiveForm(forms.Form):
    receipt_number = forms.CharField(label=gettext_lazy("Your receipt number"), max_length=64)
    received_on = forms.DateField(label=gettext_lazy("Received on"), widget=DATE_INPUT)

    def clean_received_on(self):
        value = self.cleaned_data["received_on"]
        refusal = received_on_refusal(value, timezone.localdate())
        if refusal:
            raise ValidationError(refusal)
        return value


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class PooledPledgeForm(KeyedForm):
    """A commitment of the aggregator to one need, with a share field per gift it may draw
    on (`share_<gift id>`)."""

    quantity = forms.IntegerField(label=gettext_lazy("Quantity"), min_value=1)
    planned_delivery_on = forms.DateField(
        label=gettext_lazy("Planned delivery date"), widget=DATE_INPUT
    )
    note = forms.CharField(
        label=gettext_lazy("Note for the facilitator (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, need, gifts, **kwargs):
        super().__init__(*args, **kwargs)
        self.gifts = list(gifts)
        remaining = need.quantity_remaining
        self.fields["quantity"].widget.attrs.update({"max": remaining, "min": 1})
        self.fields["quantity"].validators.append(
            AtMost(remaining, _("Only %(limit)s remain to be pledged for this need."))
        )
        for gift in self.gifts:
            self.fields[f"share_{gift.pk}"] = forms.IntegerField(
                label=_("Gift #%(id)s from %(source)s: %(left)s left")
                % {"id": gift.pk, "source": gift.source.name, "left": f"{gift.left:,}"},
                required=False,
                min_value=0,
                max_value=min(gift.left, AMOUNT_MAX),
            )
        if not self.is_bound:
            self.initial.setdefault("quantity", 1)
            today = timezone.localdate()
            self.initial.setdefault(
                "planned_delivery_on", (today + datetime.timedelta(days=14)).isoformat()
            )

    def share_fields(self):
        return [self[f"share_{gift.pk}"] for gift in self.gifts]

    def clean_planned_delivery_on(self):
        value = self.cleaned_data["planned_delivery_on"]
        refusal = planned_delivery_refusal(value, timezone.localdate())
        if refusal:
            raise ValidationError(refusal)
        return value

    def clean(self):
        data = super().clean()
        data["shares"] = [
            Share(gift.pk, data[f"share_{gift.pk}"])
            for gift in self.gifts
            if data.get(f"share_{gift.pk}")
        ]
        if not data["shares"] and not self.errors:
            raise ValidationError(_("Choose at least one gift to fund this commitment."))
        return data


class DistributionForm(forms.Form):
    quantity = forms.IntegerField(label=gettext_lazy("Quantity distributed"), min_value=1)
    distributed_on = forms.DateField(label=gettext_lazy("Distributed on"), widget=DATE_INPUT)
    households = forms.IntegerField(
        label=gettext_lazy("Households reached"), required=False, min_value=0, max_value=INTEGER_MAX
    )
    persons = forms.IntegerField(
        label=gettext_lazy("Persons reached"), required=False, min_value=0, max_value=INTEGER_MAX
    )
    proof = forms.FileField(label=gettext_lazy("Proof of distribution (photo or PDF)"))
    note = forms.CharField(
        label=gettext_lazy("Note (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, left: int, **kwargs):
        super().__init__(*args, **kwargs)
        handed_over_setup(
            self,
            left=left,
            date_field="distributed_on",
            message=_("Only %(limit)s of this delivery are left to distribute."),
        )

    def clean_proof(self):
        return clean_upload(self.cleaned_data["proof"])
