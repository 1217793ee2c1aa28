"""Operators see a tenant's storage use in the admin (tenant change page, public host)."""

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from accounts.models import User
from documents.tests.factories import DocumentFactory

pytestmark = pytest.mark.django_db


def test_tenant_page_shows_storage_use(platform, tenant_a, media_root):
    with tenant_context(tenant_a):
        DocumentFactory(content=b"k" * 1500)
        DocumentFactory(content=b"k" * 1500)
    operator = User.objects.create_superuser(email="ops@tessera.test", password="ops-password-long")
    client = Client(HTTP_HOST="localhost")
    client.force_login(operator)
    html = client.get(f"/admin/tenants/tenant/{tenant_a.pk}/change/").content.decode()
    assert "documents: 2" in html and "storage bytes: 1.5\xa0KB (1500 bytes)" in html
