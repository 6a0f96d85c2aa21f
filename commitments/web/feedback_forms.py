"""Forms of the recipients' feedback channel: the public report form (with its spam checks)
and the handler's status form."""

from __future__ import annotations

import re
import time

from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collaborators.models import Collaborator
from ksbb.whatsapp import normalise_indonesian_number
from locations.models import Area
from programs.models import Program

from ..feedback.models import TEXT_MAX_LENGTH, Report
from ..feedback.reports import NEXT_STATUSES, about_from_delivery
from ..lifecycle.uploads import clean_uploads
from ..models import Delivery

MAX_LINKS = 2
FORM_AGE_MAX = 24 * 3600  # a form left open longer is shown again
_SIGNER_SALT = "feedback-form-shown"
_LINK = re.compile(r"https?://|www\.|\b[\w-]+\.(?:com|net|org|xyz|io|ru|top|id)\b", re.I)
# The places a report can name when nothing chose one: the kelurahan (267 in Jakarta); an
# RW comes preselected from its page.
CHOSEN_LEVEL = Area.Level.KELURAHAN


def shown_token() -> str:
    return signing.TimestampSigner(salt=_SIGNER_SALT).sign("1")


def spam_refusal(data) -> str | None:
    """Why a submission looks like a robot's: the hidden field filled, sent faster than a
    person fills it, or a form too old or forged; None when it looks like a person's."""
    if data.get("website"):
        return _("This report could not be accepted. Please try again.")
    token = str(data.get("shown", ""))[:200]
    try:
        signing.TimestampSigner(salt=_SIGNER_SALT).unsign(token, max_age=FORM_AGE_MAX)
    except signing.SignatureExpired:
        return _("This form was open too long; please send it again.")
    except signing.BadSignature:
        return _("This form is out of date; please send it again.")
    shown_at = signing.b62_decode(token.rsplit(":", 2)[1])  # signed, so well formed
    if time.time() - shown_at < settings.FEEDBACK_MIN_FILL_SECONDS:
        return _("That was quicker than a person can type; please check and send it again.")
    return None


class ReportForm(forms.Form):
    category = forms.ChoiceField(
        label=gettext_lazy("What happened?"),
        choices=Report.Category.choices,
        widget=forms.RadioSelect,
    )
    text = forms.CharField(
        label=gettext_lazy("Tell us more"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("What, when, how much. Please do not write other people's names."),
    )
    area = forms.CharField(label=gettext_lazy("Where"), max_length=40)
    delivery = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    collaborator = forms.SlugField(required=False, widget=forms.HiddenInput, max_length=100)
    program = forms.ModelChoiceField(
        label=gettext_lazy("Program (if you know it)"),
        queryset=Program.objects.order_by("name_id"),
        to_field_name="slug",
        required=False,
    )
    about_facilitator = forms.BooleanField(
        label=gettext_lazy(
            "This is about the area's facilitator (head of RW, kelurahan): "
            "they will not see it, only the program and the administrators."
        ),
        required=False,
    )
    photo = forms.FileField(
        label=gettext_lazy("Photo (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
    contact_phone = forms.CharField(
        label=gettext_lazy("Phone for a reply (optional)"), max_length=40, required=False
    )
    contact_email = forms.EmailField(
        label=gettext_lazy("Email for a reply (optional)"), max_length=254, required=False
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Received through"),
        choices=Report.Channel.choices,
        initial=Report.Channel.WEB,
        required=False,
    )
    # Spam checks: a field people never see, and when the form was shown (signed).
    website = forms.CharField(required=False, max_length=200, label=gettext_lazy("Leave empty"))
    shown = forms.CharField(widget=forms.HiddenInput, max_length=200)

    def __init__(self, *args, handler: bool = False, preset_area: Area | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.preset_area = preset_area
        if preset_area is not None:
            self.fields["area"].widget = forms.HiddenInput()
        else:
            self.fields["area"].widget = forms.Select(choices=_area_choices())
        if self.initial.get("delivery"):
            del self.fields["program"]  # the delivery's own
        if not handler:
            del self.fields["channel"]  # only a handler records a report told on WhatsApp
        self.fields["shown"].initial = shown_token()

    def clean(self):
        data = super().clean()
        refusal = spam_refusal(self.data)
        if refusal:
            raise ValidationError(refusal, code="spam")
        text = data.get("text") or ""
        if len(_LINK.findall(text)) > MAX_LINKS:
            self.add_error("text", _("Please leave out links: at most %(n)s.") % {"n": MAX_LINKS})
        self._resolve_what(data)
        return data

    def _resolve_what(self, data) -> None:
        delivery = None
        if data.get("delivery"):
            delivery = (
                Delivery.objects.select_related(
                    "commitment__area", "commitment__site", "commitment__program"
                )
                .filter(pk=data["delivery"])
                .first()
            )
            if delivery is None:
                self.add_error(None, _("That delivery does not exist; choose the place instead."))
        data["delivery"] = delivery
        about = about_from_delivery(delivery)
        area = about.get("area") or Area.objects.filter(code=data.get("area") or "").first()
        if area is None and "area" not in self.errors:
            self.add_error("area", _("Choose the place this is about."))
        data["area"] = area
        data["site"] = about.get("site")
        data["program"] = about.get("program") or data.get("program")
        collaborator = about.get("collaborator")
        if collaborator is None and data.get("collaborator"):
            collaborator = Collaborator.objects.filter(slug=data["collaborator"]).first()
        data["collaborator"] = collaborator

    def clean_contact_phone(self):
        value = self.cleaned_data["contact_phone"].strip()
        if not value:
            return ""
        number = normalise_indonesian_number(value)
        if number is None:
            raise ValidationError(_("Enter a mobile number such as 0812 3456 7890."))
        return number

    def clean_photo(self):
        upload = self.cleaned_data.get("photo")
        if not upload:
            return None
        return clean_uploads([upload], pdf=False)[0]

    def report_fields(self) -> dict:
        data = self.cleaned_data
        names = ("category", "text", "area", "site", "delivery", "collaborator", "program")
        fields = {name: data.get(name) for name in names}
        fields.update(
            about_facilitator=data["about_facilitator"],
            contact_phone=data["contact_phone"],
            contact_email=data["contact_email"],
            channel=data.get("channel") or Report.Channel.WEB,
        )
        return fields


def _area_choices() -> list[tuple[str, str]]:
    areas = Area.objects.filter(level=CHOSEN_LEVEL).order_by("name").values_list("code", "name")
    return [("", _("Choose a kelurahan")), *areas]


class TrackForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Tracking code"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("New status"), choices=())
    answer = forms.CharField(
        label=gettext_lazy("Answer to the reporter"),
        max_length=TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "Required to close it: what was done (resolved) or why (not upheld). "
            "The reporter reads it on the tracking page."
        ),
    )

    def __init__(self, *args, report: Report, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = NEXT_STATUSES.get(report.status, ())
        self.fields["status"].choices = [
            (value, label) for value, label in Report.Status.choices if value in allowed
        ]
