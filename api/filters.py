"""Query filters of API v1's lists. Every value is bounded before it reaches the database:
an id beyond the column, a coordinate off the globe, an unknown area is a 400, not a 500
and not a silently ignored filter."""

from __future__ import annotations

import copy

from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from django_filters.constants import EMPTY_VALUES
from django_filters.filters import QuerySetRequestMixin
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from collaborators.models import Collaborator
from commitments.models import Commitment, Notification, Status
from ksbb.bounds import BIGINT_MAX, INTEGER_MAX
from locations.models import Area, Need, Site, subtree_q
from programs.models import DonationForm, Program

# Form classes kept (per filter set, combination of filters named, language): a bound on
# memory whatever combinations clients ask for.
FORM_CLASSES_KEPT = 512


class FilterSet(filters.FilterSet):
    """django-filter's, lighter for a request that names few of its filters (the filter sets
    below have up to a dozen; a list request names one or two):

    - its form class is built once per set of filters and language, not at every request (a
      class with a form field per filter, labels translated); each request still gets its
      own form, of that class. Not for a filter that builds its field from the request
      (QuerySetRequestMixin): a set with one builds its form class as usual;
    - with `named_only` (the API's filtering, not the browsable API's filter form), it is
      made of the filters the data names (a parameter starting with the filter's name) and
      those that need no parameter to do something (`_kept`): any other would find no value,
      clean to an empty one and leave the queryset as it is (django-filter's filters do
      nothing with an empty value), so copying, binding and cleaning it is saved."""

    _form_classes: dict = {}
    _kept_by_class: dict = {}

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, named_only=False):
        if named_only and data is not None and prefix is None:
            kept, names = self._kept(), list(data)
            self.base_filters = {
                name: filter_
                for name, filter_ in self.base_filters.items()
                if name in kept or any(key.startswith(name) for key in names)
            }
        super().__init__(data, queryset, request=request, prefix=prefix)

    @classmethod
    def _kept(cls) -> frozenset[str]:
        """The filters that do something without a parameter: required ones, ones whose
        field cleans a missing value to something not empty (or refuses it), and those that
        build their field from the request."""
        kept = cls._kept_by_class.get(cls)
        if kept is None:
            kept = frozenset(
                name for name, filter_ in cls.base_filters.items() if not _empty_if_missing(filter_)
            )
            cls._kept_by_class[cls] = kept
        return kept

    def get_form_class(self):
        key = (type(self), tuple(self.filters), get_language())
        form_class = self._form_classes.get(key)
        if form_class is None:
            form_class = super().get_form_class()
            if not any(isinstance(f, QuerySetRequestMixin) for f in self.filters.values()):
                if len(self._form_classes) >= FORM_CLASSES_KEPT:
                    self._form_classes.clear()  # odd combinations of filters: start again
                self._form_classes[key] = form_class
        return form_class


def _empty_if_missing(filter_) -> bool:
    if isinstance(filter_, QuerySetRequestMixin):
        return False
    field = copy.deepcopy(filter_).field  # a copy: the class's own filter keeps no field
    try:
        value = field.clean(field.widget.value_from_datadict(QueryDict(), MultiValueDict(), "x"))
    except forms.ValidationError:
        return False
    return not field.required and value in EMPTY_VALUES


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": BIGINT_MAX})
class IdFilter(filters.Filter):
    """A database id: a whole number from 1 to the largest bigint."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": INTEGER_MAX})
class QuantityFilter(filters.Filter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", INTEGER_MAX)
        super().__init__(*args, **kwargs)


class StrictBooleanField(forms.Field):
    """true / false (or 1 / 0); anything else is refused rather than ignored."""

    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        result = self.VALUES.get(str(value).lower())
        if result is None:
            raise forms.ValidationError(_("Use true or false."), code="invalid")
        return result


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)  # not BooleanWidget, which maps junk to None
        super().__init__(*args, **kwargs)


def is_id(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 19 and int(value) <= BIGINT_MAX


def area_by_ref(value: str) -> Area | None:
    """An area by id or by code. An unknown one matches nothing (an empty list, as for any
    filter no row meets), since a well-formed reference is no error."""
    areas = Area.objects.all()
    return (areas.filter(pk=int(value)) if is_id(value) else areas.filter(code=value)).first()


def program_by_ref(value: str) -> Program | None:
    programs = Program.objects.all()
    return (programs.filter(pk=int(value)) if is_id(value) else programs.filter(slug=value)).first()


@extend_schema_field({"type": "string", "maxLength": 60})
class RefFilter(filters.CharFilter):
    """An id or a code / slug (bounded text)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 60)
        super().__init__(*args, **kwargs)


@extend_schema_field(
    {
        "type": "string",
        "maxLength": 200,
        "pattern": r"^-?[0-9]+(\.[0-9]+)?(,-?[0-9]+(\.[0-9]+)?){3}$",
    }
)
class BBoxFilter(filters.CharFilter):
    """bbox=min_lon,min_lat,max_lon,max_lat (WGS84 degrees)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault(
            "help_text",
            "min_lon,min_lat,max_lon,max_lat in degrees (WGS84), e.g. 106.80,-6.20,106.85,-6.15",
        )
        super().__init__(*args, **kwargs)


def parse_bbox(value: str, name: str = "bbox") -> tuple[float, float, float, float]:
    error = ValidationError(
        {
            name: [
                _(
                    "Give four numbers min_lon,min_lat,max_lon,max_lat, longitudes from -180 to "
                    "180 and latitudes from -90 to 90, each minimum at most its maximum."
                )
            ]
        }
    )
    parts = value.split(",")
    if len(parts) != 4:
        raise error
    try:
        min_lon, min_lat, max_lon, max_lat = (float(p) for p in parts)
    except ValueError:
        raise error from None
    if not (
        -180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90
    ):  # also refuses nan and inf
        raise error
    return min_lon, min_lat, max_lon, max_lat


class ProgramFilterMixin:
    def filter_program(self, queryset, name, value):
        program = program_by_ref(value)
        return queryset.none() if program is None else queryset.filter(program=program)


class DonationFormFilter(ProgramFilterMixin, FilterSet):
    program = RefFilter(method="filter_program", help_text="Program id or slug.")

    class Meta:
        model = DonationForm
        fields = ["program"]


class AreaFilter(FilterSet):
    level = filters.ChoiceFilter(choices=Area.Level.choices)
    parent = RefFilter(method="filter_parent", help_text="Parent area id or code.")
    code = filters.CharFilter(max_length=40)
    bbox = BBoxFilter(method="filter_bbox", help_text="Areas whose bounding box meets this one.")
    q = filters.CharFilter(
        field_name="name", lookup_expr="icontains", max_length=80, help_text="Part of the name."
    )

    class Meta:
        model = Area
        fields = ["level", "parent", "code", "bbox", "q"]

    def filter_parent(self, queryset, name, value):
        parent = area_by_ref(value)
        return queryset.none() if parent is None else queryset.filter(parent=parent)

    def filter_bbox(self, queryset, name, value):
        return queryset.in_bbox(*parse_bbox(value))


class SiteFilter(FilterSet):
    kind = filters.ChoiceFilter(choices=Site.Kind.choices)
    area = RefFilter(method="filter_area", help_text="Area id or code; its sub-areas included.")
    bbox = BBoxFilter(method="filter_bbox")

    class Meta:
        model = Site
        fields = ["kind", "area", "bbox"]

    def filter_area(self, queryset, name, value):
        area = area_by_ref(value)
        if area is None:
            return queryset.none()
        return queryset.filter(subtree_q([area.path], prefix="area__"))

    def filter_bbox(self, queryset, name, value):
        min_lon, min_lat, max_lon, max_lat = parse_bbox(value)
        return queryset.filter(
            lon__gte=min_lon, lon__lte=max_lon, lat__gte=min_lat, lat__lte=max_lat
        )


class NeedFilter(ProgramFilterMixin, FilterSet):
    program = RefFilter(method="filter_program", help_text="Program id or slug.")
    donation_form = IdFilter(field_name="donation_form_id")
    area = RefFilter(
        method="filter_area", help_text="Area id or code: the area and everything below it."
    )
    site = IdFilter(field_name="site_id")
    priority = filters.TypedChoiceFilter(choices=Need.Priority.choices, coerce=int)
    status = filters.ChoiceFilter(choices=Need.Status.choices)
    open = StrictBooleanFilter(
        method="filter_open", help_text="Taking pledges: open, not fully pledged, still valid."
    )
    stale = StrictBooleanFilter(
        method="filter_stale",
        help_text=f"Open, and last assessed more than {Need.STALE_AFTER_DAYS} days ago.",
    )
    expiring = StrictBooleanFilter(
        method="filter_expiring",
        help_text=f"Open, and valid for at most {Need.EXPIRY_WARNING_DAYS} more days.",
    )
    remaining_min = QuantityFilter(field_name="remaining", lookup_expr="gte")
    remaining_max = QuantityFilter(field_name="remaining", lookup_expr="lte")

    class Meta:
        model = Need
        fields = [
            "program",
            "donation_form",
            "area",
            "site",
            "priority",
            "status",
            "open",
            "stale",
            "expiring",
            "remaining_min",
            "remaining_max",
        ]

    def filter_area(self, queryset, name, value):
        area = area_by_ref(value)
        return queryset.none() if area is None else queryset.in_area(area)

    def filter_open(self, queryset, name, value):
        opened = Need.objects.open()
        return (
            queryset.filter(pk__in=opened.values("pk"))
            if value
            else queryset.exclude(pk__in=opened.values("pk"))
        )

    def filter_stale(self, queryset, name, value):
        stale = Need.objects.stale(timezone.now())
        return _within(queryset, stale, value)

    def filter_expiring(self, queryset, name, value):
        return _within(queryset, Need.objects.expiring(), value)


def _within(queryset, subset, value: bool):
    return (
        queryset.filter(pk__in=subset.values("pk"))
        if value
        else queryset.exclude(pk__in=subset.values("pk"))
    )


class CollaboratorFilter(ProgramFilterMixin, FilterSet):
    kind = filters.ChoiceFilter(choices=Collaborator.Kind.choices)
    program = RefFilter(method="filter_program_link", help_text="Program id or slug.")

    class Meta:
        model = Collaborator
        fields = ["kind", "program"]

    def filter_program_link(self, queryset, name, value):
        program = program_by_ref(value)
        return queryset.none() if program is None else queryset.filter(programs=program)


class CommitmentFilter(ProgramFilterMixin, FilterSet):
    status = filters.ChoiceFilter(choices=Status.choices)
    program = RefFilter(method="filter_program", help_text="Program id or slug.")
    collaborator = IdFilter(field_name="collaborator_id")
    channel = filters.ChoiceFilter(choices=Commitment.Channel.choices)
    need = IdFilter(field_name="need_id")

    class Meta:
        model = Commitment
        fields = ["status", "program", "collaborator", "channel", "need"]


class NotificationFilter(FilterSet):
    unread = StrictBooleanFilter(field_name="read_at", lookup_expr="isnull")

    class Meta:
        model = Notification
        fields = ["unread"]
