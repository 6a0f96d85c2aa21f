"""API v1 reads of area adoptions (issue 21): /api/v1/adoptions/ and one adoption.

Who sees what is the web pages' rule (Adoption.objects.visible_to, as
commitments.web.adoption_views): active and ended adoptions are public; a proposal (or one
declined, withdrawn, sent back for changes) only to its adopter's members, the program's
leads, the facilitators of its areas and administrators. Only what the public adoption page
shows is carried: no decision note, no facilitator comment, no person.

A page costs the same few queries whatever its length: the adopter and program joined, the
chosen areas prefetched, the progress of the whole page summed at once
(commitments.adoption.progress.adoptions_progress)."""

from __future__ import annotations

from django.db.models import Prefetch
from django_filters import rest_framework as django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from collaborators.roles import scopes_for
from commitments.adoption.models import Adoption, AdoptionArea, AdoptionStatus
from commitments.adoption.progress import AdoptionProgress, adoptions_progress
from locations.models import subtree_q

from . import filters
from .serializers import AreaRefSerializer, CollaboratorRefSerializer
from .views import AREA_HEAVY, PublicReadViewSet

# Sums of IDR values: a decimal string, as every IDR amount of the API.
IDR = {"max_digits": 22, "decimal_places": 0, "read_only": True}


class ItemProgressSerializer(serializers.Serializer):
    donation_form = serializers.IntegerField(source="donation_form.pk", read_only=True)
    unit = serializers.CharField(source="donation_form.unit", read_only=True)
    planned_quantity = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="In the form's unit; null if planned in IDR."
    )
    planned_value_idr = serializers.DecimalField(source="planned_value", allow_null=True, **IDR)
    pledged = serializers.IntegerField(
        source="promised", read_only=True, help_text="Quantity of works pledged or confirmed."
    )
    committed = serializers.IntegerField(
        source="confirmed", read_only=True, help_text="Quantity of works the facilitator confirmed."
    )
    delivered = serializers.IntegerField(read_only=True)


class PhaseProgressSerializer(serializers.Serializer):
    order = serializers.IntegerField(source="phase.order", read_only=True)
    title = serializers.CharField(source="phase.title", read_only=True)
    target_on = serializers.DateField(source="phase.target_on", read_only=True)
    value_idr = serializers.DecimalField(
        source="value_promised", help_text="Value of this phase's live works.", **IDR
    )
    items = ItemProgressSerializer(many=True, read_only=True)


class AdoptionSerializer(serializers.ModelSerializer):
    adopter = CollaboratorRefSerializer(source="collaborator", read_only=True)
    areas = AreaRefSerializer(
        source="public_areas",
        many=True,
        read_only=True,
        help_text="The areas the adopter chose (a kelurahan covers its RW too).",
    )
    value_idr = serializers.DecimalField(
        source="progress.value_promised",
        help_text="Value so far: the works pledged or confirmed.",
        **IDR,
    )
    value_confirmed_idr = serializers.DecimalField(source="progress.value_confirmed", **IDR)
    works = serializers.IntegerField(source="progress.works", read_only=True)
    phases = PhaseProgressSerializer(source="progress.phases", many=True, read_only=True)
    page = serializers.SerializerMethodField(help_text="The adoption's page on the portal.")

    class Meta:
        model = Adoption
        fields = [
            "id",
            "name",
            "description",
            "adopter",
            "program",
            "areas",
            "status",
            "starts_on",
            "ends_on",
            "agreed_at",
            "ended_at",
            "value_idr",
            "value_confirmed_idr",
            "works",
            "phases",
            "page",
        ]
        read_only_fields = fields

    def get_page(self, adoption) -> str:
        request = self.context.get("request")
        url = adoption.get_absolute_url()
        return request.build_absolute_uri(url) if request else url


class AdoptionFilter(filters.ProgramFilterMixin, filters.FilterSet):
    program = filters.RefFilter(method="filter_program", help_text="Program id or slug.")
    status = django_filters.ChoiceFilter(choices=AdoptionStatus.choices)
    area = filters.RefFilter(
        method="filter_area",
        help_text="Area id or code: adoptions covering it or anything below it.",
    )
    adopter = filters.IdFilter(field_name="collaborator_id", help_text="Collaborator id.")

    class Meta:
        model = Adoption
        fields = ["program", "status", "area", "adopter"]

    def filter_area(self, queryset, name, value):
        area = filters.area_by_ref(value)
        if area is None:
            return queryset.none()
        claims = AdoptionArea.objects.filter(subtree_q([area.path], prefix="area__"))
        return queryset.filter(pk__in=claims.values("adoption_id"))


def _with_progress(adoptions):
    """Hang each adoption's chosen areas and progress on it (for the serializer)."""
    progress = adoptions_progress(adoptions)
    for adoption in adoptions:
        adoption.public_areas = [claim.area for claim in adoption.chosen_claims]
        adoption.progress = progress.get(adoption.pk, AdoptionProgress())
    return adoptions


@extend_schema_view(
    list=extend_schema(
        summary="Area adoptions",
        description="Active and ended adoptions; signed in, also the proposals one may see "
        "(one's collaborator's, one's program's, one's areas').",
        tags=["public"],
    ),
    retrieve=extend_schema(summary="One area adoption", tags=["public"]),
)
class AdoptionViewSet(PublicReadViewSet):
    queryset = Adoption.objects.none()  # for the schema; get_queryset scopes it
    serializer_class = AdoptionSerializer
    filterset_class = AdoptionFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Adoption.objects.none()
        chosen = (
            AdoptionArea.objects.filter(is_chosen=True)
            .select_related("area")
            .defer(*AREA_HEAVY)
            .order_by("area__code")
        )
        return (
            Adoption.objects.visible_to(scopes_for(self.request.user))
            .select_related("collaborator", "program")
            .prefetch_related(Prefetch("claims", queryset=chosen, to_attr="chosen_claims"))
            .order_by("-proposed_at", "-pk")
        )

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        return None if page is None else _with_progress(list(page))

    def get_object(self):
        return _with_progress([super().get_object()])[0]


def register(router) -> None:
    router.register("adoptions", AdoptionViewSet, basename="api-adoption")
