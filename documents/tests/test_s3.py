"""The S3 path, against a real S3-compatible server on loopback: moto's server mode,
started here on a free port and stopped at the end of the module.

moto serves S3's API over HTTP (buckets, objects, presigned GETs with response header
overrides) but does not check signatures or expiry; S3 does. So the presigned link's
expiry and signature are asserted on the URL itself, and the bytes and headers on what
the server answers for it.
"""

import socket
import urllib.request
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context
from moto.server import ThreadedMotoServer

from documents.models import Blob
from documents.services import blob_orphans_purge
from documents.tests.helpers import sha, upload

pytestmark = pytest.mark.django_db
BUCKET = "tessera-test-documents"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def s3_endpoint():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, **CREDENTIALS).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


@pytest.fixture
def s3_storage(settings, s3_endpoint):
    settings.DOWNLOAD_URL_TTL = 120
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": CREDENTIALS["region_name"],
                "access_key": CREDENTIALS["aws_access_key_id"],
                "secret_key": CREDENTIALS["aws_secret_access_key"],
                "file_overwrite": True,
                "default_acl": None,
                "querystring_expire": 120,
                "signature_version": "s3v4",
            },
        },
    }
    return boto3.client("s3", endpoint_url=s3_endpoint, **CREDENTIALS)


def keys(client) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_upload_dedup_presigned_download_and_purge_on_s3(api_client_for, tenant_a, tenant_b, s3_storage):
    content = b"stored in a bucket\n" * 1000
    digest = sha(content)
    a, b = api_client_for(tenant_a, role="admin"), api_client_for(tenant_b, role="admin")
    first = upload(a, content, name="bucket report.csv", content_type="text/csv").json()
    upload(a, content, name="again.csv")
    upload(b, content, name="theirs.csv")
    assert keys(s3_storage) == sorted(
        f"{tenant.schema_name}/{digest[:2]}/{digest[2:4]}/{digest}" for tenant in (tenant_a, tenant_b)
    )

    response = a.get(f"/api/v1/documents/{first['id']}/download/")
    assert response.status_code == 302
    link = urlsplit(response["Location"])
    query = parse_qs(link.query)
    assert link.path == f"/{BUCKET}/{tenant_a.schema_name}/{digest[:2]}/{digest[2:4]}/{digest}"
    assert query["X-Amz-Expires"] == ["120"] and query["X-Amz-Signature"][0]
    with urllib.request.urlopen(response["Location"], timeout=10) as fetched:
        assert fetched.read() == content
        assert fetched.headers["Content-Type"] == "text/csv"
        assert fetched.headers["Content-Disposition"] == (
            "attachment; filename=\"bucket report.csv\"; filename*=UTF-8''bucket%20report.csv"
        )

    for document in a.get("/api/v1/documents/").json()["results"]:
        a.delete(f"/api/v1/documents/{document['id']}/")
    with tenant_context(tenant_a):
        assert blob_orphans_purge() == 1 and not Blob.objects.exists()
    assert keys(s3_storage) == [f"{tenant_b.schema_name}/{digest[:2]}/{digest[2:4]}/{digest}"]


def test_documents_verify_reads_s3(tenant_a, s3_storage, api_client_for):
    upload(api_client_for(tenant_a, role="member"), b"verify me on s3")
    out = StringIO()
    call_command("documents_verify", "--tenant", tenant_a.slug, stdout=out)
    assert "alpha: 1 blob(s), 0 problem(s)" in out.getvalue()
