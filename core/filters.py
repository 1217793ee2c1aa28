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
from django_filters import fields, widgets

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
