"""The documents rules, driven through the services directly (no HTTP)."""

import pytest
from django.core.files.base import ContentFile
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from documents import services
from documents.exceptions import InvalidUpload
from documents.models import Blob, Document
from documents.selectors import document_stats
from documents.storage import stored_hash
from documents.tests.helpers import sha, stored_files

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\evil.exe", "evil.exe"),
        ("\x00\x1b[2Jnote.txt", "[2Jnote.txt"),
        ("zero\u200bwidth.txt", "zerowidth.txt"),
        ("  ..hidden  ", "hidden"),
        ("multiple   spaces.txt", "multiple spaces.txt"),
        ("", "file"),
        ("...", "file"),
        ("e\u0301t\u00e9.txt", "\u00e9t\u00e9.txt"),  # NFC: one form for the same name
        ("x" * 300 + ".tar.gz", "x" * 252 + ".gz"),
        ("y" * 300 + "." + "z" * 40, "y" * 255),  # an "extension" that long is not one
    ],
)
def test_file_name_clean(raw, clean):
    assert services.file_name_clean(raw) == clean


def upload(content: bytes, name: str = "f.txt"):
    return services.document_upload(file=ContentFile(content, name=name), actor=None)


def test_upload_counts_references_and_stores_bytes_once(tenant_a, media_root):
    with tenant_context(tenant_a):
        first, second = upload(b"same"), upload(b"same", "other.txt")
        assert first.blob_id == second.blob_id and Blob.objects.get().ref_count == 2
        assert stored_hash(first.blob) == (sha(b"same"), 4)
        assert document_stats() == {
            "documents": 2,
            "blobs": 1,
            "orphan_blobs": 0,
            "logical_bytes": 8,
            "stored_bytes": 4,
        }
    assert len(stored_files(media_root)) == 1


def test_empty_content_is_refused_and_leaves_nothing(tenant_a, media_root):
    with tenant_context(tenant_a), pytest.raises(InvalidUpload):
        upload(b"")
    with tenant_context(tenant_a):
        assert not Blob.objects.exists()
    assert stored_files(media_root) == []


def test_a_failure_after_the_bytes_are_written_removes_them(tenant_a, media_root):
    """The document row fails (a name too long for its column, bypassing the
    sanitiser): the transaction rolls back and the new bytes go with it."""
    with tenant_context(tenant_a):
        with pytest.raises(Exception):  # noqa: B017 - the database's own error
            services.document_upload(file=ContentFile(b"doomed", name="d.txt"), actor=None, content_type="x" * 500)
        assert not Blob.objects.exists() and not Document.objects.exists()
    assert stored_files(media_root) == []


def test_delete_to_zero_leaves_an_orphan_for_the_purge(tenant_a, media_root):
    with tenant_context(tenant_a):
        document = upload(b"bye")
        services.document_delete(document=document, actor=None)
        assert Blob.objects.get().ref_count == 0 and document_stats()["orphan_blobs"] == 1
        assert len(stored_files(media_root)) == 1
        assert services.blob_orphans_purge() == 1
        assert services.blob_orphans_purge() == 0
    assert stored_files(media_root) == []


def test_orphan_is_revived_by_a_new_upload(tenant_a, media_root):
    with tenant_context(tenant_a):
        services.document_delete(document=upload(b"again"), actor=None)
        revived = upload(b"again")
        assert revived.blob.ref_count == 1 and services.blob_orphans_purge() == 0
        assert stored_hash(revived.blob) == (sha(b"again"), 5)


def test_update_sanitises_the_name_and_records_only_changes(tenant_a, media_root):
    with tenant_context(tenant_a):
        document = upload(b"meta", "a.txt")
        services.document_update(document=document, actor=None, name="dir/b.txt", tags=["x"])
        document.refresh_from_db()
        assert document.name == "b.txt" and document.tags == ["x"]
        event = AuditEvent.objects.filter(action="document.updated").get()
        assert event.changes == {"name": ["a.txt", "b.txt"], "tags": [[], ["x"]]}
        services.document_update(document=document, actor=None, title="")
        assert AuditEvent.objects.filter(action="document.updated").count() == 1
