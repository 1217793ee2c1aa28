from django.contrib import admin

from .models import PlatformEvent


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
