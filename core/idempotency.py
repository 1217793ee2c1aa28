"""`Idempotency-Key` on every POST: a retry gets the first answer instead of doing the
work twice. The behaviour of Stripe's API and of the IETF draft "The Idempotency-Key
HTTP Header Field".

Why: a create can commit and then fail to answer (the connection drops while the view
re-reads what it wrote); the client sees a 500, retries, and would create a duplicate.

How `IdempotencyMiddleware` serves a POST carrying `Idempotency-Key: <key>`:

- **Form.** 1 to 255 printable ASCII characters (a UUID is typical), else
  `400 {"code": "idempotency_key_invalid"}`, on every POST.
- **Scope.** The schema being served (each tenant's records live in its own schema,
  the public host's in public) and the authenticated user. The caller is authenticated
  with the view's own authenticators before any record is read, so a stored answer
  only ever goes back to the user it was made for, on the host where it was made (the
  view then authenticates again as usual: one more user-row read, only for keyed POSTs).
  Anonymous calls are served as if they had no key.
- **Not for credentials.** Views with `idempotency_exempt = True` ignore the key (its
  form is still checked): the endpoints that take credentials in the body or answer
  with tokens (login, refresh, sign-up, invitation and password-reset acceptance,
  password change, tenant switch). Storing their answers would keep live tokens at
  rest in a table and hand them out again on replay, past refresh-token rotation and
  reuse detection, throttling and the failed-sign-in record; and each of them is safe
  to retry as it is (a second login is just another session). A future view whose
  answer shows a secret once (a webhook's signing secret) is exempted the same way.
- **One transaction** holds the lookup, the view's writes and the stored answer:
  1. a transaction-scoped advisory lock on (schema, user, key), taken without waiting:
     if a request with that key is still running, `409 {"code":
     "idempotency_key_in_use"}` with `Retry-After: 1`;
  2. a record under 24 hours old with the same fingerprint (SHA-256 of method, path,
     content type and body; a multipart boundary does not count) is replayed: its
     status, body and headers, plus `Idempotent-Replayed: true`; the view does not
     run. Another fingerprint: `422 {"code": "idempotency_key_reused"}`, nothing runs.
     An older record is deleted and the key is new again;
  3. otherwise the view runs inside the transaction (services' atomic blocks become
     savepoints; `transaction.on_commit` side effects wait for the outer commit) and
     its answer is stored before the commit. A write and its stored answer commit
     together or not at all, so a retry after a dropped connection finds both or
     neither.
- **What is kept.** Answers under 500 except 401, 403 and 429: authentication,
  permission and throttling refusals say nothing about the operation, and once their
  cause is gone a retry must run it. A 5xx or an exception rolls everything back, the
  key included: the retry runs afresh. Streamed answers are not kept.
- **Limits.** Fingerprinting reads the body in memory, so a keyed POST is bounded by
  DATA_UPLOAD_MAX_MEMORY_SIZE (413 beyond it), except on a view that declares a
  `request_body_limit()` of its own (the documents upload: MAX_UPLOAD_BYTES), whose
  body is hashed while it is spooled to a temporary file.
- **Expiry.** Records older than 24 hours are never replayed;
  `idempotency_records_purge` deletes them (`manage.py purge_idempotency_keys`, every
  schema).
"""

import hashlib
import re
import tempfile
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template.response import SimpleTemplateResponse
from django.utils import timezone
from rest_framework.exceptions import APIException
from rest_framework.request import Request

from core.errors import ApplicationError, Conflict, RequestTooLarge
from core.exceptions import error_json_response
from core.models import IdempotencyRecord
from core.tenancy import current_schema

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_MAX_LENGTH = 255
TTL = timedelta(hours=24)
# The view attribute (on the class, or on a function view) that turns the mechanism off.
EXEMPT_ATTRIBUTE = "idempotency_exempt"

_KEY_FORM = re.compile(rf"[\x20-\x7e]{{1,{KEY_MAX_LENGTH}}}")  # printable ASCII
_NOT_KEPT = frozenset({HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.TOO_MANY_REQUESTS})
_REPLAYED_HEADERS = ("Content-Type", "Location", "Allow")


class IdempotencyKeyInvalid(ApplicationError):
    code = "idempotency_key_invalid"
    default_message = f"The {HEADER} header must be 1 to {KEY_MAX_LENGTH} printable ASCII characters."


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"
    default_message = f"A request with this {HEADER} is still in progress. Retry it later."


class IdempotencyKeyReused(ApplicationError):
    status_code: int = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "idempotency_key_reused"
    default_message = f"This {HEADER} was used for a different request. Use a new key for a new request."


def key_is_valid(key: str) -> bool:
    return bool(_KEY_FORM.fullmatch(key)) and not key.isspace()


def is_exempt(view: Any) -> bool:
    """Whether a view (class, instance or function) ignores the key."""
    return bool(getattr(view, EXEMPT_ATTRIBUTE, False))


def kept(response: HttpResponseBase) -> bool:
    """Whether this answer is stored for replay (see the module's docstring)."""
    return response.status_code < 500 and response.status_code not in _NOT_KEPT and not response.streaming


def request_fingerprint(request: HttpRequest, *, body_limit: int | None = None) -> str:
    """SHA-256 of what makes two requests the same: method, path, content type, body.

    The body is read in memory, up to DATA_UPLOAD_MAX_MEMORY_SIZE. A view that takes
    larger bodies (uploads) names its own `body_limit`: the body is then hashed as it
    is copied to a temporary file (in memory up to 1 MiB), which the view reads
    instead of the network stream, as Django's own `request.body` swaps in a BytesIO.
    """
    multipart = request.content_type == "multipart/form-data"
    boundary = (request.content_params or {}).get("boundary") if multipart else None
    # Clients draw a new boundary for every attempt; the parts are what was sent.
    separator = boundary.encode("latin-1", "replace") if boundary else b""
    digest = hashlib.sha256()
    for part in (request.method or "", request.get_full_path(), request.content_type or ""):
        digest.update(part.encode() + b"\n")
    if body_limit is None:
        body = request.body  # over DATA_UPLOAD_MAX_MEMORY_SIZE: RequestDataTooBig, answered 413
        digest.update(body.replace(separator, b"") if separator else body)
        return digest.hexdigest()
    if int(request.META.get("CONTENT_LENGTH") or 0) > body_limit:
        raise RequestTooLarge(f"The request body is larger than {body_limit} bytes.")
    spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 - handed to the request
    carry, total, keep = b"", 0, max(len(separator) - 1, 0)
    while chunk := request.read(64 * 1024):
        total += len(chunk)
        if total > body_limit:
            spool.close()
            raise RequestTooLarge(f"The request body is larger than {body_limit} bytes.")
        spool.write(chunk)
        data = carry + chunk
        if separator:
            # A separator split across two chunks is whole in the next round: hold back
            # the last len(separator) - 1 bytes until then.
            data = data.replace(separator, b"")
            data, carry = (data[:-keep], data[-keep:]) if keep else (data, b"")
        digest.update(data)
    digest.update(carry)
    spool.seek(0)
    # The request reads on from the copy, unread so far: Django's private pair, as its
    # own `body` property swaps `_stream` (DRF checks `_read_started` to pick a stream).
    request._stream = spool  # type: ignore[assignment]
    request._read_started = False  # type: ignore[attr-defined]
    return digest.hexdigest()


def _lock_id(*, user_id: Any, key: str) -> int:
    digest = hashlib.sha256(f"idempotency\n{current_schema()}\n{user_id}\n{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def idempotency_claim(*, user_id: Any, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """The record to replay, or None: run the request. Inside the request's transaction,
    which then holds the key until it ends. Raises IdempotencyKeyInUse (another request
    holds it) or IdempotencyKeyReused (stored for a different request)."""
    if not connection.in_atomic_block:
        raise RuntimeError("idempotency_claim must run inside the request's transaction.")
    # Without waiting: a duplicate of a running request answers 409 at once rather than
    # queueing behind it (the IETF draft's behaviour).
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_lock_id(user_id=user_id, key=key)])
        row = cursor.fetchone()
    if not (row and row[0]):
        raise IdempotencyKeyInUse()
    record = IdempotencyRecord.objects.filter(user_id=user_id, key=key).first()
    if record is not None and record.created_at <= timezone.now() - TTL:
        record.delete()
        return None
    if record is not None and record.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    return record


def idempotency_record_save(
    *, user_id: Any, key: str, fingerprint: str, path: str, response: HttpResponse
) -> IdempotencyRecord:
    headers = {name: response[name] for name in _REPLAYED_HEADERS if response.has_header(name)}
    return IdempotencyRecord.objects.create(
        user_id=user_id,
        key=key,
        fingerprint=fingerprint,
        path=path,
        status_code=response.status_code,
        headers=headers,
        body=response.content,
    )


def idempotency_replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.body), status=record.status_code)
    if "Content-Type" not in record.headers:
        del response["Content-Type"]  # an empty answer (204) had none
    for name, value in record.headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def idempotency_records_purge(*, now: datetime | None = None) -> int:
    """Delete the current schema's records that can no longer be replayed."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lte=(now or timezone.now()) - TTL).delete()
    return deleted


def _caller_id(request: HttpRequest, view_func: Any) -> Any | None:
    """The id of the user the view will see, authenticated by the view's own
    authenticators; None for anonymous or refused credentials (the view answers those)."""
    view = view_func.cls(**getattr(view_func, "initkwargs", {}))
    try:
        user = Request(request, authenticators=view.get_authenticators()).user
    except APIException:
        return None
    return user.pk if user is not None and user.is_authenticated else None


class IdempotencyMiddleware:
    """Serves keyed POSTs to DRF views as the module's docstring says. Placed after
    tenant routing (the connection is in the tenant's schema); acts in `process_view`,
    once the view is known, and calls the view itself inside the transaction."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or HEADER not in request.headers:
            return None
        key = request.headers[HEADER]
        if not key_is_valid(key):
            return error_json_response(IdempotencyKeyInvalid())
        view_class = getattr(view_func, "cls", None)
        if view_class is None or is_exempt(view_class) or is_exempt(view_func):
            return None  # not an API view (the admin's forms), or a credential endpoint
        user_id = _caller_id(request, view_func)
        if user_id is None:
            return None
        limit = getattr(view_class, "request_body_limit", None)
        try:
            fingerprint = request_fingerprint(request, body_limit=limit() if limit else None)
        except RequestTooLarge as exc:
            return error_json_response(exc)
        try:
            with transaction.atomic():
                return self._serve(request, view_func, view_args, view_kwargs, user_id, key, fingerprint)
        except IdempotencyKeyInUse as exc:
            response = error_json_response(exc)
            response["Retry-After"] = "1"
            return response
        except IdempotencyKeyReused as exc:
            return error_json_response(exc)

    @staticmethod
    def _serve(request, view_func, view_args, view_kwargs, user_id, key, fingerprint):
        record = idempotency_claim(user_id=user_id, key=key, fingerprint=fingerprint)
        if record is not None:
            return idempotency_replay(record)
        schema = current_schema()
        response = view_func(request, *view_args, **view_kwargs)
        if isinstance(response, SimpleTemplateResponse):
            response.render()  # DRF's Response: store the bytes the client gets
        if response.status_code >= 500:
            transaction.set_rollback(True)
        elif kept(response) and not transaction.get_rollback():
            if current_schema() != schema:  # a view left another schema on the connection
                raise RuntimeError(f"Schema changed from {schema} to {current_schema()} while serving a request.")
            idempotency_record_save(
                user_id=user_id, key=key, fingerprint=fingerprint, path=request.get_full_path(), response=response
            )
        return response
