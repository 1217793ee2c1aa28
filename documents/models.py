"""Uploaded documents and their content-addressed blobs (tenant schemas).

A blob is content, named by its SHA-256 and stored once per tenant; a document is a
name, a title and tags pointing at a blob. The blob's `ref_count` is the number of
documents that point at it, kept by the services under the blob's row lock (the
database holds it at zero or more). A blob at zero is an orphan: its bytes stay until
`blob_orphans_purge` removes them, so a delete racing an upload of the same content
never takes the bytes from under the upload.

Because the schema is the tenant boundary, two tenants' identical uploads are two
blobs, two rows and two files: nothing is shared across tenants, not even a hash.
"""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from core.models import UUIDModel

NAME_MAX_LENGTH = 255
TITLE_MAX_LENGTH = 200
TAG_MAX_LENGTH = 50
TAGS_MAX = 20


class Blob(models.Model):
    sha256 = models.CharField(max_length=64, unique=True)
    size = models.BigIntegerField()
    ref_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(size__gte=0), name="blob_size_not_negative")]
        indexes = [models.Index(fields=["ref_count"], condition=Q(ref_count=0), name="blob_orphans")]

    def __str__(self):
        return self.sha256


class Document(UUIDModel):
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="documents")
    name = models.CharField(max_length=NAME_MAX_LENGTH, help_text="The file name, sanitised.")
    title = models.CharField(max_length=TITLE_MAX_LENGTH, blank=True)
    tags = ArrayField(models.CharField(max_length=TAG_MAX_LENGTH), size=TAGS_MAX, default=list, blank=True)
    content_type = models.CharField(max_length=100)
    size = models.BigIntegerField(help_text="The blob's size, kept here so lists and sums need no join.")
    created_by_id = models.UUIDField(null=True, blank=True)
    created_by_email = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"]), models.Index(fields=["name"])]

    def __str__(self):
        return self.name

    @property
    def sha256(self) -> str:
        return self.blob.sha256
