"""Helpers for the documents tests: plain functions, import them."""

import hashlib

from django.core.files.uploadedfile import SimpleUploadedFile


def stored_files(root) -> list[str]:
    """Every file under a storage directory, relative to it."""
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def upload(client, content: bytes, name: str = "report.txt", content_type: str = "text/plain", headers=None, **fields):
    """POST a multipart upload as a client would."""
    file = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post("/api/v1/documents/", {"file": file, **fields}, format="multipart", headers=headers)
