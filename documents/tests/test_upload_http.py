"""Uploads over real HTTP (gunicorn), where a client can lie about or abandon a body:
the cases Django's test client cannot produce."""

import socket
import time
import uuid
from urllib.parse import urlsplit

import pytest
from django.db import connections
from django_tenants.utils import tenant_context

from accounts.tokens import tokens_issue
from documents.models import Blob, Document
from tenants.services import tenant_delete, tenant_provision
from testing.helpers import PASSWORD
from testing.processes import child_env, gunicorn

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
LIMIT = 1_000_000


@pytest.fixture(scope="module")
def epsilon(platform, django_db_blocker, tmp_path_factory):
    """A committed tenant of this module's own (the server's writes must not reach the
    shared tenants), and a server with a 1 MB upload limit and its own temporary dir."""
    temp = tmp_path_factory.mktemp("uploads")
    with django_db_blocker.unblock():
        result = tenant_provision(
            slug="epsilon", name="Epsilon", owner_email="owner@epsilon.test", owner_password=PASSWORD
        )
        token = tokens_issue(user=result.owner, tenant=result.tenant)["access"]
        env = child_env(MAX_UPLOAD_BYTES=str(LIMIT), FILE_UPLOAD_TEMP_DIR=str(temp))
        with gunicorn(env) as base:
            yield {"tenant": result.tenant, "token": token, "base": base, "temp": temp}
        connections.close_all()
        tenant_delete(tenant=result.tenant, drop_schema=True)


def send(epsilon, body: bytes, *, declared: int, boundary: str, close_after: bool = False) -> bytes:
    """POST a multipart body over a raw socket; returns what the server answered (or
    b"" when the client hangs up first)."""
    url = urlsplit(epsilon["base"])
    head = (
        f"POST /api/v1/documents/ HTTP/1.1\r\nHost: epsilon.localhost\r\n"
        f"Authorization: Bearer {epsilon['token']}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {declared}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(head + body)
        if close_after:
            return b""
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def part(boundary: str, content: bytes) -> bytes:
    return (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + content


def stored(epsilon) -> tuple[int, int, int]:
    """Documents, blobs and temporary upload files: what a failed upload must not add to."""
    with tenant_context(epsilon["tenant"]):
        return Document.objects.count(), Blob.objects.count(), len(list(epsilon["temp"].iterdir()))


def test_declared_body_over_the_limit_is_413_before_it_is_read(epsilon):
    before = stored(epsilon)
    boundary = uuid.uuid4().hex
    answer = send(epsilon, part(boundary, b"x" * 1000), declared=50 * LIMIT, boundary=boundary)
    assert answer.startswith(b"HTTP/1.1 413") and b'"code":"file_too_large"' in answer
    assert stored(epsilon) == before


def test_body_larger_than_declared_limit_is_cut_at_the_limit(epsilon):
    """A client declaring a small length cannot stream more than it declared, and one
    declaring exactly a bit over the limit is stopped once the bytes pass it."""
    before = stored(epsilon)
    boundary = uuid.uuid4().hex
    body = part(boundary, b"y" * (LIMIT + 10)) + f"\r\n--{boundary}--\r\n".encode()
    answer = send(epsilon, body, declared=len(body), boundary=boundary)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert stored(epsilon) == before


def test_abandoned_upload_leaves_nothing(epsilon):
    before = stored(epsilon)
    boundary = uuid.uuid4().hex
    body = part(boundary, b"z" * 300_000)
    send(epsilon, body, declared=len(body) + 500_000, boundary=boundary, close_after=True)
    time.sleep(1)  # the worker notices the hang-up
    assert stored(epsilon) == before


def test_complete_upload_over_http_is_stored(epsilon):
    documents, blobs, _ = stored(epsilon)
    boundary = uuid.uuid4().hex
    body = part(boundary, b"w" * 200_000) + f"\r\n--{boundary}--\r\n".encode()
    answer = send(epsilon, body, declared=len(body), boundary=boundary)
    assert answer.startswith(b"HTTP/1.1 201"), answer[:300]
    assert stored(epsilon) == (documents + 1, blobs + 1, 0)


def test_truncated_body_is_400_and_leaves_nothing(epsilon):
    """The body ends (the client half-closes) before the declared length: the part has
    no closing boundary, so no file was received."""
    before = stored(epsilon)
    boundary = uuid.uuid4().hex
    body = part(boundary, b"t" * 300_000)
    answer = send(epsilon, body, declared=len(body) + 500_000, boundary=boundary)
    assert answer.startswith(b"HTTP/1.1 400") and b'"file"' in answer, answer[:300]
    assert stored(epsilon) == before
