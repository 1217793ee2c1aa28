"""Documents endpoints. Thin: validate, call a service, serialise."""

import django_filters
from csp.decorators import csp_replace
from django.conf import settings
from django.http import FileResponse
from django.utils.decorators import method_decorator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import ModuleDisabled, NotFound
from core.filters import FilterSet, IsoDateTimeFromToRangeFilter, UUIDFilter
from core.http import base_url
from core.openapi import errors
from core.parsers import JSONParser
from core.permissions import OwnObjectOrRole, RoleByAction
from core.roles import Role
from documents import selectors, services
from documents.exceptions import InvalidUpload
from documents.models import Document
from documents.storage import (
    attachment_disposition,
    blob_path,
    blob_storage,
    download_link,
    download_link_check,
)
from documents.uploads import MULTIPART_OVERHEAD, HashingUploadHandler

from . import serializers as s


class DocumentFilter(FilterSet):
    tag = django_filters.CharFilter(method="filter_tag", help_text="Documents with this tag.")
    sha256 = django_filters.CharFilter(field_name="blob__sha256", help_text="Documents with exactly this content.")
    created_at = IsoDateTimeFromToRangeFilter()
    created_by = UUIDFilter(field_name="created_by_id")

    class Meta:
        model = Document
        fields = ["content_type", "name"]

    def filter_tag(self, queryset, name, value):
        return queryset.filter(tags__contains=[value])


@extend_schema(tags=["documents"])
@extend_schema_view(
    list=extend_schema(responses={200: s.DocumentSerializer(many=True), **errors(400, 401, 403)}),
    retrieve=extend_schema(responses={200: s.DocumentSerializer, **errors(401, 403, 404)}),
    partial_update=extend_schema(
        request=s.DocumentUpdateSerializer, responses={200: s.DocumentSerializer, **errors(400, 401, 403, 404)}
    ),
    destroy=extend_schema(responses={204: None, **errors(401, 403, 404)}),
)
class DocumentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Uploaded files. Everyone reads; members upload and edit their own documents'
    name, title and tags (managers anyone's); admins delete. The content of a document
    never changes: upload a new one."""

    serializer_class = s.DocumentSerializer
    module = "documents"
    permission_classes = [
        RoleByAction,
        OwnObjectOrRole(Role.MANAGER, actions=frozenset({"partial_update"}), noun="document"),
    ]
    role_by_action = {
        "create": Role.MEMBER,
        "partial_update": Role.MEMBER,
        "download": Role.VIEWER,
        "stats": Role.VIEWER,
    }
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filterset_class = DocumentFilter
    search_fields = ["name", "title"]
    ordering_fields = ["created_at", "name", "title", "size"]
    ordering = ["-created_at"]

    def get_queryset(self):
        return selectors.document_list()

    @classmethod
    def request_body_limit(cls) -> int:
        """For core.idempotency: a keyed upload is fingerprinted up to the upload limit."""
        return settings.MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD

    def get_parsers(self):
        # Uploads are multipart (the only non-JSON body the API takes); the rest is JSON.
        if self.request is not None and self.request.method == "POST":
            return [MultiPartParser()]
        return [JSONParser()]

    def initialize_request(self, request, *args, **kwargs):
        if request.method == "POST":
            request.upload_handlers = [HashingUploadHandler(request)]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": s.DocumentUploadSerializer},
        responses={
            201: s.DocumentSerializer,
            **errors(400, 401, 403),
            413: OpenApiResponse(description="The file is larger than MAX_UPLOAD_BYTES (`file_too_large`)."),
        },
        description=(
            "Multipart: `file` (one, not empty), optional `title`, and `tags` repeated once per tag. "
            "Content this tenant already has is stored once (see `GET /documents/stats/`)."
        ),
    )
    def create(self, request):
        files = request.FILES.getlist("file")
        if len(files) > 1:
            raise InvalidUpload("Send one file per upload.")
        data = s.DocumentUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        document = services.document_upload(
            file=upload,
            title=data.validated_data["title"],
            tags=data.validated_data["tags"],
            content_type=s.content_type_of(upload.content_type, upload.name or ""),
            actor=request.user,
        )
        return Response(self.get_serializer(document).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        document = self.get_object()
        data = s.DocumentUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        document = services.document_update(document=document, actor=request.user, **data.validated_data)
        return Response(self.get_serializer(document).data)

    def perform_destroy(self, instance):
        services.document_delete(document=instance, actor=self.request.user)

    @extend_schema(
        responses={
            302: OpenApiResponse(
                s.DownloadLinkSerializer,
                description="`Location` is a signed link to the content, valid DOWNLOAD_URL_TTL seconds.",
            ),
            **errors(401, 403, 404),
        }
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """Redirect to a short-lived signed link that serves the content as an
        attachment. The body says the same, for clients that do not follow redirects."""
        link = download_link(self.get_object(), base_url=base_url(request, request.tenant.primary_host))
        response = Response({"url": link.url, "expires_at": link.expires_at}, status=status.HTTP_302_FOUND)
        response["Location"] = link.url
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(responses={200: s.DocumentStatsSerializer, **errors(401, 403)})
    @action(detail=False, methods=["get"])
    def stats(self, request):
        """Documents, distinct contents and bytes, before and after deduplication."""
        return Response(s.DocumentStatsSerializer(selectors.document_stats()).data)


class _AnyAccept(BaseContentNegotiation):
    """The content link is opened by browsers and download tools with any Accept."""

    def select_parser(self, request, parsers):
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


@extend_schema(
    tags=["documents"],
    auth=[],
    parameters=[
        OpenApiParameter("expires", OpenApiTypes.INT, required=True, description="From the signed link."),
        OpenApiParameter("signature", OpenApiTypes.STR, required=True, description="From the signed link."),
    ],
    responses={
        (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The content."),
        403: OpenApiResponse(description="`invalid_signature` or `link_expired`."),
        404: OpenApiResponse(description="No such document (here)."),
    },
)
@method_decorator(csp_replace({"default-src": ["'none'"], "sandbox": [""]}), name="get")
class DocumentContentView(APIView):
    """The bytes behind a signed link (filesystem storage; S3 links go to the store).

    No token: the signature is the credential, as with a presigned S3 URL, so the link
    works in a browser or `curl -O`. It is bound to this tenant's schema, this document
    and its content, and expires after DOWNLOAD_URL_TTL seconds.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    content_negotiation_class = _AnyAccept

    def get(self, request, pk):
        if "documents" not in getattr(request, "modules", ()):
            raise ModuleDisabled("documents")  # a link made before the module was switched off
        document = selectors.document_list().filter(pk=pk).first()
        if document is None:
            raise NotFound("No such document.")
        download_link_check(
            document,
            expires=request.query_params.get("expires", ""),
            signature=request.query_params.get("signature", ""),
        )
        stored = blob_storage().open(blob_path(document.blob.sha256), "rb")
        response = FileResponse(stored, content_type=document.content_type)
        response["Content-Disposition"] = attachment_disposition(document.name)
        response["Content-Length"] = str(document.size)
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response
