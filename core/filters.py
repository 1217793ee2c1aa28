"""Filters whose input is bounded where it is parsed, for the apps' FilterSets.

django-filter's ISO 8601 fields accept any offset Python does (up to +/-23:59), but
PostgreSQL's timestamptz takes at most +/-15:59 and no fractions of a second: such a
value used to reach the database and fail there, a 500. Here every value reaches the
query converted to UTC, so any offset ISO 8601 allows is served; one that leaves the
calendar once in UTC (year 1 at +23:59) is a 400 naming the filter.
"""

import re
from datetime import UTC

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django_filters import fields, widgets
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.rest_framework import FilterSet as BaseFilterSet
from rest_framework import filters as drf_filters
from rest_framework.exceptions import ValidationError as InputError


class IsoDateTimeField(fields.IsoDateTimeField):
    default_error_messages = {"range": "The date and time are out of range."}

    def to_python(self, value):
        result = super().to_python(value)
        if result is None:
            return None
        try:
            return result.astimezone(UTC)
        except OverflowError:
            raise ValidationError(self.error_messages["range"], code="range") from None


class IsoDateTimeRangeField(fields.RangeField):
    widget = widgets.DateRangeWidget

    def __init__(self, *args, **kwargs):
        super().__init__((IsoDateTimeField(), IsoDateTimeField()), *args, **kwargs)

    def clean(self, value):
        # `?at_before=` is a value that is no date, not "no bound" (the schema says date-time).
        if isinstance(value, list | tuple) and "" in value:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().clean(value)


class IsoDateTimeFromToRangeFilter(django_filters.IsoDateTimeFromToRangeFilter):
    """`<name>_after=` / `<name>_before=` in ISO 8601, with the offset bounded."""

    field_class = IsoDateTimeRangeField


class _StrictUUIDField(forms.UUIDField):
    def clean(self, value):
        # `?product=` is not "no filter" but a value that is no id.
        if value == "":
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().clean(value)


class _StrictBooleanField(forms.Field):
    """`true` or `false`: django-filter's own turns anything else into "no filter"."""

    def to_python(self, value):
        if value is None:
            return None
        if value in ("true", "True"):
            return True
        if value in ("false", "False"):
            return False
        raise ValidationError("Use true or false.", code="invalid")


class UUIDFilter(django_filters.UUIDFilter):
    field_class = _StrictUUIDField


class BooleanFilter(django_filters.BooleanFilter):
    field_class = _StrictBooleanField


class FilterSet(BaseFilterSet):
    """The apps' FilterSet: filters take what the schema says, or answer 400 naming the
    parameter (django-filter quietly drops a value it cannot read, so `?is_active=null`
    listed everything).

    A foreign key filters by the id it is given (`?product=<uuid>`): django-filter's
    default is a choice among the rows that exist, so a well-formed id of nothing
    answered an undocumented 400; a filter that matches nothing is an empty list.
    """

    FILTER_DEFAULTS = {
        **BaseFilterSet.FILTER_DEFAULTS,
        models.ForeignKey: {"filter_class": UUIDFilter},
        models.OneToOneField: {"filter_class": UUIDFilter},
        models.UUIDField: {"filter_class": UUIDFilter},
        models.BooleanField: {"filter_class": BooleanFilter},
    }


class FilterBackend(DjangoFilterBackend):
    """DjangoFilterBackend whose generated FilterSets (`filterset_fields`) are ours.

    A list's query parameters are single values (the schema says so): one given twice
    answers 400 naming it, where django-filter and DRF would quietly read the last.
    """

    filterset_base = FilterSet

    def filter_queryset(self, request, queryset, view):
        repeated = [name for name, values in request.query_params.lists() if len(values) > 1]
        if repeated:
            raise InputError({repeated[0]: ["Give this parameter once."]})
        return super().filter_queryset(request, queryset, view)


class OrderingFilter(drf_filters.OrderingFilter):
    """DRF's `?ordering=`, refusing a field it does not offer with 400 naming the
    parameter (DRF drops it silently), and listing the offered values in the schema."""

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if raw is not None and any(not term or term != term.strip() for term in raw.split(",")):
            raise InputError({self.ordering_param: ["Give field names separated by commas, e.g. -created_at,name."]})
        return super().get_ordering(request, queryset, view)

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = {name for name, _ in self.get_valid_fields(queryset, view, {"request": request})}
        unknown = [term for term in fields if term != term.strip() or term.removeprefix("-") not in valid]
        if unknown:
            offered = ", ".join(sorted(valid))
            raise InputError({self.ordering_param: [f"Cannot order by {unknown[0]!r}; use one of: {offered}."]})
        return list(fields)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        fields = getattr(view, "ordering_fields", None)
        if isinstance(fields, list | tuple):
            one = "-?(?:" + "|".join(re.escape(name) for name in fields) + ")"
            for parameter in parameters:
                parameter["schema"]["pattern"] = f"^{one}(?:,{one})*$"
                parameter["description"] = f"Comma-separated, `-` for descending: {', '.join(fields)}."
        return parameters
