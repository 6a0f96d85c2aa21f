"""Pagination of API lists: page numbers for most, a cursor for the long lists (needs,
commitments, notifications), where counting every row for each page would cost the most.
A page size or page number that is not a bounded positive integer is a 400."""

from __future__ import annotations

import binascii
import functools

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator
from django.utils.translation import gettext_lazy as _
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError

from ksbb.bounds import BIGINT_MAX

MAX_PAGE_SIZE = 200
PAGE_NUMBER_MAX = 10_000_000


def bounded_int(request, name: str, *, maximum: int) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12 or not 1 <= int(raw) <= maximum:
        raise ValidationError(
            {name: [_("Enter a whole number from 1 to %(max)d.") % {"max": maximum}]}
        )
    return int(raw)


def _bounded_schema(parameters: list[dict], bounds: dict[str, int]) -> list[dict]:
    for parameter in parameters:
        if parameter["name"] in bounds:
            parameter["schema"] = {
                "type": "integer",
                "minimum": 1,
                "maximum": bounds[parameter["name"]],
            }
    return parameters


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        size = bounded_int(request, self.page_size_query_param, maximum=self.max_page_size)
        return size or self.page_size

    def paginate_queryset(self, queryset, request, view=None):
        bounded_int(request, self.page_query_param, maximum=PAGE_NUMBER_MAX)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        return _bounded_schema(
            super().get_schema_operation_parameters(view),
            {
                self.page_query_param: PAGE_NUMBER_MAX,
                self.page_size_query_param: self.max_page_size,
            },
        )


class _CountedPaginator(Paginator):
    """Django's paginator, told how many rows there are instead of counting them."""

    def __init__(self, object_list, per_page, *, count: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.__dict__["count"] = count  # Paginator.count is a cached property


class SummaryPagination(PageNumberPagination):
    """Grouped figures: small rows, so larger pages."""

    page_size = 200
    max_page_size = 1000

    def paginate_counted(self, queryset, request, view=None, *, count: int):
        """paginate_queryset for a queryset whose row count the caller already knows (a
        grouped one, whose count would group all its rows once more)."""
        self.django_paginator_class = functools.partial(_CountedPaginator, count=count)
        return self.paginate_queryset(queryset, request, view)


class CursorPagination(pagination.CursorPagination):
    """Newest first by default; views set `ordering` (its first field must be indexed and
    nearly unique)."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering = "-pk"

    def get_page_size(self, request):
        size = bounded_int(request, self.page_size_query_param, maximum=self.max_page_size)
        return size or self.page_size

    def get_schema_operation_parameters(self, view):
        return _bounded_schema(
            super().get_schema_operation_parameters(view),
            {self.page_size_query_param: MAX_PAGE_SIZE},
        )

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        """A cursor is opaque but not trusted: its position must be a value of the ordering
        field (a bounded id, a date-time), or the database would be asked the impossible."""
        invalid = ValidationError({self.cursor_query_param: [_("Invalid cursor.")]})
        try:
            cursor = super().decode_cursor(request)
        except (NotFound, UnicodeError, binascii.Error) as error:
            raise invalid from error
        if cursor is None or cursor.position is None:
            return cursor
        name = self.ordering[0].lstrip("-")
        field = self._model._meta.pk if name == "pk" else self._model._meta.get_field(name)
        try:
            value = field.to_python(cursor.position)
        except (DjangoValidationError, ValueError, OverflowError) as error:
            raise invalid from error
        if value is None or (isinstance(value, int) and not 0 <= value <= BIGINT_MAX):
            raise invalid
        return cursor


class NewestCursorPagination(CursorPagination):
    ordering = "-created_at"
