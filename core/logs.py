"""Log formatting and redaction, configured in `LOGGING` (config/settings/base.py).

Standard library only: logging is set up before the apps are loaded, so nothing here
may import Django models or DRF.

Secrets are removed by a filter on the handler rather than by trusting every caller:
a token can reach a log line through SQL parameters at DEBUG, an exception message or
a third-party library, and one filter on the way out covers them all.
"""

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

REDACTED = "[redacted]"

# Names whose values are secret wherever they appear: a query string, a JSON body, a
# header dump or a logging `extra`.
_SECRET_NAME = (
    r"[\w-]*(?:password|passwd|secret|token|access|refresh|api[_-]?key|signature|sig|credential|authorization|cookie)"
)
_SECRET_NAMES = re.compile(rf"^{_SECRET_NAME}$", re.IGNORECASE)
_PATTERNS = [
    # JSON Web Tokens (access and refresh), wherever they stand.
    (re.compile(r"eyJ[\w-]*\.[\w-]+\.[\w-]*"), REDACTED),
    # "Authorization: Bearer xyz", "Bearer xyz", "Basic xyz".
    (re.compile(r"\b(Bearer|Basic|Token)\s+[^\s'\",;]+", re.IGNORECASE), rf"\1 {REDACTED}"),
    # name=value in query strings and form bodies; name: value in header dumps.
    (re.compile(rf"\b({_SECRET_NAME})=[^&\s'\",;]*", re.IGNORECASE), rf"\1={REDACTED}"),
    # "name": "value" and 'name': 'value' in JSON bodies and dict reprs.
    (re.compile(rf"([\"']{_SECRET_NAME}[\"']\s*:\s*)([\"'])(?:\\.|(?!\2).)*\2", re.IGNORECASE), rf"\1\2{REDACTED}\2"),
]

# Attributes every LogRecord has: anything else on a record came from `extra=`.
_RECORD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value: Any, name: str = "") -> Any:
    if name and _SECRET_NAMES.match(name) and value not in (None, ""):
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redact_value(item, str(key)) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(item) for item in value]
    return value


class RedactSecretsFilter(logging.Filter):
    """Rewrite a record so that no token, password or secret value leaves the process.

    The message is rendered here and redacted (its arguments are then dropped), and so
    are the `extra` fields and the traceback text. A record this cannot render is let
    through untouched rather than raising inside the caller's `logger.x()` call.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.msg = redact(record.getMessage())
            record.args = ()
            for name in set(vars(record)) - _RECORD_FIELDS:
                setattr(record, name, _redact_value(getattr(record, name), name))
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = redact(record.exc_text)
            if record.stack_info:
                record.stack_info = redact(record.stack_info)
        except Exception:  # noqa: BLE001, S110 - logging must never break the caller
            pass
        return True


def _plain(value: Any) -> bool:
    """Whether `value` is JSON as it is. Other objects (a request, a connection) are
    left out of JSON lines: their repr may carry a query string or a secret."""
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list | tuple):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _plain(item) for key, item in value.items())
    return False


class JsonFormatter(logging.Formatter):
    """One JSON object per line (LOG_FORMAT=json): log shippers parse it without rules.

    Fields: `ts` (UTC, ISO 8601), `level`, `logger`, `message`, every plain `extra`
    field (the request id, the access log's fields) and `exc` for a traceback.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in sorted(set(vars(record)) - _RECORD_FIELDS):
            value = getattr(record, name)
            if not name.startswith("_") and _plain(value):
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)
