from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audit.models import AuditEvent
from core.serializers import ModelSerializer, StringField


class ActorSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = StringField()


class AuditEventSerializer(ModelSerializer):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "actor",
            "action",
            "object_type",
            "object_id",
            "changes",
            "source",
            "request_id",
            "ip",
            "user_agent",
        ]
        read_only_fields = fields

    @extend_schema_field(ActorSerializer(allow_null=True))
    def get_actor(self, event) -> dict | None:
        return {"id": event.actor_id, "email": event.actor_email} if event.actor_id else None
