"""Receiving an upload: straight to a temporary file, hashed on the way, bounded.

Django's default handlers keep a small upload in memory and a large one in a temporary
file, and hash nothing. `HashingUploadHandler` writes every chunk (64 KiB) to a
temporary file while feeding SHA-256, so memory stays flat whatever the size, the
hash is known when the body ends, and the service never reads the bytes again.

The limit (MAX_UPLOAD_BYTES) is checked twice: on the declared Content-Length before
anything is read, and on the bytes as they arrive (a client may declare nothing, or
lie). Over it, the temporary file is removed at once and the request answers 413; a
body that ends early (the client went away) leaves the parser with an error and the
temporary file is removed the same way, so no partial file survives either.
"""

import hashlib

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from .exceptions import FileTooLarge

# Room for the multipart framing and the small fields (title, tags) around the file.
MULTIPART_OVERHEAD = 64 * 1024


def too_large() -> FileTooLarge:
    return FileTooLarge(f"The file is larger than {settings.MAX_UPLOAD_BYTES} bytes.")


class HashedUpload(TemporaryUploadedFile):
    sha256: str = ""


class HashingUploadHandler(FileUploadHandler):
    chunk_size = 64 * 1024

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):  # noqa: N803 - Django's name
        if content_length and content_length > settings.MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD:
            raise too_large()

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.file = HashedUpload(self.file_name, self.content_type, 0, self.charset, self.content_type_extra)
        self.digest = hashlib.sha256()
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.MAX_UPLOAD_BYTES:
            self.upload_interrupted()
            raise too_large()
        self.digest.update(raw_data)
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size):
        self.file.seek(0)
        self.file.size = file_size
        self.file.sha256 = self.digest.hexdigest()
        return self.file

    def upload_interrupted(self):
        if hasattr(self, "file"):
            self.file.close()  # a NamedTemporaryFile: closing removes it
