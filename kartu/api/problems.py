"""Every error the API answers, as RFC 9457 problem details (``application/problem+json``): the
register of problem types (one code each, with its status and title), the body they share, and
the page each type's URI resolves to. The framework's own errors (unknown path, wrong method, a body
that is not JSON) are answered from the same register, so a client parses one shape."""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape

MEDIA_TYPE = "application/problem+json"
PREFIX = "/problems/"  # a type's URI, relative to the API's address (RFC 9457 §3.1.1)


@dataclass(frozen=True)
class ProblemType:
    code: str
    status: int
    title: str
    meaning: str


_TYPES = (
    ProblemType("invalid_request", 422, "The request is not valid", "A field is missing, of the wrong type or out of range: `field` names it."),
    ProblemType("invalid_json", 422, "The body is not JSON", "The body could not be parsed as a JSON document (`detail` says where)."),
    ProblemType("invalid_body", 400, "The body could not be read", "The body is not UTF-8 text or its framing is broken."),
    ProblemType("too_large", 413, "The body is too large", "Request bodies are at most 16 KB, however they are sent (Content-Length or chunked)."),
    ProblemType("unauthorized", 401, "No valid key", "Send the shop's key as `Authorization: Bearer kartu_…`; it may be unknown or revoked."),
    ProblemType("forbidden", 403, "Not allowed for this key", "The key's scopes (earn, redeem, read, webhooks) do not include this."),
    ProblemType("not_found", 404, "Not found", "Nothing of this shop by that code or id, or no such path."),
    ProblemType("method_not_allowed", 405, "Method not allowed", "The path exists; `Allow` lists the methods it takes."),
    ProblemType("already_credited", 409, "Credited before", "A purchase with this `external_id` was credited before."),
    ProblemType("already_refunded", 409, "Refunded before", "This purchase was refunded before."),
    ProblemType("already_redeemed", 409, "Used before", "This reward was used already."),
    ProblemType("reward_used", 409, "A reward it issued was used", "A reward this purchase issued was used; it cannot be taken back."),
    ProblemType("voucher_used", 409, "A voucher it gave was used", "A partner's voucher this purchase gave was used; it cannot be taken back."),
    ProblemType("points_spent", 409, "Its points were spent", "The customer spent this purchase's points; adjust their balance instead."),
    ProblemType("in_progress", 409, "Still being answered", "A request with this Idempotency-Key is still being handled: retry shortly."),
    ProblemType("idempotency_mismatch", 422, "Idempotency-Key used with another body", "Each Idempotency-Key belongs to one request body for 24 hours."),
    ProblemType("invalid_amount", 422, "Amount out of range", "The amount must be from 1 rupiah to the shop's largest sale."),
    ProblemType("invalid_stamps", 422, "Stamps out of range", "A sale stamps from 1 to 20 purchases."),
    ProblemType("amount_required", 422, "The amount is needed", "The shop runs points: send the sale's amount."),
    ProblemType("invalid_occurred_at", 422, "occurred_at out of range", "A sale's time has a time zone, is within the last 7 days and not in the future."),
    ProblemType("unknown_outlet", 422, "No such outlet", "The shop has no outlet with this code (`GET /v1/outlets` lists them)."),
    ProblemType("other_outlet", 403, "Another outlet's sale", "This key was made for one outlet: its sales are that outlet's."),
    ProblemType("invalid_cursor", 422, "Not a cursor the API gave", "Send back a `next_cursor` exactly as an earlier page gave it."),
    ProblemType("daily_cap", 422, "The daily limit is reached", "The customer reached the shop's daily limit; nothing was credited."),
    ProblemType("below_minimum", 422, "Below the minimum spend", "That amount earns nothing at this shop."),
    ProblemType("expired", 422, "Expired", "This reward has expired."),
    ProblemType("invalid_url", 422, "Not a public https address", "Webhooks go to https addresses on public hosts."),
    ProblemType("invalid_endpoints", 422, "Too many webhooks", "A shop has at most 5 webhooks."),
    ProblemType("refused", 422, "Refused by the shop's rules", "The shop's rules refuse this request."),
    ProblemType("link_expired", 410, "The link has expired", "A download link works for an hour: ask the bot for /export again."),
    ProblemType("link_used", 410, "The link was used", "A download link works once: ask the bot for /export again."),
    ProblemType("rate_limited", 429, "Too many requests", "The key is over its rate: retry after `Retry-After` seconds."),
    ProblemType("unavailable", 503, "Not set up", "This Kartu cannot do that yet: `detail` says which setting it needs."),
    ProblemType("internal", 500, "Something went wrong", "Kartu failed to answer; nothing was changed. `request_id` names it in the logs."),
)  # fmt: skip
TYPES = {kind.code: kind for kind in _TYPES}
_BY_STATUS = {
    400: "invalid_body",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    422: "invalid_request",
}


def body(code: str, detail: str, field: str | None = None, status: int | None = None) -> dict[str, object]:
    """A problem's body: ``type``, ``title``, ``status``, ``detail``, and Kartu's ``code`` (stable,
    for programs) and ``field`` (the request's part at fault, when one is)."""
    kind = TYPES[code]
    return {
        "type": PREFIX + code,
        "title": kind.title,
        "status": status or kind.status,
        "detail": detail,
        "code": code,
        "field": field,
    }


def dumps(code: str, detail: str, field: str | None = None, status: int | None = None) -> str:
    return json.dumps(body(code, detail, field, status), separators=(",", ":"), ensure_ascii=False)


def code_for_status(status: int) -> str:
    """The problem type the framework's own error of this status is answered as."""
    return _BY_STATUS.get(status) or next(
        (kind.code for kind in _TYPES if kind.status == status), "refused" if status < 500 else "internal"
    )


def page(code: str) -> str | None:
    """The HTML a problem type's URI shows a person (None for a code not in the register)."""
    kind = TYPES.get(code)
    if kind is None:
        return None
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{escape(kind.title)}</title><body style='font:16px system-ui;max-width:40em;margin:2em auto;padding:0 1em'>"
        f"<h1>{escape(kind.title)}</h1><p>HTTP {kind.status} · <code>{escape(kind.code)}</code></p>"
        f"<p>{escape(kind.meaning)}</p><p><a href='/docs'>The API's reference</a></p></body></html>"
    )
