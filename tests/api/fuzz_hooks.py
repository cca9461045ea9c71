"""Schemathesis hooks for the fuzzing run (tests/api/test_fuzzing.py), doing what a real till does
so the run gets past "no such customer" to the sale, its refund and its reward:

- a fresh Idempotency-Key for each request, in every phase (one reused with another body is refused
  by design, 422 idempotency_mismatch, and tested on its own); a malformed or missing one is sent
  as generated;
- most well-formed sales name the shop's customer (the document's example code) and happen now
  (receipts too).
Anything the generator made malformed is left as it is, so invalid input still meets the API."""

from __future__ import annotations

import itertools
import secrets
from datetime import UTC, datetime
from typing import Any

import schemathesis

from kartu.api.schemas import EXAMPLE_CUSTOMER

_turn = itertools.count()


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and 1 <= len(key) <= 255:
        case.headers["Idempotency-Key"] = secrets.token_hex(16)
    body = case.body if case.path in ("/v1/purchases", "/v1/receipts") else None
    if not isinstance(body, dict) or next(_turn) % 4 == 3:
        return  # one sale in four goes as generated
    customer = body.get("customer")
    if (
        isinstance(customer, dict)
        and isinstance(customer.get("code"), str)
        and 1 <= len(customer["code"]) <= 16
    ):
        customer["code"] = EXAMPLE_CUSTOMER
    if isinstance(body.get("occurred_at"), str):
        body["occurred_at"] = datetime.now(UTC).isoformat()
