"""Where blob bytes live, and the links that hand them out.

Everything goes through Django's storage API, the `documents` alias of STORAGES: the
local filesystem (MEDIA_ROOT) by default, any S3-compatible store through
django-storages when `DOCUMENTS_STORAGE=s3`. Paths are `<schema>/ab/cd/<sha256>`: the
schema keeps tenants apart on disk and in the bucket, the two shard levels keep
directories small (65,536 of them per tenant at most).

Download links are signed and expire after DOWNLOAD_URL_TTL seconds:
- S3: a presigned URL of the store itself, carrying the attachment disposition and
  content type, so the bytes never pass through the application;
- filesystem: `/api/v1/documents/<id>/content/?expires=&signature=` on the tenant's
  own host, an HMAC (SECRET_KEY) over the schema, the document, its content and the
  expiry; the schema inside the signature is what makes the link fail on another
  tenant's host.
"""

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from core.tenancy import current_schema

from .exceptions import LinkExpired, LinkInvalid
from .models import Blob, Document

CHUNK_SIZE = 64 * 1024
_SIGNATURE_SALT = "documents.download"


def blob_storage() -> Storage:
    return storages["documents"]


def blob_path(sha256: str, schema: str | None = None) -> str:
    return f"{schema or current_schema()}/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def content_hash(file: File) -> tuple[str, int]:
    """SHA-256 and size of a file, read in chunks (never whole into memory)."""
    digest, size = hashlib.sha256(), 0
    file.seek(0)
    for chunk in file.chunks(CHUNK_SIZE):
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    return digest.hexdigest(), size


def stored_hash(blob: Blob, schema: str | None = None) -> tuple[str, int] | None:
    """SHA-256 and size of the bytes stored for a blob, or None when they are missing."""
    storage, path = blob_storage(), blob_path(blob.sha256, schema)
    if not storage.exists(path):
        return None
    with storage.open(path, "rb") as stored:
        return content_hash(File(stored))


@dataclass(frozen=True)
class DownloadLink:
    url: str
    expires_at: datetime


def _signature(document: Document, expires: int) -> str:
    message = f"{current_schema()}:{document.pk}:{document.blob.sha256}:{expires}"
    return salted_hmac(_SIGNATURE_SALT, message, algorithm="sha256").hexdigest()


def attachment_disposition(name: str) -> str:
    # RFC 6266: an ASCII fallback and the exact name in UTF-8.
    fallback = name.encode("ascii", "replace").decode().replace('"', "'").replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def download_link(document: Document, *, base_url: str) -> DownloadLink:
    ttl = settings.DOWNLOAD_URL_TTL
    expires = int(time.time()) + ttl
    expires_at = datetime.fromtimestamp(expires, tz=UTC)
    storage = blob_storage()
    if isinstance(storage, FileSystemStorage):
        path = reverse("document-content", kwargs={"pk": document.pk})
        query = urlencode({"expires": expires, "signature": _signature(document, expires)})
        return DownloadLink(url=f"{base_url}{path}?{query}", expires_at=expires_at)
    parameters = {
        "ResponseContentDisposition": attachment_disposition(document.name),
        "ResponseContentType": document.content_type,
    }
    url = storage.url(blob_path(document.blob.sha256), parameters=parameters, expire=ttl)  # type: ignore[call-arg]
    return DownloadLink(url=url, expires_at=expires_at)


def download_link_check(document: Document, *, expires: str, signature: str) -> None:
    """Raise LinkInvalid or LinkExpired (403) unless (expires, signature) were issued for this document on
    this tenant's host and have not expired. The signature is checked first, so an
    expired link reveals nothing a forged one would not."""
    if not expires.isascii() or not expires.isdigit() or len(expires) > 12:
        raise LinkInvalid()
    if not constant_time_compare(signature, _signature(document, int(expires))):
        raise LinkInvalid()
    if int(expires) < time.time():
        raise LinkExpired()
