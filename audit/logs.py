"""What every audit log page of the admin shares (a tenant's trail, platform and
security events): changes as a before → after table, and the filters (action family,
object type, actor, dates) over the whole vocabulary."""

import json
from datetime import datetime, time

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .vocabulary import ACTION_FAMILIES, OBJECT_TYPES

AUDIT_CSS = "audit/admin.css"


def _shown(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def changes_table(changes: dict | None) -> SafeString:
    """An event's `changes` as operators read them: one row per field, before → after.
    A value that is not a `[before, after]` pair (a secret's `None`: it changed; a
    job's error) spans both columns."""
    if not changes:
        return format_html('<span class="audit-none">{}</span>', "no field changes")
    rows = []
    for field, value in changes.items():
        if isinstance(value, list) and len(value) == 2:
            rows.append(
                format_html(
                    '<tr><th>{}</th><td class="audit-before">{}</td><td class="audit-arrow">→</td>'
                    '<td class="audit-after">{}</td></tr>',
                    field,
                    _shown(value[0]),
                    _shown(value[1]),
                )
            )
        else:
            shown = "(changed, not shown)" if value is None else _shown(value)
            rows.append(format_html('<tr><th>{}</th><td colspan="3">{}</td></tr>', field, shown))
    return format_html('<table class="audit-changes">{}</table>', format_html_join("", "{}", ((row,) for row in rows)))


class AuditFilterForm(forms.Form):
    """The filters every log offers: action family, object type, actor, date range."""

    family = forms.ChoiceField(required=False, label="Action family")
    object_type = forms.ChoiceField(required=False, label="Object type")
    actor = forms.CharField(required=False, label="Actor e-mail contains")
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        family = self.fields["family"]
        object_type = self.fields["object_type"]
        assert isinstance(family, forms.ChoiceField) and isinstance(object_type, forms.ChoiceField)
        family.choices = [("", "all"), *((name, f"{name}.*") for name in sorted(ACTION_FAMILIES))]
        object_type.choices = [("", "all"), *((name, name) for name in sorted(OBJECT_TYPES))]

    def filter(self, events: QuerySet) -> QuerySet:
        """`events` narrowed to the valid filters (an invalid one is shown as an error, not applied)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        if family := data.get("family"):
            events = events.filter(action__startswith=f"{family}.")
        if object_type := data.get("object_type"):
            events = events.filter(object_type=object_type)
        if actor := (data.get("actor") or "").strip():
            events = events.filter(actor_email__icontains=actor)
        if since := data.get("since"):
            events = events.filter(at__gte=timezone.make_aware(datetime.combine(since, time.min)))
        if until := data.get("until"):
            events = events.filter(at__lte=timezone.make_aware(datetime.combine(until, time.max)))
        return events


class ActionFamilyFilter(admin.SimpleListFilter):
    """Every family of the audit vocabulary (`auth`, `tenant`, `purchase_request`...)."""

    title = "action family"
    parameter_name = "family"

    def lookups(self, request, model_admin):
        return [(name, f"{name}.*") for name in sorted(ACTION_FAMILIES)]

    def queryset(self, request, queryset):
        return queryset.filter(action__startswith=f"{self.value()}.") if self.value() else queryset


class ObjectTypeFilter(admin.SimpleListFilter):
    title = "object type"
    parameter_name = "object_type"

    def lookups(self, request, model_admin):
        return [(name, name) for name in sorted(OBJECT_TYPES)]

    def queryset(self, request, queryset):
        return queryset.filter(object_type=self.value()) if self.value() else queryset


class ActorFilter(admin.SimpleListFilter):
    """The system, or one of the 30 most frequent actors (the search box finds the others)."""

    title = "actor"
    parameter_name = "actor"
    SYSTEM = "-"

    def lookups(self, request, model_admin):
        emails = (
            model_admin.get_queryset(request)
            .exclude(actor_email="")
            .values_list("actor_email", flat=True)
            .distinct()
            .order_by("actor_email")[:30]
        )
        return [(self.SYSTEM, "system (no actor)"), *((email, email) for email in emails)]

    def queryset(self, request, queryset):
        if self.value() == self.SYSTEM:
            return queryset.filter(actor_email="")
        return queryset.filter(actor_email=self.value()) if self.value() else queryset
