"""Where a newcomer starts: the API root of each host, the public host's landing page,
a pointer from `/` on tenant hosts, and ReDoc beside Swagger UI.

The API root lists the endpoints of the host's own OpenAPI schema (the same paths the
docs show), so it cannot drift from the URLconfs. It is the same document for every
tenant: no tenant data, and no sign-in needed to read it.
"""

from functools import cache

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularRedocView
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

API_PREFIX = "/api/v1/"


def _urlconf(request) -> str:
    """The URLconf routing chose for this request (django-tenants sets the public one)."""
    return getattr(request, "urlconf", None) or settings.ROOT_URLCONF


@cache
def endpoints_of(urlconf: str) -> dict[str, list[str]]:
    """`{path: [methods]}` of the schema that `urlconf` publishes at /api/schema/. Built
    once per process and URLconf: URLconfs do not change while it runs."""
    schema = SchemaGenerator(urlconf=urlconf).get_schema(request=None, public=True)
    return {
        path: sorted(method.upper() for method in operations if method != "parameters")
        for path, operations in schema["paths"].items()
    }


def docs_links(request) -> dict[str, str]:
    return {
        "swagger": request.build_absolute_uri(reverse("docs")),
        "redoc": request.build_absolute_uri(reverse("redoc")),
        "schema": request.build_absolute_uri(reverse("schema")),
    }


_DocsSerializer = inline_serializer(
    "ApiDocsLinks",
    {"swagger": serializers.URLField(), "redoc": serializers.URLField(), "schema": serializers.URLField()},
)


class ApiRootView(APIView):
    """`GET /api/v1/` on every host: what this host serves, and where its docs are."""

    # Readable without a token, and a stale or foreign token does not turn it into a 401.
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="API root",
        description="This host's endpoints (path and methods, as in the schema) and links to its documentation.",
        auth=[],
        responses=inline_serializer(
            "ApiRoot",
            {
                "name": serializers.CharField(),
                "version": serializers.CharField(),
                "host": serializers.ChoiceField(choices=["public", "tenant"]),
                "docs": _DocsSerializer,
                "endpoints": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
            },
        ),
    )
    def get(self, request):
        is_public = _urlconf(request) == settings.PUBLIC_SCHEMA_URLCONF
        return Response(
            {
                "name": settings.SPECTACULAR_SETTINGS["TITLE"],
                "version": "v1",
                "host": "public" if is_public else "tenant",
                "docs": docs_links(request),
                "endpoints": endpoints_of(_urlconf(request)),
            }
        )


def tenant_index(request):
    """`/` on a tenant host: where the API and its docs are (this host serves no pages)."""
    return JsonResponse(
        {
            "detail": "This host serves the Tessera API: start at api_root, or read the docs.",
            "api_root": request.build_absolute_uri(API_PREFIX),
            "docs": docs_links(request),
        }
    )


def landing(request):
    """`/` on the public host: a plain page of links for operators and newcomers."""
    context = {
        "public_domain": settings.PUBLIC_DOMAIN,
        "docs": docs_links(request),
        "registration": settings.ENABLE_REGISTRATION,
    }
    return render(request, "core/landing.html", context)


class RedocView(SpectacularRedocView):
    """ReDoc from drf-spectacular-sidecar's files, in a page that loads nothing from
    another origin (drf-spectacular's own page pulls Google Fonts)."""

    template_name = "core/redoc.html"
