"""Reference counts under real concurrency: threads with their own connections on real
PostgreSQL, in a tenant of this module's own (committed, dropped afterwards), as in
inventory's concurrency tests."""

import threading

import pytest
from django.core.files.base import ContentFile
from django.db import connections
from django_tenants.utils import tenant_context

from documents.models import Blob, Document
from documents.services import blob_orphans_purge, document_delete, document_upload
from documents.storage import stored_hash
from documents.tests.helpers import sha
from tenants.services import tenant_delete, tenant_provision
from testing.helpers import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def delta(platform, django_db_blocker):
    with django_db_blocker.unblock():
        result = tenant_provision(slug="delta", name="Delta", owner_email="owner@delta.test", owner_password=PASSWORD)
        yield result.tenant
        connections.close_all()
        tenant_delete(tenant=result.tenant, drop_schema=True)


def together(tenant, *actions):
    """Run each action in its own thread and connection, released at the same moment."""
    barrier = threading.Barrier(len(actions))
    errors: list[BaseException] = []

    def run(action):
        try:
            with tenant_context(tenant):
                barrier.wait()
                action()
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors


def test_same_content_uploaded_at_once_is_one_blob_with_two_references(delta):
    content = b"uploaded twice at the same moment"
    upload = lambda: document_upload(file=ContentFile(content, name="twin.txt"), actor=None)  # noqa: E731
    together(delta, upload, upload)
    with tenant_context(delta):
        blob = Blob.objects.get(sha256=sha(content))
        assert blob.ref_count == 2 and Document.objects.filter(blob=blob).count() == 2
        assert stored_hash(blob) == (sha(content), len(content))


def test_deleting_while_a_twin_uploads_never_loses_the_bytes(delta):
    """Each round: the only document of some content is deleted and the orphan purged,
    while the same content is uploaded again. Whatever the order, the new document's
    blob must exist with its bytes, counted once."""
    for round_ in range(15):
        content = f"round {round_}: raced".encode()
        made: list[Document] = []

        def upload_old(made=made, content=content):
            made.append(document_upload(file=ContentFile(content, name="old.txt"), actor=None))

        together(delta, upload_old)
        old = made[0]  # committed by its thread: the test's own transaction would hide it

        def delete_and_purge(document=old):
            document_delete(document=document, actor=None)
            blob_orphans_purge()

        def upload_twin(content=content):
            document_upload(file=ContentFile(content, name="new.txt"), actor=None)

        together(delta, delete_and_purge, upload_twin)
        with tenant_context(delta):
            blob_orphans_purge()  # whatever the race left orphaned
            new = Document.objects.select_related("blob").get(name="new.txt", blob__sha256=sha(content))
            assert new.blob.ref_count == 1, round_
            assert stored_hash(new.blob) == (sha(content), len(content)), round_
