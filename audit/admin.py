"""Admin integration: every add, change and delete made in the admin is recorded; the
confirmation page of admin actions. What log pages share is in `audit.logs`.

Tenant audit rows live in tenant schemas and the admin runs on the public host, so
AuditEvent is not registered here; tenant admins read their trail through the API.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.db import transaction
from django.template.response import TemplateResponse

from .logs import AUDIT_CSS
from .services import audit_record, snapshot
from .vocabulary import object_type_of


class AuditedModelAdmin(admin.ModelAdmin):
    """Base for every ModelAdmin: records `<model>.created|updated|deleted` with the
    form's before/after values, in the same transaction as the change (the admin wraps
    its views in one). Events go to the platform log, or to the tenant trail that
    `audit_tenant()` names. A model may name its actions in `audit_actions`
    (`{"created": "membership.added", ...}`) so admin and service events match."""

    class Media:
        css = {"all": [AUDIT_CSS]}

    def audit_tenant(self, obj):
        return None

    def confirm_action(
        self,
        request,
        queryset,
        *,
        action: str,
        question: str,
        button: str,
        form: forms.Form | None = None,
        details: dict | None = None,
    ) -> TemplateResponse | None:
        """For an admin action: None once the operator confirmed (the page's "apply"
        field, and a valid `form` if any), else the page that asks, listing the
        selected objects (with `details[obj.pk]` beside each when given)."""
        if "apply" in request.POST and (form is None or form.is_valid()):
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": question,
            "objects": [(obj, (details or {}).get(obj.pk, "")) for obj in queryset],
            "action": action,
            "button": button,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/confirm_action.html", context)

    def _audit(self, request, obj, verb: str, changes: dict, *, object_id=None):
        tenant = self.audit_tenant(obj)
        object_type = object_type_of(obj)
        audit_record(
            action=getattr(type(obj), "audit_actions", {}).get(verb, f"{object_type}.{verb}"),
            object_type=object_type,
            object_id=str(object_id or obj.pk),
            actor=request.user,
            changes=changes,
            tenant=tenant,
            platform=tenant is None,
        )

    @staticmethod
    def _form_changes(form, change: bool) -> dict:
        return {
            name: [form.initial.get(name) if change else None, form.cleaned_data.get(name)]
            for name in form.changed_data
        }

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._audit(request, obj, "updated" if change else "created", self._form_changes(form, change))

    def delete_model(self, request, obj):
        before, object_id = snapshot(obj), obj.pk
        super().delete_model(request, obj)
        self._audit(
            request, obj, "deleted", {name: [value, None] for name, value in before.items()}, object_id=object_id
        )

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        inline_forms = {id(f.instance): f for f in formset.forms}
        for obj in formset.new_objects:
            self._audit(request, obj, "created", self._form_changes(inline_forms.get(id(obj), form), False))
        for obj, changed in formset.changed_objects:
            inline = inline_forms.get(id(obj))
            changes = self._form_changes(inline, True) if inline else {name: [None, None] for name in changed}
            self._audit(request, obj, "updated", changes)
        for obj in formset.deleted_objects:
            self._audit(request, obj, "deleted", {})
