from django.contrib import admin
from django.utils.html import format_html

from audit.logs import AUDIT_CSS, ActionFamilyFilter, ActorFilter, ObjectTypeFilter, changes_table

from .models import PlatformEvent, SecurityEvent

EVENT_FIELDS = ("at", "action", "tenant_slug", "actor_email", "actor_id", "object_type", "object_id")
REQUEST_FIELDS = ("source", "request_id", "ip", "user_agent")
SHOWN_FIELDS: tuple[str, ...] = (*EVENT_FIELDS, "changes_readable", *REQUEST_FIELDS)


@admin.register(PlatformEvent)
class PlatformEventAdmin(admin.ModelAdmin):
    """Read-only: events are history, not data to edit. Filtered by action family,
    object type, actor, source and date; paged; changes shown as before → after."""

    list_display = ["when", "action_on_tenant", "actor", "object", "changes_readable"]  # source: a filter
    list_filter = [ActionFamilyFilter, ObjectTypeFilter, ActorFilter, "source", "at"]
    search_fields = ["action", "tenant_slug", "actor_email", "object_id", "request_id"]
    date_hierarchy = "at"
    list_per_page = 50
    # A tuple, so that `fields` may share it.
    readonly_fields = SHOWN_FIELDS
    fields = readonly_fields

    class Media:
        css = {"all": [AUDIT_CSS]}

    @admin.display(description="At (UTC)", ordering="at")
    def when(self, event):
        return event.at.strftime("%Y-%m-%d %H:%M:%S")

    @admin.display(description="Action, tenant", ordering="action")
    def action_on_tenant(self, event):
        return format_html("{}<br><small>{}</small>", event.action, event.tenant_slug or "platform")

    @admin.display(description="Actor", ordering="actor_email")
    def actor(self, event):
        return event.actor_email or "system"

    @admin.display(description="Object", ordering="object_type")
    def object(self, event):
        # The id's first characters (the whole id in the tooltip, on the event's page and in search).
        short = event.object_id if len(event.object_id) <= 12 else f"{event.object_id[:8]}…"
        return format_html('{}<br><small title="{}">{}</small>', event.object_type or "—", event.object_id, short)

    @admin.display(description="Changes")
    def changes_readable(self, event):
        return changes_table(event.changes)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SecurityEvent)
class SecurityEventAdmin(PlatformEventAdmin):
    """Failed sign-ins (API and admin), throttling, token reuse and invitation abuse, per
    account and IP."""

    list_display = ["at", "action", "account", "ip", "tenant_slug", "changes_readable", "user_agent_short"]
    list_filter = ["action", ActorFilter, "tenant_slug", "at"]
    search_fields = ["actor_email", "ip", "tenant_slug", "request_id"]

    @admin.display(description="Account", ordering="actor_email")
    def account(self, event):
        return event.actor_email or "-"

    @admin.display(description="User agent", ordering="user_agent")
    def user_agent_short(self, event):
        agent = event.user_agent or ""
        return format_html('<span title="{}">{}</span>', agent, agent if len(agent) <= 60 else agent[:57] + "…")
