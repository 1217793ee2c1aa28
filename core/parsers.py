"""Request body parsers that bound what they read (DEFAULT_PARSER_CLASSES).

DRF's JSON and form parsers read the whole body, whatever its size: Django applies
DATA_UPLOAD_MAX_MEMORY_SIZE only when `request.body` or `request.POST` is read, and DRF
reads the stream instead. And `json.load` recurses once per nesting level, so a
100,000-deep `[[[...]]]` ends in a RecursionError, a 500, before any view code runs.
Here:

- a body over DATA_UPLOAD_MAX_MEMORY_SIZE answers 413 `request_too_large`, judged on
  the declared Content-Length before anything is read;
- JSON nested deeper than JSON_MAX_DEPTH (default 32) answers 400 `parse_error`, like
  any other unreadable JSON.

The API takes JSON only (DEFAULT_PARSER_CLASSES): other media types answer 415. An
upload endpoint names DRF's MultiPartParser itself; Django's multipart parser applies
the same setting to everything but the files (whose limit is the documents app's).
"""

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

from core.errors import RequestTooLarge

DEFAULT_JSON_MAX_DEPTH = 32


def read_bounded(stream, parser_context: dict | None) -> bytes:
    """The body, refused with 413 when it is (or says it is) over the limit."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None:
        return stream.read()
    request = (parser_context or {}).get("request")
    meta = request.META if request is not None else {}
    try:
        declared = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
    return body


def nested_deeper_than(data, limit: int) -> bool:
    """Whether `data` has more than `limit` levels of arrays and objects. Iterative, so
    the check itself cannot overflow the stack."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = getattr(settings, "JSON_MAX_DEPTH", DEFAULT_JSON_MAX_DEPTH)
        encoding = parsers.get_encoding(parser_context or {})  # text codecs only
        body = read_bounded(stream, parser_context)
        too_deep = ParseError(f"JSON parse error - nested deeper than {limit} levels.")
        try:
            data = json.loads(body.decode(encoding), parse_constant=json.strict_constant if self.strict else None)
        except RecursionError:
            raise too_deep from None
        except ValueError as exc:  # UnicodeDecodeError included
            raise ParseError(f"JSON parse error - {exc}") from None
        if isinstance(data, dict | list) and nested_deeper_than(data, limit):
            raise too_deep
        return data
