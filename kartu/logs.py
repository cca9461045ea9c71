"""One line per log record, as text or (KARTU_LOG_FORMAT=json) as one JSON object, carrying what
the record happened in: the Telegram update, the API request, the shop. Middlewares and the API's
edge set these for the task that handles the update or request; the access checks name the shop
once they know it. So a whole exchange can be followed across processes."""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

update_id: ContextVar[int | None] = ContextVar("update_id", default=None)
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
merchant_id: ContextVar[int | None] = ContextVar("merchant_id", default=None)
_FIELDS = (("update_id", update_id), ("request_id", request_id), ("merchant_id", merchant_id))


class Context(logging.Filter):
    """Puts the current update, request and shop on every record (as attributes)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, variable in _FIELDS:
            if not hasattr(record, name):
                setattr(record, name, variable.get())
        return True


class JsonLines(logging.Formatter):
    """A record as one JSON object on one line: time, level, logger, message, the context that
    is set, and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, _ in _FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(level: str, form: str) -> None:
    """The process's logging: to stderr, as text or JSON lines, with the context on each record."""
    handler = logging.StreamHandler()
    handler.addFilter(Context())
    handler.setFormatter(
        JsonLines()
        if form == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
