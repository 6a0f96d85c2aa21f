"""Serializers of API v1's reads. Public ones carry only what public pages show: no person
behind a need's assessment (only the role), no collaborator contact, no per-collaborator
figure of an anonymous gift."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from collaborators.models import Collaborator
from commitments.models import Commitment, Notification
from locations.models import Area, Need, Site
from programs.models import DonationForm, Program


class AreaRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Area
        fields = ["id", "code", "name", "level"]


class ProgramSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text="In the request's language.")
    computed_at = serializers.DateTimeField(
        source="live_updated_at",
        read_only=True,
        allow_null=True,  # until the figures are first computed
        help_text="When the live figures were complete.",
    )

    class Meta:
        model = Program
        fields = [
            "id",
            "slug",
            "name",
            "name_id",
            "name_en",
            "lead_agency",
            "lead_agency_id",
            "facilitator",
            "facilitator_id",
            "status",
            "launched_on",
            "launch_is_target",
            "beneficiaries",
            "beneficiaries_id",
            "asset_recording",
            "asset_recording_id",
            "planning_notes",
            "planning_notes_id",
            "confirm_within_days",
            "deliver_within_days",
            "live_collaborators",
            "live_commitments",
            "live_value_idr",
            "live_households",
            "live_persons",
            "live_rw_covered",
            "computed_at",
            "reported_collaborators",
            "reported_commitments",
            "reported_value_idr",
            "reported_as_of",
        ]


class DonationFormSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text="In the request's language.")

    class Meta:
        model = DonationForm
        fields = [
            "id",
            "program",
            "slug",
            "name",
            "name_id",
            "name_en",
            "unit",
            "unit_value_idr",
            "note",
            "live_commitments",
            "live_quantity",
            "live_value_idr",
        ]


class AreaPropertiesSerializer(serializers.ModelSerializer):
    parent = serializers.SerializerMethodField()

    class Meta:
        model = Area
        fields = [
            "id",
            "code",
            "bps_code",
            "name",
            "level",
            "parent",
            "is_residential",
            "min_lon",
            "min_lat",
            "max_lon",
            "max_lat",
            "centroid_lon",
            "centroid_lat",
            "area_km2",
        ]

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {"id": {"type": "integer"}, "code": {"type": "string"}},
        }
    )
    def get_parent(self, area) -> dict | None:
        # The parent's code is the last-but-one part of the path: no join needed.
        if area.parent_id is None:
            return None
        codes = area.path.split("/")
        return {"id": area.parent_id, "code": codes[-2] if len(codes) > 1 else None}


class AreaSerializer(AreaPropertiesSerializer):
    geometry = serializers.SerializerMethodField(
        help_text="GeoJSON geometry (EPSG:4326) when asked for with ?geometry=1 or simplified; "
        "null otherwise."
    )

    class Meta(AreaPropertiesSerializer.Meta):
        fields = [*AreaPropertiesSerializer.Meta.fields, "geometry"]

    @extend_schema_field({"type": "object", "nullable": True, "description": "GeoJSON geometry"})
    def get_geometry(self, area):
        field = self.context.get("geometry_field")
        return getattr(area, field) if field else None


class SiteSerializer(serializers.ModelSerializer):
    area = AreaRefSerializer(read_only=True)

    class Meta:
        model = Site
        fields = ["id", "name", "kind", "address", "lon", "lat", "area"]


class NeedSerializer(serializers.ModelSerializer):
    area = AreaRefSerializer(read_only=True)
    quantity_remaining = serializers.IntegerField(read_only=True)
    unit = serializers.CharField(source="donation_form.unit", read_only=True)
    is_open = serializers.SerializerMethodField(help_text="Takes pledges now.")
    is_stale = serializers.SerializerMethodField(
        help_text="Open, and assessed longer ago than the freshness rule allows."
    )

    class Meta:
        model = Need
        fields = [
            "id",
            "area",
            "site",
            "program",
            "donation_form",
            "unit",
            "quantity_needed",
            "quantity_claimed",
            "quantity_delivered",
            "quantity_remaining",
            "unit_value_idr",
            "priority",
            "households",
            "persons",
            "description",
            "assessed_by_role",
            "assessed_at",
            "valid_until",
            "status",
            "is_open",
            "is_stale",
            "version",
            "updated_at",
        ]

    def get_is_open(self, need) -> bool:
        return need.is_open(self.context.get("today"))

    def get_is_stale(self, need) -> bool:
        return need.is_stale(self.context.get("now"))


class CollaboratorSerializer(serializers.ModelSerializer):
    logo = serializers.SerializerMethodField()
    programs = serializers.SerializerMethodField()

    class Meta:
        model = Collaborator
        fields = [
            "id",
            "slug",
            "name",
            "kind",
            "description",
            "website",
            "logo",
            "is_aggregator",
            "programs",
            "live_commitments",
            "live_value_idr",
        ]

    def get_logo(self, collaborator) -> str | None:
        if not collaborator.logo:
            return None
        request = self.context.get("request")
        url = collaborator.logo.url
        return request.build_absolute_uri(url) if request else url

    def get_programs(self, collaborator) -> list[int]:
        # From the prefetch, not a query per row.
        return sorted(p.pk for p in collaborator.programs.all())


class CollaboratorRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Collaborator
        fields = ["id", "slug", "name"]


class CommitmentSerializer(serializers.ModelSerializer):
    collaborator = CollaboratorRefSerializer(read_only=True)
    area = AreaRefSerializer(read_only=True)
    quantity_left = serializers.IntegerField(read_only=True)

    class Meta:
        model = Commitment
        fields = [
            "id",
            "collaborator",
            "need",
            "area",
            "site",
            "program",
            "donation_form",
            "quantity",
            "quantity_delivered",
            "quantity_left",
            "value_idr",
            "channel",
            "aggregator",
            "status",
            "planned_delivery_on",
            "is_anonymous",
            "note",
            "created_at",
            "status_changed_at",
            "last_event_at",
        ]
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer):
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "commitment", "subject", "body", "url", "created_at", "read_at", "is_read"]

    def get_is_read(self, notification) -> bool:
        return notification.read_at is not None


GROUP_FIELDS = (
    "program",
    "donation_form",
    "area",
    "kelurahan",
    "kecamatan",
    "kota",
    "month",
    "channel",
    "status",
)


class SummaryRowSerializer(serializers.Serializer):
    """One group of the public commitment figures; only the fields grouped by are present."""

    program = serializers.IntegerField(required=False)
    donation_form = serializers.IntegerField(required=False)
    area = serializers.IntegerField(required=False, help_text="The commitment's RW or kelurahan.")
    kelurahan = serializers.IntegerField(required=False, allow_null=True)
    kecamatan = serializers.IntegerField(required=False, allow_null=True)
    kota = serializers.IntegerField(required=False, allow_null=True)
    month = serializers.DateField(required=False, help_text="First day of the month (WIB).")
    channel = serializers.ChoiceField(choices=Commitment.Channel.choices, required=False)
    status = serializers.CharField(required=False)
    count = serializers.IntegerField()
    quantity = serializers.IntegerField()
    value_idr = serializers.DecimalField(max_digits=22, decimal_places=0)
    households = serializers.IntegerField()
    persons = serializers.IntegerField()


@extend_schema_serializer(many=False)  # the list action answers one object, not a list
class SummarySerializer(serializers.Serializer):
    group_by = serializers.ListField(child=serializers.ChoiceField(choices=GROUP_FIELDS))
    computed_at = serializers.DateTimeField(
        allow_null=True, help_text="When the newest figure on this page was computed."
    )
    count = serializers.IntegerField(help_text="Groups in all pages.")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = SummaryRowSerializer(many=True)
