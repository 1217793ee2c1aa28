"""Input serializers validate (and name the field in error); output serializers render."""

import mimetypes
import re

from django.core.validators import RegexValidator
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.http import base_url
from core.serializers import StringField, person
from documents.models import NAME_MAX_LENGTH, TAG_MAX_LENGTH, TAGS_MAX, TITLE_MAX_LENGTH, Document

# type/subtype as RFC 6838 spells them (parameters such as charset dropped).
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$")
DEFAULT_CONTENT_TYPE = "application/octet-stream"


def content_type_of(declared: str | None, name: str) -> str:
    """The declared media type when it is well formed, else one guessed from the name,
    else octet-stream. Downloads are attachments with nosniff whatever it says, so a
    wrong type cannot make a browser run the file."""
    media_type = (declared or "").split(";", 1)[0].strip().lower()
    if _MEDIA_TYPE.match(media_type):
        return media_type
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or DEFAULT_CONTENT_TYPE


# Something other than space, and no control characters (C0, DEL, C1). Python's re and
# the schema's ECMA regex read this pattern alike.
_TAG = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"


class TagField(StringField):
    def __init__(self, **kwargs):
        validator = RegexValidator(_TAG, message="A tag is visible text, without control characters.")
        super().__init__(min_length=1, max_length=TAG_MAX_LENGTH, validators=[validator], **kwargs)


@extend_schema_field({"type": "string", "format": "binary", "minLength": 1})
class UploadField(serializers.FileField):
    """One file, not empty."""

    def __init__(self, **kwargs):
        super().__init__(allow_empty_file=False, use_url=False, **kwargs)


class TagsField(serializers.ListField):
    """Up to TAGS_MAX short strings; surrounding spaces dropped, repeats dropped, order kept."""

    def __init__(self, **kwargs):
        super().__init__(child=TagField(), max_length=TAGS_MAX, **kwargs)

    def to_internal_value(self, data):
        return list(dict.fromkeys(super().to_internal_value(data)))


class DocumentUploadSerializer(serializers.Serializer):
    file = UploadField()
    title = StringField(max_length=TITLE_MAX_LENGTH, required=False, allow_blank=True, default="")
    tags = TagsField(required=False, default=list)


class DocumentUpdateSerializer(serializers.Serializer):
    name = StringField(min_length=1, max_length=NAME_MAX_LENGTH, required=False)
    title = StringField(max_length=TITLE_MAX_LENGTH, required=False, allow_blank=True)
    tags = TagsField(required=False)


class DocumentSerializer(serializers.ModelSerializer):
    sha256 = serializers.CharField(source="blob.sha256", read_only=True)
    created_by = person("created_by")
    download_url = serializers.SerializerMethodField(
        help_text="GET it (signed in) for a short-lived signed link to the content."
    )

    class Meta:
        model = Document
        fields = [
            "id",
            "name",
            "title",
            "tags",
            "size",
            "content_type",
            "sha256",
            "created_by",
            "download_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_download_url(self, document) -> str:
        path = reverse("document-download", kwargs={"pk": document.pk})
        request = self.context.get("request")
        return f"{base_url(request, request.tenant.primary_host)}{path}" if request is not None else path


class DocumentStatsSerializer(serializers.Serializer):
    documents = serializers.IntegerField(help_text="Documents in this tenant.")
    blobs = serializers.IntegerField(help_text="Distinct contents stored (orphans awaiting cleanup included).")
    orphan_blobs = serializers.IntegerField(help_text="Contents no document points at any more, until cleanup.")
    logical_bytes = serializers.IntegerField(help_text="The documents' sizes added up, as if each were stored.")
    stored_bytes = serializers.IntegerField(help_text="Bytes actually stored: the difference is what dedup saves.")


class DownloadLinkSerializer(serializers.Serializer):
    url = serializers.URLField()
    expires_at = serializers.DateTimeField()
