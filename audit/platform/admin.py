from django.contrib import admin

from .models import PlatformEvent, SecurityEvent


@admin.register(PlatformEvent)
class PlatformEventAdmin(admin.ModelAdmin):
    """Read-only: events are history, not data to edit."""

    list_display = ["at", "action", "tenant_slug", "actor_email", "object_type", "object_id", "source"]
    list_filter = ["action", "source", "at"]
    search_fields = ["action", "tenant_slug", "actor_email", "object_id", "request_id"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SecurityEvent)
class SecurityEventAdmin(PlatformEventAdmin):
    """Failed sign-ins, throttling, token reuse and invitation abuse, per account and IP."""

    list_display = ["at", "action", "account", "ip", "tenant_slug", "user_agent", "request_id"]
    list_filter = ["action", "at", "tenant_slug"]
    search_fields = ["actor_email", "ip", "tenant_slug", "request_id"]

    @admin.display(description="Account", ordering="actor_email")
    def account(self, event):
        return event.actor_email or "-"
