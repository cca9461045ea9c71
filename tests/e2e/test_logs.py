"""Log lines an operator can follow: with KARTU_LOG_FORMAT=json each is one JSON object naming the
update (or API request) and the shop it happened in; a failure's line names its update, even
though it is written by the error handler after the update's own middlewares are done."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from kartu.logs import Context, JsonLines, merchant_id, request_id, update_id
from kartu.sandbox import TelegramUser
from tests.e2e.world import World


def test_a_json_line_carries_its_context_and_traceback() -> None:
    tokens = update_id.set(4711), request_id.set("till-1:42"), merchant_id.set(3)
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            record = logging.LogRecord(
                "kartu.x", logging.ERROR, __file__, 1, "update %s failed", (4711,), sys.exc_info()
            )
        Context().filter(record)
        line = json.loads(JsonLines().format(record))
    finally:
        for variable, token in zip((update_id, request_id, merchant_id), tokens, strict=True):
            variable.reset(token)
    assert line["message"] == "update 4711 failed" and line["level"] == "ERROR"
    assert (line["update_id"], line["request_id"], line["merchant_id"]) == (4711, "till-1:42", 3)
    assert "ValueError: boom" in line["exception"] and "\n" not in JsonLines().format(record).strip()


async def test_a_failed_update_is_logged_with_its_update_id(
    world: World, customer: TelegramUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.join(customer, await world.create_shop())
    lines: list[dict[str, object]] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(self.format(record)))

    collect = Collect(logging.ERROR)
    collect.addFilter(Context())
    collect.setFormatter(JsonLines())
    logging.getLogger().addHandler(collect)

    async def broken(*_: object) -> None:
        raise RuntimeError("the card renderer is gone")

    monkeypatch.setattr(world.app.services.customers, "card", broken)
    try:
        apology = await customer.ask("/card")
    finally:
        logging.getLogger().removeHandler(collect)
    assert apology.body.startswith("Maaf, ada gangguan")
    (failed,) = [line for line in lines if "failed" in str(line["message"])]
    assert failed["update_id"] == int(str(failed["message"]).split()[1])
    assert "RuntimeError: the card renderer is gone" in str(failed["exception"])
