"""Request and response bodies of API v1's writes (api.write_views).

Requests carry only what the web forms carry, bounded to their columns: ids within a
bigint, quantities within an integer column, texts within their lengths; DRF's CharField
refuses NUL bytes. The rules behind the values (what remains of a need, who may do what,
what a transition needs) are the domain's (commitments.lifecycle, .needs, .offline,
.exports), called by the views.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from collaborators.models import Collaborator
from commitments.assistant.plans import MAX_LINES_SENT, MAX_PLAN_LINES
from commitments.lifecycle.offline import made_on_refusal
from commitments.lifecycle.pledges import planned_delivery_refusal
from commitments.lifecycle.transitions import delivered_on_refusal
from commitments.lifecycle.uploads import clean_upload, clean_uploads
from commitments.models import Commitment, Delivery, Export, Status
from ksbb.bounds import BIGINT_MAX, INTEGER_MAX
from locations.models import Area, Need, Site
from programs.models import DonationForm, Program

from .asset_serializers import DeliveryConfirmSerializer
from .schema import ProblemSerializer

TEXT_MAX = 1000


class IdField(serializers.PrimaryKeyRelatedField):
    """A related row by id; an id beyond the column is 'does not exist', not a database
    error."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        text = str(data).strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 19) or int(text) > BIGINT_MAX:
            self.fail("does_not_exist", pk_value=text[:30])
        return super().to_internal_value(int(text))


class AreaCodeField(serializers.SlugRelatedField):
    """An area by its code (e.g. 31.73.04.1002.001), as the web forms take it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "code")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or len(data) > 40 or "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data.strip())


def upload_or_error(upload, **kinds):
    """commitments.lifecycle.uploads.clean_upload, with its message as a field error."""
    try:
        return clean_upload(upload, **kinds)
    except DjangoValidationError as error:
        raise serializers.ValidationError(error.messages) from None


def refusal_or_error(refusal: str | None) -> None:
    if refusal:
        raise serializers.ValidationError(refusal)


# --- pledges ----------------------------------------------------------------------------


class PledgeSerializer(serializers.Serializer):
    """A pledge to one need, as the web's pledge form takes it. The request needs an
    `Idempotency-Key` header."""

    need = IdField(queryset=Need.objects.select_related("area", "site", "program", "donation_form"))
    collaborator = IdField(
        queryset=Collaborator.objects.all(),
        help_text="A collaborator you belong to (a token bound to a collaborator: that one).",
    )
    quantity = serializers.IntegerField(min_value=1, max_value=INTEGER_MAX)
    planned_delivery_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="From today to a year ahead."
    )
    aggregator = IdField(
        queryset=Collaborator.objects.verified().filter(is_aggregator=True),
        required=False,
        allow_null=True,
        default=None,
        help_text="A verified aggregator that pools the gift (not yourself).",
    )
    is_anonymous = serializers.BooleanField(required=False, default=False)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=TEXT_MAX)
    statement_letter = serializers.FileField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A signed statement letter (PDF), sent as multipart/form-data.",
    )

    def validate_planned_delivery_on(self, value):
        refusal_or_error(planned_delivery_refusal(value, timezone.localdate()))
        return value

    def validate_statement_letter(self, upload):
        if not upload:
            return None
        return upload_or_error(upload, images=False, pdf=True)


class PledgeReceiptSerializer(serializers.ModelSerializer):
    """The pledge as it was taken: only what never changes afterwards, so that a retry with
    the same Idempotency-Key gets exactly the same body. Its current status is at `url`."""

    url = serializers.SerializerMethodField()

    class Meta:
        model = Commitment
        fields = [
            "id",
            "url",
            "need",
            "collaborator",
            "area",
            "site",
            "program",
            "donation_form",
            "quantity",
            "value_idr",
            "channel",
            "aggregator",
            "planned_delivery_on",
            "is_anonymous",
            "note",
            "created_at",
        ]
        read_only_fields = fields

    def get_url(self, commitment) -> str:
        return commitment_url(self.context.get("request"), commitment.pk)


def commitment_url(request, pk: int) -> str:
    from django.urls import reverse

    path = reverse("api-commitment-detail", args=[pk])
    return request.build_absolute_uri(path) if request is not None else path


# --- plans ------------------------------------------------------------------------------


class PlanLineSerializer(serializers.Serializer):
    # A plain id: a need that is gone is a changed line of the plan (409), not a bad body.
    need = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX)
    quantity = serializers.IntegerField(
        min_value=0, max_value=INTEGER_MAX, help_text="Below 1: a changed line (409)."
    )


class PlanSerializer(serializers.Serializer):
    """A whole plan (the assistant's), pledged in one request: one commitment per line, all
    or none (commitments.assistant.plans). The request needs an `Idempotency-Key` header."""

    collaborator = IdField(
        queryset=Collaborator.objects.all(),
        help_text="A collaborator you belong to (a token bound to a collaborator: that one).",
    )
    lines = serializers.ListField(
        child=PlanLineSerializer(),
        min_length=1,
        max_length=MAX_LINES_SENT,
        help_text=f"At most {MAX_PLAN_LINES} lines are pledged; more are reported as changed.",
    )
    planned_delivery_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="From today to a year ahead."
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=TEXT_MAX)

    def validate_planned_delivery_on(self, value):
        refusal_or_error(planned_delivery_refusal(value, timezone.localdate()))
        return value


class PlanReceiptSerializer(serializers.Serializer):
    """The plan as it was taken: its commitments by ascending need id; a retry with the
    same Idempotency-Key gets the same body."""

    commitments = PledgeReceiptSerializer(many=True)


class PlanLineChangeSerializer(serializers.Serializer):
    need = serializers.IntegerField()
    asked = serializers.IntegerField()
    available = serializers.IntegerField(help_text="What this line could take now.")
    adjusted = serializers.IntegerField(help_text="What the adjusted plan pledges (0: dropped).")
    reason = serializers.CharField(help_text="Why, in words for the person pledging.")


class PlanAdjustedLineSerializer(serializers.Serializer):
    need = serializers.IntegerField()
    quantity = serializers.IntegerField()


class PlanChangedProblemSerializer(ProblemSerializer):
    """A plan some lines of which cannot be taken (nothing was written): the lines that
    changed and the adjusted plan, to send again under a new Idempotency-Key. A reused
    key is a 409 too, without them."""

    lines = PlanLineChangeSerializer(many=True, required=False)
    adjusted_plan = PlanAdjustedLineSerializer(many=True, required=False)

    class Meta:
        ref_name = "PlanChangedProblem"


# --- transitions and deliveries ---------------------------------------------------------


class TransitionSerializer(serializers.Serializer):
    to_status = serializers.ChoiceField(choices=Status.choices)
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=TEXT_MAX,
        help_text="Required to reject.",
    )


class AvailableTransitionSerializer(serializers.Serializer):
    to_status = serializers.CharField(source="target")
    label = serializers.CharField()
    needs_reason = serializers.BooleanField()


class DeliverySerializer(serializers.Serializer):
    """A delivery with its proof: photos (JPEG, PNG, WebP; re-encoded without metadata) or
    PDFs, sent as multipart/form-data, one `proofs` part per file."""

    quantity = serializers.IntegerField(min_value=1, max_value=INTEGER_MAX)
    delivered_on = serializers.DateField(help_text="Not in the future.")
    recipients_households = serializers.IntegerField(
        min_value=0, max_value=INTEGER_MAX, required=False, allow_null=True, default=None
    )
    recipients_persons = serializers.IntegerField(
        min_value=0, max_value=INTEGER_MAX, required=False, allow_null=True, default=None
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=TEXT_MAX)
    proofs = serializers.ListField(
        child=serializers.FileField(),
        min_length=1,
        max_length=settings.UPLOAD_MAX_FILES,
    )

    def validate_delivered_on(self, value):
        refusal = delivered_on_refusal(value, timezone.localdate())
        if refusal:
            raise serializers.ValidationError(refusal)
        return value

    def validate_proofs(self, uploads):
        try:
            return clean_uploads(uploads)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None


class DeliveryOutSerializer(serializers.ModelSerializer):
    proofs = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = [
            "id",
            "commitment",
            "quantity",
            "delivered_on",
            "recipients_households",
            "recipients_persons",
            "note",
            "recorded_at",
            "confirmed_at",
            "proofs",
        ]
        read_only_fields = fields

    def get_proofs(self, delivery) -> list[str]:
        """The kinds of the proof files (the files themselves are on the commitment's page)."""
        return [proof.kind for proof in delivery.proofs.all()]


def receipt_photos_field() -> serializers.ListField:
    """The receipt's photos, as read and as the schema shows them."""
    return serializers.ListField(
        child=serializers.FileField(),
        required=False,
        max_length=settings.UPLOAD_MAX_FILES,
        help_text=_("Photos of what arrived: JPEG, PNG or WebP, at most 5, 8 MB each."),
    )


class ReceiptSerializer(DeliveryConfirmSerializer):
    """Confirming receipt of a delivery: optional photos taken at receipt (multipart, one
    `photos` part per file; checked and re-encoded as delivery proofs are) and, for a
    donation form that creates assets, `assets` (in multipart: as a JSON string)."""

    photos = receipt_photos_field()

    def to_internal_value(self, data):
        if isinstance(data, QueryDict):  # multipart: files by name, assets as JSON text
            data = self._from_form(data)
        return super().to_internal_value(data)

    @staticmethod
    def _from_form(form: QueryDict) -> dict:
        data = {"photos": [item for item in form.getlist("photos") if item != ""]}
        raw = form.get("assets", "")
        if raw.strip():
            try:
                data["assets"] = json.loads(raw)
            except ValueError:
                raise serializers.ValidationError(
                    {"assets": [_("Send the assets as a JSON list of objects.")]}
                ) from None
        return data

    def validate_photos(self, uploads):
        try:
            return clean_uploads(uploads, pdf=False)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None

    def photo_uploads(self) -> list:
        return self.validated_data.get("photos") or []


class ReceiptFormSerializer(serializers.Serializer):
    """The multipart form of a receipt, as the schema shows it (ReceiptSerializer reads it)."""

    photos = receipt_photos_field()
    assets = serializers.CharField(
        required=False,
        help_text=_("For a donation form that creates assets: the assets as a JSON list."),
    )


# --- needs ------------------------------------------------------------------------------


class NeedFieldsSerializer(serializers.Serializer):
    """What a need keeper sets (commitments.needs.upkeep.EDITABLE_FIELDS)."""

    quantity_needed = serializers.IntegerField(min_value=1, max_value=INTEGER_MAX)
    unit_value_idr = serializers.DecimalField(
        max_digits=14, decimal_places=0, min_value=0, required=False, allow_null=True
    )
    priority = serializers.ChoiceField(choices=Need.Priority.choices)
    households = serializers.IntegerField(
        min_value=0, max_value=INTEGER_MAX, required=False, allow_null=True
    )
    persons = serializers.IntegerField(
        min_value=0, max_value=INTEGER_MAX, required=False, allow_null=True
    )
    valid_until = serializers.DateField(help_text="From today to two years ahead.")
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)

    def validate_valid_until(self, value):
        refusal = Need.valid_until_refusal(value, timezone.localdate())
        if refusal:
            raise serializers.ValidationError(refusal)
        return value


class NeedCreateSerializer(NeedFieldsSerializer):
    area = AreaCodeField(
        queryset=Area.objects.filter(level__in=[Area.Level.RW, Area.Level.KELURAHAN]),
        help_text="The code of an RW or a kelurahan.",
    )
    site = IdField(queryset=Site.objects.all(), required=False, allow_null=True, default=None)
    program = IdField(queryset=Program.objects.all())
    donation_form = IdField(queryset=DonationForm.objects.all())
    priority = serializers.ChoiceField(choices=Need.Priority.choices, default=Need.Priority.MEDIUM)

    def validate(self, data):
        program, form = data.get("program"), data.get("donation_form")
        if program and form and form.program_id != program.pk:
            raise serializers.ValidationError(
                {"donation_form": [_("This donation form belongs to another program.")]}
            )
        return data


class NeedUpdateSerializer(NeedFieldsSerializer):
    """A partial change: only the fields sent change. The version the change is based on
    comes in `version` or the If-Match header."""

    version = serializers.IntegerField(
        min_value=1, max_value=INTEGER_MAX, required=False, help_text="Or send If-Match."
    )


class NeedCloseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=TEXT_MAX)
    version = serializers.IntegerField(
        min_value=1, max_value=INTEGER_MAX, required=False, help_text="Or send If-Match."
    )


class ReconfirmSerializer(serializers.Serializer):
    area = AreaCodeField(queryset=Area.objects.all(), help_text="An area code.")


class ReconfirmResultSerializer(serializers.Serializer):
    reconfirmed = serializers.IntegerField(help_text="How many open needs were re-confirmed.")


# --- offline commitments ----------------------------------------------------------------


class OfflineCommitmentSerializer(serializers.Serializer):
    """A commitment made outside the portal: for a need, or for an RW / kelurahan and a
    donation form."""

    collaborator = IdField(
        queryset=Collaborator.objects.verified(), help_text="A verified collaborator."
    )
    need = IdField(
        queryset=Need.objects.select_related("area", "site", "program", "donation_form"),
        required=False,
        allow_null=True,
        default=None,
    )
    area = AreaCodeField(
        queryset=Area.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Without a need: the code of an RW or a kelurahan.",
    )
    donation_form = IdField(
        queryset=DonationForm.objects.select_related("program"),
        required=False,
        allow_null=True,
        default=None,
        help_text="Without a need: the donation form.",
    )
    quantity = serializers.IntegerField(min_value=1, max_value=INTEGER_MAX)
    value_idr = serializers.DecimalField(
        max_digits=15,
        decimal_places=0,
        min_value=0,
        required=False,
        allow_null=True,
        default=None,
        help_text="Empty: the need's or the donation form's estimate.",
    )
    made_on = serializers.DateField(help_text="Within the last five years, not in the future.")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=TEXT_MAX)

    def validate_made_on(self, value):
        refusal_or_error(made_on_refusal(value, timezone.localdate()))
        return value

    def validate(self, data):
        if data["need"] is None:
            errors = {}
            if data["area"] is None:
                errors["area"] = [_("Give a need, or an area and a donation form.")]
            if data["donation_form"] is None:
                errors["donation_form"] = [_("Give a need, or an area and a donation form.")]
            if errors:
                raise serializers.ValidationError(errors)
        return data


# --- exports ----------------------------------------------------------------------------


class ExportRequestSerializer(serializers.Serializer):
    """The dashboard's filters and a file format. `format` is a body field: DRF reserves the
    `?format=` query parameter for the response's renderer."""

    format = serializers.ChoiceField(choices=Export.Format.choices)
    program = serializers.CharField(required=False, allow_blank=True, max_length=50)
    start = serializers.CharField(
        required=False, allow_blank=True, max_length=7, help_text="First month, YYYY-MM."
    )
    end = serializers.CharField(
        required=False, allow_blank=True, max_length=7, help_text="Last month, YYYY-MM."
    )
    area = serializers.CharField(
        required=False, allow_blank=True, max_length=40, help_text="A kota or kecamatan code."
    )
    channel = serializers.ChoiceField(
        choices=[("", "all"), *Commitment.Channel.choices], required=False, allow_blank=True
    )


class ExportSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()
    percent_done = serializers.IntegerField(read_only=True)

    class Meta:
        model = Export
        fields = [
            "id",
            "url",
            "format",
            "filters",
            "status",
            "rows_total",
            "rows_done",
            "percent_done",
            "error",
            "file_name",
            "download_url",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def _absolute(self, name: str, pk: int) -> str:
        from django.urls import reverse

        path = reverse(name, args=[pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_url(self, export) -> str:
        return self._absolute("api-export-detail", export.pk)

    def get_download_url(self, export) -> str | None:
        if export.status != Export.Status.DONE:
            return None
        return self._absolute("api-export-download", export.pk)
