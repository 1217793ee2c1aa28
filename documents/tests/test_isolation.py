"""Tenant B never reads, lists, changes, deletes or downloads tenant A's documents: not
by id, not by signed link, not by hash; and uploading content A has tells B nothing."""

from urllib.parse import urlsplit

import pytest
from django_tenants.utils import tenant_context

from documents.models import Blob
from documents.services import blob_orphans_purge
from documents.tests.helpers import sha, stored_files, upload

pytestmark = pytest.mark.django_db
CONTENT = b"alpha's quarterly numbers"


@pytest.fixture
def alpha_document(api_client_for, tenant_a, media_root):
    return upload(api_client_for(tenant_a, role="member"), CONTENT, name="q3.csv", title="A-ONLY-marker").json()


def test_other_tenant_cannot_reach_a_document_by_id(api_client_for, tenant_b, alpha_document):
    b = api_client_for(tenant_b, role="owner")
    path = f"/api/v1/documents/{alpha_document['id']}/"
    assert b.get(path).status_code == 404
    assert b.patch(path, {"title": "mine now"}).status_code == 404
    assert b.delete(path).status_code == 404
    assert b.get(f"{path}download/").status_code == 404
    listing = b.get("/api/v1/documents/?page_size=200").content.decode()
    assert "A-ONLY-marker" not in listing and alpha_document["id"] not in listing
    assert b.get(f"/api/v1/documents/?sha256={alpha_document['sha256']}").json()["count"] == 0
    assert b.get("/api/v1/documents/stats/").json()["documents"] == 0


def test_signed_link_works_only_on_its_tenant_host(api_client_for, tenant_a, tenant_b, alpha_document, platform):
    a = api_client_for(tenant_a, role="member")
    link = urlsplit(a.get(f"/api/v1/documents/{alpha_document['id']}/download/")["Location"])
    b = api_client_for(tenant_b)
    assert b.get(f"{link.path}?{link.query}").status_code == 404
    public = api_client_for(platform.public)
    assert public.get(f"{link.path}?{link.query}").status_code == 404


def test_same_content_in_another_tenant_is_its_own_blob(api_client_for, tenant_a, tenant_b, alpha_document, media_root):
    b_member, b_admin = api_client_for(tenant_b, role="member"), api_client_for(tenant_b, role="admin")
    fresh = upload(b_member, b"content neither tenant has", name="q3.csv", title="t").json()
    twin = upload(b_member, CONTENT, name="q3.csv", title="t").json()
    # Same answer as for content B never saw: same keys, same shape, no hint of A.
    assert set(twin) == set(fresh) and twin["sha256"] == sha(CONTENT)
    assert b_member.get("/api/v1/documents/stats/").json()["blobs"] == 2
    assert len([f for f in stored_files(media_root) if f.endswith(sha(CONTENT))]) == 2

    b_admin.delete(f"/api/v1/documents/{twin['id']}/")
    with tenant_context(tenant_b):
        assert blob_orphans_purge() == 1
    with tenant_context(tenant_a):
        assert Blob.objects.get(sha256=sha(CONTENT)).ref_count == 1
    a = api_client_for(tenant_a, role="member")
    response = a.get(f"/api/v1/documents/{alpha_document['id']}/download/")
    a.credentials()
    link = urlsplit(response["Location"])
    assert a.get(f"{link.path}?{link.query}").getvalue() == CONTENT
