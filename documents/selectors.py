"""Every read of documents."""

from django.db.models import Count, Q, QuerySet, Sum

from .models import Blob, Document


def document_list() -> QuerySet[Document]:
    return Document.objects.select_related("blob")


def document_stats() -> dict[str, int]:
    """What the tenant stores: documents and their logical bytes (as if each were stored
    on its own) beside blobs and the bytes actually stored. Orphans awaiting the purge
    are counted: their bytes are still on disk."""
    documents = Document.objects.aggregate(count=Count("pk"), total=Sum("size"))
    blobs = Blob.objects.aggregate(count=Count("pk"), total=Sum("size"), orphans=Count("pk", filter=Q(ref_count=0)))
    return {
        "documents": documents["count"],
        "blobs": blobs["count"],
        "orphan_blobs": blobs["orphans"],
        "logical_bytes": documents["total"] or 0,
        "stored_bytes": blobs["total"] or 0,
    }


def stored_bytes() -> int:
    return Blob.objects.aggregate(total=Sum("size"))["total"] or 0


def document_count() -> int:
    return Document.objects.count()
