"""Filters whose input is bounded where it is parsed, for the apps' FilterSets.

django-filter's ISO 8601 fields accept any offset Python does (up to +/-23:59), but
PostgreSQL's timestamptz takes at most +/-15:59 and no fractions of a second: such a
value used to reach the database and fail there, a 500. Here an offset beyond
+/-15:59 (or a value that leaves the calendar once in UTC) is a 400 naming the filter,
and every other value reaches the query in UTC.
"""

from datetime import UTC, timedelta

import django_filters
from django.core.exceptions import ValidationError
from django.db import models
from django_filters import fields, widgets
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.rest_framework import FilterSet as BaseFilterSet

MAX_UTC_OFFSET = timedelta(hours=15, minutes=59)


class IsoDateTimeField(fields.IsoDateTimeField):
    default_error_messages = {
        "offset": "Time-zone offsets must lie between -15:59 and +15:59.",
        "range": "The date and time are out of range.",
    }

    def to_python(self, value):
        result = super().to_python(value)
        if result is None:
            return None
        offset = result.utcoffset()
        if offset is not None and abs(offset) > MAX_UTC_OFFSET:
            raise ValidationError(self.error_messages["offset"], code="offset")
        try:
            return result.astimezone(UTC)
        except OverflowError:
            raise ValidationError(self.error_messages["range"], code="range") from None


class IsoDateTimeRangeField(fields.RangeField):
    widget = widgets.DateRangeWidget

    def __init__(self, *args, **kwargs):
        super().__init__((IsoDateTimeField(), IsoDateTimeField()), *args, **kwargs)


class IsoDateTimeFromToRangeFilter(django_filters.IsoDateTimeFromToRangeFilter):
    """`<name>_after=` / `<name>_before=` in ISO 8601, with the offset bounded."""

    field_class = IsoDateTimeRangeField


class FilterSet(BaseFilterSet):
    """The apps' FilterSet: a foreign key filters by the id it is given (`?product=<uuid>`).

    django-filter's default for a foreign key is a choice among the rows that exist,
    so a well-formed id of nothing answered 400 "Select a valid choice": a filter that
    matches nothing is an empty list, as for any other value.
    """

    FILTER_DEFAULTS = {
        **BaseFilterSet.FILTER_DEFAULTS,
        models.ForeignKey: {"filter_class": django_filters.UUIDFilter},
        models.OneToOneField: {"filter_class": django_filters.UUIDFilter},
    }


class FilterBackend(DjangoFilterBackend):
    """DjangoFilterBackend whose generated FilterSets (`filterset_fields`) are ours."""

    filterset_base = FilterSet
