"""factory_boy factories; call them inside the tenant's schema (`with tenant_context(t):`).

Documents are made through `document_upload`, so their blobs, reference counts, stored
bytes and audit events are real: they can only be created, not built.
"""

import factory
from django.core.files.base import ContentFile

from documents import services
from documents.models import Document


class DocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Document

    name = factory.Sequence(lambda n: f"file-{n}.txt")
    title = ""
    tags: list[str] = []
    content = factory.Sequence(lambda n: f"content {n}\n".encode())
    content_type = "text/plain"
    actor = None

    @classmethod
    def _create(cls, model_class, *, content, name, actor, **fields):
        return services.document_upload(file=ContentFile(content, name=name), actor=actor, **fields)

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise NotImplementedError("Documents are made by document_upload: use DocumentFactory(), not .build().")
