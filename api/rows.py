"""The rows of the API's lists, written as their serializers write them, for less.

A model serializer builds its fields at each request by introspecting the model, and writes
each field of each row through a few generic calls: for a short list, most of the time the
API spends beyond the database. RowsSerializer keeps one child serializer (so its fields)
per thread and serializer class, and writes rows with a writer made once from those fields:
the same values, through a shorter path for the common kinds of field (a model attribute
that is already what the field would make of it), DRF's own calls for any other.

Nothing here changes what a list says: the fields are the serializer's, the same for every
request (no read serializer sets them from the request); what depends on the request,
method fields and nested serializers, reads the context through the child's parent, the
list being written.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from operator import attrgetter

from django.db.models.manager import BaseManager
from rest_framework import fields, relations, serializers
from rest_framework.fields import SkipField

SKIP = object()  # a field the row leaves out (SkipField)

# Fields whose to_representation returns a value of this type unchanged (None: always call
# it, on a value read straight from the model attribute).
PLAIN = {
    fields.IntegerField: int,
    fields.CharField: str,
    fields.BooleanField: bool,
    fields.ChoiceField: None,
    fields.DateTimeField: None,
    fields.DateField: None,
    fields.DecimalField: None,
    fields.FloatField: None,
}


def _generic(field) -> Callable:
    """Serializer.to_representation's own steps for one field."""

    def value(instance):
        try:
            attribute = field.get_attribute(instance)
        except SkipField:
            return SKIP
        check = attribute.pk if isinstance(attribute, relations.PKOnlyObject) else attribute
        return None if check is None else field.to_representation(attribute)

    return value


def _primary_key(field, generic: Callable) -> Callable:
    name = field.source_attrs[0]

    def value(instance):
        try:
            raw = instance.serializable_value(name)
        except Exception:
            return generic(instance)
        if raw is None:
            return None
        return raw if type(raw) is int else generic(instance)

    return value


def _nested(field, writer: Callable) -> Callable:
    def value(instance):
        try:
            attribute = field.get_attribute(instance)
        except SkipField:
            return SKIP
        return None if attribute is None else writer(attribute)

    return value


def _is_plain(field) -> bool:
    kind = type(field)
    return (
        kind in PLAIN
        and len(field.source_attrs) == 1
        and kind.get_attribute is fields.Field.get_attribute
    )


def _field_value(field) -> Callable:
    generic = _generic(field)
    kind = type(field)
    single = len(getattr(field, "source_attrs", ())) == 1
    if kind is relations.PrimaryKeyRelatedField and single and field.pk_field is None:
        return _primary_key(field, generic)
    if kind is fields.SerializerMethodField:
        return getattr(field.parent, field.method_name)
    if isinstance(field, serializers.Serializer) and single:
        writer = row_writer(field)
        if writer is not None:
            return _nested(field, writer)
    return generic


def _reader(names: list[str]) -> Callable:
    """A function reading these attributes of an instance, as a tuple."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        read = attrgetter(names[0])
        return lambda instance: (read(instance),)
    return lambda instance: ()


def row_writer(serializer: serializers.Serializer) -> Callable | None:
    """A function writing an instance as `serializer` would; None for a serializer with its
    own to_representation. Plain fields (PLAIN, reading one attribute) are read together;
    a value that is already what the field would make of it is taken as it is."""
    if type(serializer).to_representation is not serializers.Serializer.to_representation:
        return None
    readable = list(serializer._readable_fields)
    names = [field.field_name for field in readable]
    plain = [
        (field.field_name, PLAIN[type(field)], field.to_representation, _generic(field))
        for field in readable
        if _is_plain(field)
    ]
    read_plain = _reader([field.source_attrs[0] for field in readable if _is_plain(field)])
    others = [(field.field_name, _field_value(field)) for field in readable if not _is_plain(field)]

    def write(instance) -> dict:
        row = dict.fromkeys(names)
        try:
            raws = read_plain(instance)
        except Exception:  # DRF's own path, field by field, says what becomes of it
            raws = [SKIP] * len(plain)
        for (name, kind, represent, generic), raw in zip(plain, raws, strict=True):
            if raw is None or type(raw) is kind:
                row[name] = raw
            elif raw is SKIP or callable(raw):
                row[name] = generic(instance)
            else:
                row[name] = represent(raw)
        for name, value in others:
            row[name] = value(instance)
        if SKIP in row.values():
            return {name: written for name, written in row.items() if written is not SKIP}
        return row

    return write


class _Children(threading.local):
    def __init__(self):
        self.by_class: dict[type, tuple[serializers.Serializer, Callable | None]] = {}


_children = _Children()


class RowsSerializer(serializers.ListSerializer):
    """`child_class(instances, many=True, context=context)`, the child (its fields, its row
    writer) made once per thread and serializer class, and made this list's child for as
    long as it writes it."""

    def __init__(self, instances, *, child_class, context):
        serializers.BaseSerializer.__init__(self, instances, context=context)
        self.allow_empty, self.max_length, self.min_length = True, None, None
        made = _children.by_class.get(child_class)
        if made is None:
            child = child_class()
            child.bind(field_name="", parent=self)
            made = _children.by_class[child_class] = (child, row_writer(child))
        self.child, self._write = made
        self.child.parent = self

    def to_representation(self, data):
        try:
            if self._write is None:
                return super().to_representation(data)
            rows = data.all() if isinstance(data, BaseManager) else data
            return [self._write(item) for item in rows]
        finally:
            self.child.parent = None  # holds on to no request, no page, once written
