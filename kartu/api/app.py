"""The point-of-sale API over HTTP: versioned paths, Bearer keys, Idempotency-Key on writes, one
error shape, a token bucket per key, request bodies capped. The use cases are services/api.py."""

# No ``from __future__ import annotations`` here: FastAPI reads the routes' annotations at runtime,
# and the dependency they name is local to create_app.
import asyncio
import base64
import json
import logging
import queue
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException
from starlette.routing import Match

from kartu.api import problems
from kartu.api.edge import Edge
from kartu.api.schemas import (
    Cursor,
    CustomerOut,
    IdempotencyKey,
    LedgerPage,
    MembersPage,
    OutletList,
    Problem,
    PurchaseIn,
    PurchaseOut,
    ReceiptIn,
    ReceiptMade,
    ReceiptOut,
    RedeemOut,
    RefundOut,
    Rfc3339,
    RowId,
    WebhookIn,
    WebhookList,
    WebhookMade,
    WebhookOut,
)
from kartu.bot.i18n import load_i18n
from kartu.loyalty import errors
from kartu.loyalty.apikeys import body_hash
from kartu.loyalty.exports import ExportLinkRefused
from kartu.media.exports import StreamedZip
from kartu.media.qr import render_qr, render_qr_svg
from kartu.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from kartu.presenters.owner import export_words
from kartu.services.api import ApiError, Principal, dumps
from kartu.services.container import Services
from kartu.services.crediting import PurchaseResult
from kartu.services.exports import ExportJob
from kartu.storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from kartu.scheduler.dispatcher import OutboxDispatcher

log = logging.getLogger(__name__)

DESCRIPTION = """Sales from the till credited to Kartu cards, refunds, rewards used at the till,
members and the ledger, and webhooks out.

* **Keys**: `Authorization: Bearer kartu_…`, made by the shop's owner in `/apikeys` (or
  `kartu apikey create`), with scopes `earn`, `redeem`, `read`, `webhooks`.
* **Writes** (`POST`) take an `Idempotency-Key`: the first answer is kept for 24 hours and replayed
  for the same body (`Idempotent-Replayed: true`); the same key with another body is 422.
* **Errors** are problem details (RFC 9457, `application/problem+json`): `type`, `title`,
  `status`, `detail`, and Kartu's stable `code` and the `field` at fault. A `type` is a page that
  explains it (`/problems/<code>`). A key over its rate gets 429 with `Retry-After`.
* **Bodies** are at most 16 KB however they are sent. Every answer carries `X-Request-Id` (yours,
  when you send a sane one) to find the request in Kartu's logs.
* **Pages** (`/v1/members`, `/v1/ledger`) always give a `next_cursor`, the last page too: ask
  again later with it to follow the feed; `has_more` says whether more is there now.
* **Webhooks** are signed as [Standard Webhooks](https://www.standardwebhooks.com/): `webhook-id`,
  `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>." + body>`
  with the secret `whsec_…` the endpoint got; any Standard Webhooks library verifies them.
  Endpoints made before keep `Kartu-Signature` until their secret is rotated.
"""
BODY_MAX = 16 * 1024  # bytes a request body may have


ERRORS = {
    400: "The body could not be read (not UTF-8)",
    401: "No key, or not a valid one",
    403: "The key's scopes do not allow this",
    404: "Nothing of this shop by that code or id",
    409: "Done before (credited, refunded, redeemed)",
    413: "The body is over 16 KB",
    422: "The request is not valid, or the shop's rules refuse it",
    429: "Too many requests for this key: wait Retry-After seconds",
}


async def _zip_stream(services: Services, job: ExportJob, zipped: StreamedZip) -> AsyncIterator[bytes]:
    """The zip's bytes as the pages are written (services/exports.py); a download that stops
    stops the writing, and one that did not finish gives the link its one use back."""

    async def produce() -> None:
        try:
            await services.exports.write(job, zipped)
            await asyncio.to_thread(zipped.close)
            return
        except ConnectionAbortedError:
            log.info("export %s: the download stopped before its end", job.run_id)
        except Exception:
            log.exception("export %s: the download failed", job.run_id)
            zipped.abandoned.set()
        await services.exports.give_link_back(job)

    writing = asyncio.create_task(produce())
    try:
        while True:
            chunk = await asyncio.to_thread(_next_chunk, zipped)
            if chunk is None:
                break
            if chunk:
                yield chunk
    finally:
        zipped.abandoned.set()
        await writing


def _next_chunk(zipped: StreamedZip) -> bytes | None:
    """The next bytes, or None at the end (or when the writing failed: the download is cut short)."""
    while not zipped.abandoned.is_set():
        try:
            return zipped.chunks.get(timeout=0.5)
        except queue.Empty:
            continue
    return None


def problem(
    code: str,
    detail: str,
    field: str | None = None,
    status: int | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        problems.body(code, detail, field, status),
        status_code=status or problems.TYPES[code].status,
        media_type=problems.MEDIA_TYPE,
        headers=headers,
    )


_REFUSALS: dict[type[errors.LoyaltyError], tuple[int, str, str]] = {
    errors.DailyCapReached: (
        422,
        "daily_cap",
        "The customer reached the shop's daily limit; nothing was credited.",
    ),
    errors.UnknownCode: (404, "not_found", "No customer of this shop has that code."),
    errors.BelowMinimumSpend: (422, "below_minimum", "That amount earns nothing at this shop."),
}


class RateLimited(Exception):
    """A key over its rate: never stored as an Idempotency-Key's answer (the request may be retried)."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class _Buckets:
    """A token bucket per key: ``burst`` at once, ``rate`` a second after that (per process)."""

    def __init__(self, rate: float, burst: int) -> None:
        self._state: dict[int, tuple[float, float]] = {}
        self.rate, self.burst = rate, burst

    def peek(self, key_id: int) -> bool:
        """Whether the key has a token now (none is taken)."""
        now = time.monotonic()
        tokens, last = self._state.get(key_id, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - last) * self.rate) >= 1

    def wait(self, key_id: int) -> float:
        """0 when the request may go; else the seconds until it may."""
        now = time.monotonic()
        tokens, last = self._state.get(key_id, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens < 1:
            self._state[key_id] = (tokens, now)
            return (1 - tokens) / self.rate
        self._state[key_id] = (tokens - 1, now)
        return 0.0


def create_app(services: Services, courier: "OutboxDispatcher | None" = None) -> FastAPI:
    app = FastAPIOffline(  # FastAPI whose /docs loads its scripts from Kartu, not a CDN
        title="Kartu point-of-sale API",
        version="1",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,  # ReDoc fetches its logo from a CDN; Swagger UI at /docs is whole
        description=DESCRIPTION,
        responses={status: {"model": Problem, "description": meaning} for status, meaning in ERRORS.items()},
    )
    buckets = _Buckets(services.api.settings.api_rate, services.api.settings.api_burst)

    @app.exception_handler(ApiError)
    async def refused(request: Request, error: ApiError) -> JSONResponse:
        return problem(error.code, error.message, error.field, error.status)

    @app.exception_handler(RateLimited)
    async def too_fast(request: Request, error: RateLimited) -> JSONResponse:
        return problem(
            "rate_limited",
            "Too many requests for this key; retry later.",
            headers={"Retry-After": str(error.seconds)},
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        first: dict[str, Any] = dict(error.errors()[0]) if error.errors() else {}
        if first.get("type") == "json_invalid":
            reason = (first.get("ctx") or {}).get("error", "")
            return problem("invalid_json", f"The body is not valid JSON: {reason}".rstrip(": "), "body")
        where = [str(part) for part in first.get("loc", ())]
        field = ".".join(where[1:]) or (where[0] if where else None)
        message = str(first.get("msg", "invalid request")).removeprefix("Value error, ")
        if field == "cursor":
            return problem("invalid_cursor", "This cursor is not one the API gave.", field)
        return problem("invalid_request", f"{field}: {message}" if field else message, field)

    @app.exception_handler(HTTPException)
    async def framework_refused(request: Request, error: HTTPException) -> JSONResponse:
        """The framework's own refusals (no such path, a method the path does not take, a body it
        cannot read) in the same shape as Kartu's."""
        code = problems.code_for_status(error.status_code)
        if error.status_code == 404:
            return problem(code, f"No such path: {request.url.path}", "path")
        if error.status_code == 405:
            allowed = _methods_of(app, request)
            return problem(
                code,
                f"{request.url.path} takes {', '.join(allowed)}, not {request.method}.",
                "method",
                headers={"Allow": ", ".join(allowed)},
            )
        detail = (
            "The body could not be read as UTF-8 JSON." if error.status_code == 400 else str(error.detail)
        )
        return problem(code, detail, "body" if error.status_code == 400 else None, error.status_code)

    @app.get(problems.PREFIX + "{code}", include_in_schema=False)
    async def problem_type(code: Annotated[str, Path(max_length=40)]) -> HTMLResponse:
        page = problems.page(code)
        if page is None:
            raise HTTPException(404)
        return HTMLResponse(page)

    app.add_middleware(Edge, limit=BODY_MAX, metrics=services.health.metrics)

    @app.get(
        "/v1/exports/{token}",
        tags=["exports"],
        summary="An owner's export, as one zip",
        operation_id="download_export",
        response_class=StreamingResponse,
        responses={
            200: {"content": {"application/zip": {}}},
            404: {"model": Problem},
            410: {"model": Problem},
        },
    )
    async def download_export(token: Annotated[str, Path(max_length=100)]) -> Response:
        """The link the bot gives an owner with a big export: the members, the ledger and the
        causes as one zip, made while it downloads. It works once, within the hour; no key needed
        (the link is signed)."""
        try:
            job = await services.exports.download(token)
        except ExportLinkRefused as refused:
            if refused.reason == "invalid":
                return problem("not_found", "No export by that link.")
            return problem(f"link_{refused.reason}", problems.TYPES[f"link_{refused.reason}"].meaning)
        catalogs = load_i18n()  # loaded once per process (cached), at a first download
        with catalogs.context(), catalogs.use_locale(job.language):
            words = export_words()
        services.health.metrics.exports.labels("downloaded").inc()
        return StreamingResponse(
            _zip_stream(services, job, StreamedZip(job.slug, job.timezone, words)),
            media_type="application/zip",
            headers={
                "Content-Disposition": f'attachment; filename="{job.slug}-export.zip"',
                "Cache-Control": "no-store",
            },
        )

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"alive": True})

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        ready = await services.health.ready()
        return JSONResponse(ready.as_json(), status_code=200 if ready.ok else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        if not services.health.settings.metrics:
            raise HTTPException(404)
        return Response(await services.health.metrics_text(), media_type=METRICS_CONTENT_TYPE)

    document = app.openapi

    def openapi() -> dict[str, Any]:
        """FastAPI's document, with errors as what they are: application/problem+json."""
        if app.openapi_schema is None:
            for operations in document()["paths"].values():
                for operation in operations.values():
                    for status, answer in operation.get("responses", {}).items():
                        if (
                            status.isdigit()
                            and int(status) >= 400
                            and "application/json" in answer.get("content", {})
                        ):
                            answer["content"] = {problems.MEDIA_TYPE: answer["content"]["application/json"]}
        return document()

    app.openapi = openapi  # type: ignore[method-assign]

    bearer = HTTPBearer(auto_error=False, description="The shop's API key: kartu_…")

    async def principal(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        return await services.api.authenticate(credentials.credentials if credentials else None)

    def needs(scope: str) -> Callable[[Principal], Awaitable[Principal]]:
        """A key with ``scope``: checked before the request's fields, so a key that may not do
        this learns nothing more (403 before 422)."""

        async def scoped(caller: Annotated[Principal, Depends(principal)]) -> Principal:
            caller.require(scope)
            return caller

        return scoped

    def limit(caller: Principal) -> None:
        """The key's token bucket (a replayed answer costs nothing: it does no work)."""
        wait = buckets.wait(caller.key_id)
        if wait > 0:
            raise RateLimited(max(int(wait + 0.999), 1))

    async def send_news(result: PurchaseResult) -> None:
        """A sale's news, once its answer is committed: at once where a bot runs beside the API
        (else the purchase handed it to the scheduler in its own transaction)."""
        if courier is not None:
            await courier.deliver_taken(list(result.taken), result.notices)

    def refusal(error: errors.LoyaltyError) -> tuple[int, str]:
        """A refusal as the answer stored for its Idempotency-Key."""
        if isinstance(error, ApiError):
            return error.status, problems.dumps(error.code, error.message, error.field, error.status)
        known = next((value for kind, value in _REFUSALS.items() if isinstance(error, kind)), None)
        status, code, message = known or (422, "refused", "The request was refused.")
        return status, problems.dumps(code, message, None, status)

    async def idempotent(
        caller: Principal,
        idempotency_key: str,
        request: object,
        work: Callable[[UnitOfWork], Awaitable[tuple[int, str, Callable[[], Awaitable[None]] | None]]],
        finish: Callable[[str], Awaitable[str]] | None = None,
    ) -> Response:
        """A write with an Idempotency-Key: taken, done and answered in one transaction; the first
        answer for the key (refusals included) replayed for the same body. ``work`` answers, and
        names what to do once the answer is committed (the customer's news); ``finish`` completes
        a success's stored answer each time it is sent (out of the transaction: a QR drawn)."""
        fingerprint = body_hash(request)

        async def limited(uow: UnitOfWork) -> tuple[int, str, Callable[[], Awaitable[None]] | None]:
            limit(caller)  # only a request that does work uses the key's bucket (a replay is free)
            return await work(uow)

        status, payload, after, replayed = await services.api.once(
            caller, idempotency_key, fingerprint, limited, refusal
        )
        if after is not None:
            await after()
        if finish is not None and status < 400:
            payload = await finish(payload)
        return _answer(status, payload, replayed)

    @app.post(
        "/v1/purchases",
        status_code=201,
        tags=["purchases"],
        summary="Credit a sale",
        operation_id="credit_purchase",
        response_model=PurchaseOut,
        responses={
            201: {
                "links": {
                    "RefundIt": _link("refund_purchase", purchase_id="$response.body#/id"),
                    "TheCustomer": _link("get_customer", code="$response.body#/customer/code"),
                    "UseItsReward": _link("redeem_reward", code="$response.body#/rewards_issued/0"),
                }
            }
        },
    )
    async def post_purchase(
        purchase: PurchaseIn,
        caller: Annotated[Principal, Depends(needs("earn"))],
        idempotency_key: IdempotencyKey,
    ) -> Response:
        """Credit a sale to the customer's card (stamps, points, levels, spins, as a staff
        confirmation would); the customer's phone shows the new card. The first answer for an
        Idempotency-Key is stored for 24 h and replayed for the same body."""

        sale = dict(
            occurred_at=purchase.occurred_at,
            code=purchase.customer.code,
            telegram_id=purchase.customer.telegram_id,
            amount=purchase.amount,
            stamps=purchase.stamps,
            external_id=purchase.external_id,
            to_scheduler=courier is None,
            outlet=purchase.outlet,
        )

        async def work(uow: UnitOfWork) -> tuple[int, str, Callable[[], Awaitable[None]] | None]:
            credited = await services.api.purchase(uow, caller, **sale)  # type: ignore[arg-type]
            return 201, dumps(credited.body), partial(send_news, credited.result)

        request = purchase.model_dump(mode="json")
        if buckets.peek(caller.key_id):  # the usual sale: one transaction
            done = await services.api.purchase_at_once(
                caller,
                idempotency_key,
                body_hash(request),
                **sale,  # type: ignore[arg-type]
            )
            if done is not None:
                buckets.wait(caller.key_id)  # it did work: it takes a token of the key's bucket
                body, result = done
                await send_news(result)
                return _answer(201, body, replayed=False)
        return await idempotent(caller, idempotency_key, request, work)

    @app.post(
        "/v1/purchases/{purchase_id}/refund",
        tags=["purchases"],
        summary="Refund a sale",
        operation_id="refund_purchase",
        response_model=RefundOut,
        responses={200: {"links": {"TheCustomer": _link("get_customer", code="$response.body#/customer")}}},
    )
    async def refund_purchase(
        purchase_id: str,
        caller: Annotated[Principal, Depends(needs("earn"))],
        idempotency_key: IdempotencyKey,
    ) -> Response:
        """Take a purchase back: ledger rows of its own remove its stamps and points and void the
        rewards it issued (never a delete); the customer is told. 409 when it was refunded before,
        a reward it issued was used, or its points were spent."""

        async def work(uow: UnitOfWork) -> tuple[int, str, None]:
            return 200, dumps(await services.api.refund(uow, caller, purchase_id)), None

        return await idempotent(caller, idempotency_key, {"refund": purchase_id}, work)

    @app.post(
        "/v1/rewards/{code}/redeem",
        tags=["rewards"],
        summary="Use a reward",
        operation_id="redeem_reward",
        response_model=RedeemOut,
        responses={200: {"links": {"TheCustomer": _link("get_customer", code="$response.body#/customer")}}},
    )
    async def redeem_reward(
        code: Annotated[str, Path(max_length=32)],
        caller: Annotated[Principal, Depends(needs("redeem"))],
        idempotency_key: IdempotencyKey,
    ) -> Response:
        """Use a reward at this shop's till; the customer is told. The reward used before is 409
        (a retry with the same Idempotency-Key gets the first answer instead)."""

        async def work(uow: UnitOfWork) -> tuple[int, str, None]:
            return 200, dumps(await services.api.redeem(uow, caller, code)), None

        return await idempotent(caller, idempotency_key, {"redeem": code}, work)

    @app.get(
        "/v1/members",
        tags=["customers"],
        summary="Members, a page at a time",
        operation_id="list_members",
        response_model=MembersPage,
        responses={
            200: {
                "links": {
                    "NextPage": _link("list_members", cursor="$response.body#/next_cursor"),
                    "FirstMember": _link("get_customer", code="$response.body#/data/0/code"),
                }
            }
        },
    )
    async def list_members(
        caller: Annotated[Principal, Depends(needs("read"))],
        cursor: Cursor = None,
        since: Annotated[Rfc3339 | None, Query()] = None,
        limit_: Annotated[int, Query(alias="limit", ge=1, le=200)] = 50,
    ) -> JSONResponse:
        """The shop's members, oldest card first; ``next_cursor`` pages on (``since``: joined since)."""
        limit(caller)
        return JSONResponse(await services.api.members(caller, cursor, since, limit_))

    @app.get(
        "/v1/ledger",
        tags=["customers"],
        summary="The ledger, a page at a time",
        operation_id="list_ledger",
        response_model=LedgerPage,
        responses={200: {"links": {"NextPage": _link("list_ledger", cursor="$response.body#/next_cursor")}}},
    )
    async def list_ledger(
        caller: Annotated[Principal, Depends(needs("read"))],
        cursor: Cursor = None,
        since: Annotated[Rfc3339 | None, Query()] = None,
        limit_: Annotated[int, Query(alias="limit", ge=1, le=200)] = 50,
    ) -> JSONResponse:
        """Every change to stamps, points and rewards, oldest first; ``next_cursor`` pages on."""
        limit(caller)
        return JSONResponse(await services.api.ledger(caller, cursor, since, limit_))

    @app.get(
        "/v1/outlets",
        tags=["customers"],
        summary="The business's outlets",
        operation_id="list_outlets",
        response_model=OutletList,
    )
    async def list_outlets(caller: Annotated[Principal, Depends(needs("read"))]) -> JSONResponse:
        """Where the business sells: each outlet's code (a sale's `outlet`), name, address and time zone."""
        limit(caller)
        return JSONResponse(await services.api.outlets(caller))

    @app.get(
        "/v1/customers/{code}",
        tags=["customers"],
        summary="A customer's card",
        operation_id="get_customer",
        response_model=CustomerOut,
        responses={
            200: {"links": {"UseAReward": _link("redeem_reward", code="$response.body#/rewards/0/code")}}
        },
    )
    async def get_customer(
        code: Annotated[str, Path(max_length=32)], caller: Annotated[Principal, Depends(needs("read"))]
    ) -> JSONResponse:
        """The customer's card at this shop: stamps, points, level, rewards held."""
        limit(caller)
        return JSONResponse(await services.api.customer(caller, code))

    @app.post(
        "/v1/webhooks",
        status_code=201,
        tags=["webhooks"],
        summary="Add a webhook",
        operation_id="add_webhook",
        response_model=WebhookMade,
        responses={
            201: {
                "links": {
                    "DeleteIt": _link("delete_webhook", endpoint_id="$response.body#/id"),
                    "RotateItsSecret": _link("rotate_webhook_secret", endpoint_id="$response.body#/id"),
                }
            }
        },
    )
    async def add_webhook(
        hook: WebhookIn,
        caller: Annotated[Principal, Depends(needs("webhooks"))],
        idempotency_key: IdempotencyKey,
    ) -> Response:
        """Register an endpoint for the shop's events; the answer carries its signing secret, shown
        only this once (and to a retry with the same Idempotency-Key). Deliveries are signed: see
        the README's Kartu-Signature check."""
        events = ",".join(hook.events) if hook.events else None

        async def work(uow: UnitOfWork) -> tuple[int, str, None]:
            try:
                view, secret = await services.webhooks.add_in(
                    uow, caller.merchant_id, caller.actor_id, hook.url, events
                )
            except errors.InvalidSetting as refused:
                message = (
                    "A shop has at most 5 webhooks."
                    if refused.field == "endpoints"
                    else "Give an https address on a public host."
                )
                raise ApiError(422, "invalid_" + (refused.field or "url"), message, "url") from None
            return 201, dumps({**view.as_json(), "secret": secret}), None

        return await idempotent(caller, idempotency_key, hook.model_dump(mode="json"), work)

    @app.get(
        "/v1/webhooks",
        tags=["webhooks"],
        summary="The shop's webhooks",
        operation_id="list_webhooks",
        response_model=WebhookList,
        responses={
            200: {
                "links": {"DeleteTheFirst": _link("delete_webhook", endpoint_id="$response.body#/data/0/id")}
            }
        },
    )
    async def list_webhooks(caller: Annotated[Principal, Depends(needs("webhooks"))]) -> JSONResponse:
        """The shop's endpoints, their state and how many deliveries wait."""
        limit(caller)
        return JSONResponse(
            {"data": [view.as_json() for view in await services.webhooks.endpoints(caller.merchant_id)]}
        )

    @app.delete(
        "/v1/webhooks/{endpoint_id}",
        tags=["webhooks"],
        summary="Delete a webhook",
        operation_id="delete_webhook",
        response_model=WebhookOut,
    )
    async def delete_webhook(
        endpoint_id: RowId, caller: Annotated[Principal, Depends(needs("webhooks"))]
    ) -> JSONResponse:
        """Stop sending events to an endpoint."""
        limit(caller)
        try:
            view = await services.webhooks.change_for(caller.merchant_id, endpoint_id, "delete")
        except errors.PromptClosed:
            raise ApiError(404, "not_found", "No webhook of this shop has that id.", "endpoint_id") from None
        return JSONResponse({**view.as_json(), "status": "deleted"})

    @app.post(
        "/v1/webhooks/{endpoint_id}/rotate-secret",
        tags=["webhooks"],
        summary="Give a webhook a new secret",
        operation_id="rotate_webhook_secret",
        response_model=WebhookMade,
    )
    async def rotate_webhook_secret(
        endpoint_id: RowId,
        caller: Annotated[Principal, Depends(needs("webhooks"))],
        idempotency_key: IdempotencyKey,
    ) -> Response:
        """A new signing secret, shown only in this answer; deliveries are signed as Standard
        Webhooks from now on. For 24 hours the old secret signs each delivery too (its
        Kartu-Signature header, or a second webhook-signature entry), so the receiver switches over
        without missing one."""

        async def work(uow: UnitOfWork) -> tuple[int, str, None]:
            try:
                view, secret = await services.webhooks.rotate_in(uow, caller.merchant_id, endpoint_id)
            except errors.PromptClosed:
                raise ApiError(
                    404, "not_found", "No webhook of this shop has that id.", "endpoint_id"
                ) from None
            return 200, dumps({**view.as_json(), "secret": secret}), None

        return await idempotent(caller, idempotency_key, {"rotate": endpoint_id}, work)

    @app.post(
        "/v1/receipts",
        status_code=201,
        tags=["receipts"],
        summary="Print a receipt code",
        operation_id="create_receipt",
        response_model=ReceiptMade,
        responses={
            201: {
                "links": {
                    "ItsState": _link("get_receipt", receipt_id="$response.body#/id"),
                    "RefundIt": _link("refund_purchase", purchase_id="$response.body#/id"),
                }
            },
            503: {"model": Problem, "description": "KARTU_BOT_USERNAME is not set"},
        },
    )
    async def create_receipt(
        receipt: ReceiptIn,
        caller: Annotated[Principal, Depends(needs("earn"))],
        idempotency_key: IdempotencyKey,
    ) -> Response:
        """A sale for a customer who is not at the till (new, in a hurry, ordering by phone): the
        answer's link and QR go on the printed receipt. The first person who opens it within its
        life (7 days unless `expires_in` says) gets it credited, joining the shop first if new, with
        the rules of any sale; anyone after is told it was used. Its `id` refunds it like a
        purchase (before it is claimed, the link stops working)."""

        async def work(uow: UnitOfWork) -> tuple[int, str, None]:
            made = await services.api.create_receipt(
                uow,
                caller,
                amount=receipt.amount,
                stamps=receipt.stamps,
                external_id=receipt.external_id,
                occurred_at=receipt.occurred_at,
                expires_in=receipt.expires_in,
                outlet=receipt.outlet,
            )
            return 201, dumps(made), None

        async def with_qr(payload: str) -> str:
            body = json.loads(payload)
            png, svg = await asyncio.to_thread(_qr_of, str(body["link"]))
            return dumps({**body, "qr_png": png, "qr_svg": svg})

        return await idempotent(caller, idempotency_key, receipt.model_dump(mode="json"), work, with_qr)

    @app.get(
        "/v1/receipts/{receipt_id}",
        tags=["receipts"],
        summary="A receipt's state",
        operation_id="get_receipt",
        response_model=ReceiptOut,
    )
    async def get_receipt(
        receipt_id: Annotated[str, Path(max_length=100)], caller: Annotated[Principal, Depends(needs("read"))]
    ) -> JSONResponse:
        """Open, claimed (and by whom), expired or void (refunded before anyone claimed it)."""
        limit(caller)
        return JSONResponse(await services.api.receipt(caller, receipt_id))

    return app


def _qr_of(link: str) -> tuple[str, str]:
    """A receipt's link as a QR code: PNG (base64) and SVG."""
    return base64.b64encode(render_qr(link)).decode(), render_qr_svg(link)


def _link(operation: str, **parameters: str) -> dict[str, object]:
    """An OpenAPI link: what of this answer the next operation takes (a purchase's id to refund it)."""
    return {"operationId": operation, "parameters": parameters}


def _answer(status: int, payload: str, replayed: bool) -> Response:
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    media_type = problems.MEDIA_TYPE if status >= 400 else "application/json"
    return Response(payload, status_code=status, media_type=media_type, headers=headers)


def _methods_of(app: FastAPI, request: Request) -> list[str]:
    """Every method the request's path takes, across the routes that share it."""
    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)
