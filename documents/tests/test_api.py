"""The documents HTTP contract: upload, list, edit, delete, download, stats, limits."""

from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from documents.models import Blob, Document
from documents.services import blob_orphans_purge
from documents.tests.helpers import sha, stored_files, upload

pytestmark = pytest.mark.django_db


def follow(client, response):
    """GET the signed link a download answered with (no token: the link is the credential)."""
    client.credentials()
    url = urlsplit(response["Location"])
    return client.get(f"{url.path}?{url.query}")


def test_upload_answers_201_with_the_document(api_client_for, tenant_a, media_root, platform):
    member = api_client_for(tenant_a, role="member")
    response = upload(member, b"hello, tessera\n", name="notes.txt", title="Notes", tags=["q4", "ops"])
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "notes.txt" and body["title"] == "Notes" and body["tags"] == ["q4", "ops"]
    assert body["size"] == 15 and body["content_type"] == "text/plain" and body["sha256"] == sha(b"hello, tessera\n")
    assert body["created_by"]["email"] == platform.user(tenant_a, "member").email
    assert body["download_url"] == f"http://{tenant_a.slug}.localhost/api/v1/documents/{body['id']}/download/"
    assert stored_files(media_root) == [
        f"{tenant_a.schema_name}/{body['sha256'][:2]}/{body['sha256'][2:4]}/{body['sha256']}"
    ]


def test_same_content_twice_is_stored_once_and_stats_show_the_saving(api_client_for, tenant_a, media_root):
    member = api_client_for(tenant_a, role="member")
    first = upload(member, b"x" * 1000, name="a.bin").json()
    second = upload(member, b"x" * 1000, name="b.bin").json()
    assert first["id"] != second["id"] and first["sha256"] == second["sha256"]
    with tenant_context(tenant_a):
        assert Blob.objects.get(sha256=first["sha256"]).ref_count == 2
    assert len(stored_files(media_root)) == 1
    stats = member.get("/api/v1/documents/stats/").json()
    assert stats == {"documents": 2, "blobs": 1, "orphan_blobs": 0, "logical_bytes": 2000, "stored_bytes": 1000}
    usage = member.get("/api/v1/tenant/").json()["usage"]
    assert usage["documents"] == 2 and usage["storage_bytes"] == 1000


def test_list_filters_search_and_ordering(api_client_for, tenant_a, media_root):
    member = api_client_for(tenant_a, role="member")
    upload(member, b"one", name="invoice-1.pdf", content_type="application/pdf", tags=["finance"])
    upload(member, b"two", name="photo.png", content_type="image/png", title="Dock photo", tags=["site", "finance"])
    upload(member, b"three", name="readme.txt")

    def names(query):
        response = member.get(f"/api/v1/documents/?{query}")
        assert response.status_code == 200, response.content
        return [row["name"] for row in response.json()["results"]]

    assert names("tag=finance&ordering=name") == ["invoice-1.pdf", "photo.png"]
    assert names("content_type=image/png") == ["photo.png"]
    assert names("search=dock") == ["photo.png"]
    assert names(f"sha256={sha(b'three')}") == ["readme.txt"]
    assert names("ordering=-size,name") == ["readme.txt", "invoice-1.pdf", "photo.png"]
    assert member.get("/api/v1/documents/?ordering=sha256").status_code == 400


def test_metadata_update_changes_metadata_only(api_client_for, tenant_a, media_root):
    member = api_client_for(tenant_a, role="member")
    created = upload(member, b"v1", name="plan.txt").json()
    response = member.patch(
        f"/api/v1/documents/{created['id']}/", {"title": "Plan", "tags": ["a", "a", " b "], "name": "../../etc/x.txt"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["title"] == "Plan" and body["tags"] == ["a", "b"] and body["name"] == "x.txt"
    assert body["sha256"] == created["sha256"] and body["size"] == 2
    assert member.put(f"/api/v1/documents/{created['id']}/", {"title": "x"}).status_code == 405


def test_delete_keeps_bytes_until_the_last_document_and_the_purge(api_client_for, tenant_a, media_root):
    member, admin = api_client_for(tenant_a, role="member"), api_client_for(tenant_a, role="admin")
    one, two = upload(member, b"shared").json(), upload(member, b"shared").json()
    assert admin.delete(f"/api/v1/documents/{one['id']}/").status_code == 204
    assert member.get(f"/api/v1/documents/{one['id']}/").status_code == 404
    assert follow(member, member.get(f"/api/v1/documents/{two['id']}/download/")).getvalue() == b"shared"
    admin.delete(f"/api/v1/documents/{two['id']}/")
    assert admin.get("/api/v1/documents/stats/").json()["orphan_blobs"] == 1
    assert len(stored_files(media_root)) == 1  # an orphan keeps its bytes until the purge
    with tenant_context(tenant_a):
        assert blob_orphans_purge() == 1
        assert not Blob.objects.exists()
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    ("role", "upload_status", "edit_other_status", "delete_status"),
    [("viewer", 403, 403, 403), ("member", 201, 403, 403), ("manager", 201, 200, 403), ("admin", 201, 200, 204)],
)
def test_roles(api_client_for, tenant_a, media_root, role, upload_status, edit_other_status, delete_status):
    owner = api_client_for(tenant_a, role="owner")
    theirs = upload(owner, b"owner's").json()
    client = api_client_for(tenant_a, role=role)
    assert client.get("/api/v1/documents/").status_code == 200
    assert client.get(f"/api/v1/documents/{theirs['id']}/download/").status_code == 302
    assert upload(client, f"by {role}".encode()).status_code == upload_status
    assert client.patch(f"/api/v1/documents/{theirs['id']}/", {"title": "t"}).status_code == edit_other_status
    assert client.delete(f"/api/v1/documents/{theirs['id']}/").status_code == delete_status


def test_member_edits_own_document(api_client_for, tenant_a, media_root):
    member = api_client_for(tenant_a, role="member")
    mine = upload(member, b"mine").json()
    assert member.patch(f"/api/v1/documents/{mine['id']}/", {"title": "Mine"}).status_code == 200


def test_anonymous_is_401(api_client_for, tenant_a, media_root):
    anonymous = api_client_for(tenant_a)
    assert anonymous.get("/api/v1/documents/").status_code == 401
    assert upload(anonymous, b"x").status_code == 401


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "file"),
        ({"file": SimpleUploadedFile("empty.txt", b"")}, "file"),
        ({"file": "not a file"}, "file"),
        ({"title": "t" * 201}, "title"),
        ({"tags": ["x" * 51]}, "tags"),
        ({"tags": [f"t{n}" for n in range(21)]}, "tags"),
        ({"tags": ["bad\x07tag"]}, "tags"),
        ({"tags": [""]}, "tags"),
    ],
)
def test_bad_upload_is_400_naming_the_field_and_stores_nothing(api_client_for, tenant_a, media_root, fields, field):
    member = api_client_for(tenant_a, role="member")
    if "file" not in fields and field != "file":
        fields = {"file": SimpleUploadedFile("ok.txt", b"fine"), **fields}
    response = member.post("/api/v1/documents/", fields, format="multipart")
    assert response.status_code == 400 and field in response.json(), response.content
    with tenant_context(tenant_a):
        assert not Document.objects.exists() and not Blob.objects.exists()
    assert stored_files(media_root) == []


def test_two_files_in_one_upload_is_400(api_client_for, tenant_a, media_root):
    member = api_client_for(tenant_a, role="member")
    files = [SimpleUploadedFile("a.txt", b"a"), SimpleUploadedFile("b.txt", b"b")]
    response = member.post("/api/v1/documents/", {"file": files}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()
    assert stored_files(media_root) == []


def test_upload_as_json_is_415(api_client_for, tenant_a):
    member = api_client_for(tenant_a, role="member")
    assert member.post("/api/v1/documents/", {"file": "aGVsbG8="}, format="json").status_code == 415


def test_bad_metadata_update_is_400_and_changes_nothing(api_client_for, tenant_a, media_root):
    member = api_client_for(tenant_a, role="member")
    created = upload(member, b"keep", title="Kept").json()
    for body, field in [({"title": "t" * 201}, "title"), ({"tags": "a,b"}, "tags"), ({"name": ""}, "name")]:
        response = member.patch(f"/api/v1/documents/{created['id']}/", body)
        assert response.status_code == 400 and field in response.json(), response.content
    assert member.get(f"/api/v1/documents/{created['id']}/").json()["title"] == "Kept"
    missing = "00000000-0000-4000-8000-000000000000"
    assert member.get(f"/api/v1/documents/{missing}/").status_code == 404
    assert member.patch(f"/api/v1/documents/{missing}/", {"title": "x"}).status_code == 404


def test_file_names_are_sanitised(api_client_for, tenant_a, media_root):
    member = api_client_for(tenant_a, role="member")
    cases = {
        "..\\..\\windows\\evil.exe": "evil.exe",
        "/etc/passwd": "passwd",
        "in\x00voice\x1b[31m.pdf": "invoice[31m.pdf",
        "...hidden": "hidden",
        "a" * 300 + ".pdf": "a" * 251 + ".pdf",
    }
    for sent, kept in cases.items():
        body = upload(member, sent.encode(), name=sent).json()
        assert body["name"] == kept, (sent, body)


def test_download_redirects_to_a_signed_attachment(api_client_for, tenant_a, media_root):
    member = api_client_for(tenant_a, role="member")
    created = upload(member, b"<script>alert(1)</script>", name="page.html", content_type="text/html").json()
    response = member.get(f"/api/v1/documents/{created['id']}/download/")
    assert response.status_code == 302 and response.json()["url"] == response["Location"]
    assert response["Location"].startswith(
        f"http://{tenant_a.slug}.localhost/api/v1/documents/{created['id']}/content/"
    )
    content = follow(member, response)
    assert content.status_code == 200 and content.getvalue() == b"<script>alert(1)</script>"
    assert content["Content-Type"] == "text/html"
    assert content["Content-Disposition"] == "attachment; filename=\"page.html\"; filename*=UTF-8''page.html"
    assert content["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in content["Content-Security-Policy"]


def test_tampered_or_expired_link_is_403(api_client_for, tenant_a, media_root, settings):
    member = api_client_for(tenant_a, role="member")
    created = upload(member, b"secret").json()
    location = urlsplit(member.get(f"/api/v1/documents/{created['id']}/download/")["Location"])
    member.credentials()
    tampered = location.query.replace("signature=", "signature=0")
    assert member.get(f"{location.path}?{tampered}").json()["code"] == "invalid_signature"
    later = location.query.replace("expires=", "expires=9")
    assert member.get(f"{location.path}?{later}").status_code == 403
    assert member.get(location.path).status_code == 403
    settings.DOWNLOAD_URL_TTL = -1
    member = api_client_for(tenant_a, role="member")
    expired = follow(member, member.get(f"/api/v1/documents/{created['id']}/download/"))
    assert expired.status_code == 403 and expired.json()["code"] == "link_expired"


def test_upload_over_the_limit_is_413_and_stores_nothing(api_client_for, tenant_a, media_root, settings):
    settings.MAX_UPLOAD_BYTES = 1000
    member = api_client_for(tenant_a, role="member")
    assert upload(member, b"x" * 1000).status_code == 201
    response = upload(member, b"y" * 1001)
    assert response.status_code == 413 and response.json()["code"] == "file_too_large"
    with tenant_context(tenant_a):
        assert Document.objects.count() == 1
    assert len(stored_files(media_root)) == 1


def test_writes_are_audited(api_client_for, tenant_a, media_root):
    member, admin = api_client_for(tenant_a, role="member"), api_client_for(tenant_a, role="admin")
    created = upload(member, b"audited", name="a.txt").json()
    member.patch(f"/api/v1/documents/{created['id']}/", {"title": "Audited"})
    admin.delete(f"/api/v1/documents/{created['id']}/")
    with tenant_context(tenant_a):
        events = {e.action: e for e in AuditEvent.objects.filter(object_id=created["id"])}
    assert set(events) == {"document.uploaded", "document.updated", "document.deleted"}
    assert events["document.uploaded"].changes["sha256"] == sha(b"audited")
    assert events["document.updated"].changes["title"] == ["", "Audited"]


def test_upload_with_idempotency_key_replays_and_works_past_the_memory_limit(
    api_client_for, tenant_a, media_root, settings
):
    """A retried upload (new multipart boundary, same file) gets the first answer; the
    body is fingerprinted from a temporary file, so uploads larger than
    DATA_UPLOAD_MAX_MEMORY_SIZE take a key too."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    member = api_client_for(tenant_a, role="member")
    content = bytes(range(256)) * 40  # 10 KiB, ten times the in-memory limit
    first = upload(member, content, name="big.bin", headers={"Idempotency-Key": "upload-1"})
    again = upload(member, content, name="big.bin", headers={"Idempotency-Key": "upload-1"})
    assert first.status_code == again.status_code == 201, first.content
    assert again.json()["id"] == first.json()["id"] and again["Idempotent-Replayed"] == "true"
    other = upload(member, content + b"!", name="big.bin", headers={"Idempotency-Key": "upload-1"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    with tenant_context(tenant_a):
        assert Document.objects.count() == 1
