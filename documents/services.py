"""Every write to documents. One transaction each, with its audit record inside.

Reference counting under concurrency. The blob row is the lock:
- an upload takes it with `INSERT ... ON CONFLICT (sha256) DO UPDATE` (one statement:
  it creates the blob or adds a reference, and holds the row until commit). Two uploads
  of the same content queue on it: the second finds the first's bytes stored.
- a delete takes it with SELECT ... FOR UPDATE and removes one reference; at zero the
  blob stays, an orphan, bytes and all.
- `blob_orphans_purge` takes orphans with SKIP LOCKED, removes the bytes, then the row.
  An upload of the same content either ran first (the count is no longer zero, the
  purge skips it) or queues behind the purge and, finding no row, inserts one and
  stores the bytes again.
So a delete racing an upload of its twin can never remove bytes a document points at.

Bytes are written while the row lock is held, before the commit; if the service fails
after writing new bytes, they are removed before the lock is released, so no other
upload can have come to rely on them. If instead the request's own transaction
(core.database) rolls back after the service returned, the new bytes stay without a
row: harmless (the next upload of that content writes them again over the same name),
and `documents_verify` lists them as stray.
"""

import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from django.core.files import File
from django.core.files.storage import FileSystemStorage
from django.db import connection, transaction
from django.db.models import Count

from audit.services import audit_record, diff, snapshot
from core.quotas import quota_reserve
from core.tenancy import current_schema

from .exceptions import InvalidUpload
from .models import NAME_MAX_LENGTH, Blob, Document
from .selectors import stored_bytes
from .storage import blob_path, blob_storage, content_hash, stored_hash

AUDITED = ["name", "title", "tags", "content_type", "size"]
DEFAULT_CONTENT_TYPE = "application/octet-stream"


def _by(actor) -> dict:
    return {"created_by_id": getattr(actor, "pk", None), "created_by_email": getattr(actor, "email", "")}


def file_name_clean(raw: str) -> str:
    """A name safe to store and to send back in Content-Disposition: no directories
    (either slash), no control or format characters, no leading dots or spaces, NFC,
    at most NAME_MAX_LENGTH characters with the extension kept; never empty."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if unicodedata.category(char)[0] not in "CZ" or char == " ")
    name = " ".join(name.split()).lstrip(". ").rstrip(" ")
    if len(name) > NAME_MAX_LENGTH:
        suffix = PurePosixPath(name).suffix
        suffix = suffix if len(suffix) <= 16 else ""
        name = name[: NAME_MAX_LENGTH - len(suffix)].rstrip(" .") + suffix
    return name or "file"


def _blob_reference(*, sha256: str, size: int) -> tuple[Blob, bool]:
    """Create the blob or add a reference to it; the row stays locked until commit."""
    table = connection.ops.quote_name(Blob._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (sha256, size, ref_count, created_at)
            VALUES (%s, %s, 1, now())
            ON CONFLICT (sha256) DO UPDATE SET ref_count = {table}.ref_count + 1
            RETURNING id, (xmax = 0) AS inserted
            """,  # noqa: S608 - the table name is the model's, not input
            [sha256, size],
        )
        pk, inserted = cursor.fetchone()
    return Blob.objects.get(pk=pk), inserted


@transaction.atomic
def document_upload(
    *,
    file: File,
    actor,
    name: str | None = None,
    title: str = "",
    tags: Iterable[str] = (),
    content_type: str = "",
) -> Document:
    """Store `file` as a document. Content this tenant already has is not stored again."""
    sha256 = getattr(file, "sha256", "")
    size = file.size
    if not sha256 or size is None:
        sha256, size = content_hash(file)
    if not size:
        raise InvalidUpload("The file is empty.")
    blob, inserted = _blob_reference(sha256=sha256, size=size)
    if inserted:
        # Only new content takes space: a duplicate is free. The new row is counted in
        # the sum already, so it is taken out of `used`.
        quota_reserve("storage_bytes", used=lambda: stored_bytes() - size, adding=size)
    storage, path = blob_storage(), blob_path(sha256)
    wrote = False
    try:
        if inserted or not storage.exists(path):
            # A new blob, or an orphan whose bytes a purge removed: (re)write them. The
            # storage overwrites (no "_1" suffix): the name is the content.
            file.seek(0)
            saved = storage.save(path, file)
            wrote = True
            if saved != path:
                raise RuntimeError(f"The documents storage renamed {path} to {saved}: it must overwrite.")
        document = Document.objects.create(
            blob=blob,
            name=file_name_clean(name if name is not None else getattr(file, "name", "")),
            title=title,
            tags=list(tags),
            content_type=content_type or DEFAULT_CONTENT_TYPE,
            size=size,
            **_by(actor),
        )
        audit_record(
            action="document.uploaded",
            target=document,
            actor=actor,
            changes={"sha256": sha256, **snapshot(document, AUDITED)},
        )
    except BaseException:
        if wrote:
            storage.delete(path)
        raise
    return document


@transaction.atomic
def document_update(*, document: Document, actor, **fields) -> Document:
    """Change a document's metadata: name, title, tags. The content never changes."""
    before = snapshot(document, AUDITED)
    if "name" in fields:
        fields["name"] = file_name_clean(fields["name"])
    for name, value in fields.items():
        setattr(document, name, value)
    document.save()
    changes = diff(before, snapshot(document, AUDITED))
    if changes:
        audit_record(action="document.updated", target=document, actor=actor, changes=changes)
    return document


@transaction.atomic
def document_delete(*, document: Document, actor) -> None:
    """Delete a document. Its blob loses a reference; at zero it waits for the purge."""
    blob = Blob.objects.select_for_update().get(pk=document.blob_id)
    audit_record(
        action="document.deleted",
        target=document,
        actor=actor,
        changes={"sha256": blob.sha256, **snapshot(document, AUDITED)},
    )
    document.delete()
    blob.ref_count -= 1
    blob.save(update_fields=["ref_count"])


def blob_orphans_purge(*, limit: int = 1000) -> int:
    """Remove up to `limit` blobs no document points at, bytes first, each in its own
    short transaction. Returns how many were removed. The cleanup job's step."""
    removed = 0
    storage = blob_storage()
    while removed < limit:
        with transaction.atomic():
            blob = Blob.objects.select_for_update(skip_locked=True).filter(ref_count=0).order_by("pk").first()
            if blob is None:
                break
            storage.delete(blob_path(blob.sha256))
            blob.delete()
        removed += 1
    return removed


def blob_ref_counts_repair() -> list[tuple[str, int, int]]:
    """Set every blob's ref_count to the number of its documents; returns the
    `(sha256, was, now)` it corrected. For `documents_verify --repair`. Every blob row
    is locked meanwhile, so uploads and deletes wait rather than race the recount."""
    fixed = []
    with transaction.atomic():
        blobs = list(Blob.objects.select_for_update().order_by("pk").values_list("pk", "sha256", "ref_count"))
        actual = dict(Document.objects.values("blob").annotate(n=Count("pk")).values_list("blob", "n"))
        for pk, sha256, ref_count in blobs:
            if ref_count != actual.get(pk, 0):
                fixed.append((sha256, ref_count, actual.get(pk, 0)))
                Blob.objects.filter(pk=pk).update(ref_count=actual.get(pk, 0))
    return fixed


@dataclass
class VerifyReport:
    """What `documents_verify` found in one tenant: each a list of readable lines."""

    blobs: int = 0
    missing: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)
    miscounted: list[str] = field(default_factory=list)
    stray: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [*self.missing, *self.corrupt, *self.miscounted, *self.stray]


def documents_verify(*, repair: bool = False) -> VerifyReport:
    """Check the current tenant's storage against its rows: every blob's bytes exist
    and hash to its name at its size, every blob's ref_count is its number of
    documents, and no stored file lacks a blob. With `repair`, wrong ref counts are set
    right (the rows are the truth). Missing or corrupt bytes cannot be repaired here
    (restore them from a backup); stray files are only reported, because an upload in
    flight has written its bytes before its row commits."""
    report = VerifyReport()
    schema = current_schema()
    known = set()
    for blob in Blob.objects.annotate(documents_count=Count("documents")).order_by("pk").iterator():
        report.blobs += 1
        known.add(blob.sha256)
        found = stored_hash(blob, schema)
        users = f"{blob.documents_count} document(s)"
        if found is None:
            report.missing.append(f"missing: {blob.sha256} ({users}) has no stored bytes")
        elif found != (blob.sha256, blob.size):
            report.corrupt.append(f"corrupt: {blob.sha256} ({users}) hashes to {found[0]}, {found[1]} bytes")
        if blob.ref_count != blob.documents_count:
            report.miscounted.append(
                f"ref_count: {blob.sha256} counts {blob.ref_count}, has {blob.documents_count} document(s)"
            )
    for path in _stored_paths(schema):
        if path.rsplit("/", 1)[-1] not in known:
            report.stray.append(f"stray: {path} has no blob")
    if repair and report.miscounted:
        report.repaired = [f"ref_count: {sha256} {was} -> {now}" for sha256, was, now in blob_ref_counts_repair()]
        report.miscounted = []
    return report


def _stored_paths(schema: str) -> Iterator[str]:
    storage = blob_storage()
    if not storage.exists(schema) and isinstance(storage, FileSystemStorage):
        return
    for first in storage.listdir(schema)[0]:
        for second in storage.listdir(f"{schema}/{first}")[0]:
            for name in storage.listdir(f"{schema}/{first}/{second}")[1]:
                yield f"{schema}/{first}/{second}/{name}"
