"""What the point-of-sale API takes and answers, as the OpenAPI document shows it: strict fields
(integers are JSON integers, times RFC 3339 text with a zone, ids within a BIGINT), the answers'
shapes (so a client can check them), and problem details for every error."""

# No ``from __future__ import annotations``: pydantic and FastAPI read these annotations at runtime.
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Header, Path, Query
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from kartu.loyalty.webhooks import EVENTS
from kartu.services.api import CURSOR_PATTERN, ROW_ID_MAX

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})")


def _rfc3339(value: object) -> object:
    """A time as RFC 3339 text with its zone: not a number of seconds, not a local time."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("give a time as RFC 3339 text with a time zone, e.g. 2026-11-01T08:30:00+07:00")
    return value


def _in_range(value: datetime) -> datetime:
    """A time UTC can hold (year 1 at +07:00 is not one): refused here, not failed on later."""
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is out of range") from None
    return value


Rfc3339 = Annotated[AwareDatetime, BeforeValidator(_rfc3339), AfterValidator(_in_range)]
RowId = Annotated[int, Path(ge=1, le=ROW_ID_MAX)]
Cursor = Annotated[
    str | None,
    Query(pattern=CURSOR_PATTERN, description="A `next_cursor` as a page gave it (none: the first page)"),
]


class CustomerRef(BaseModel):
    """The customer: their code, or their Telegram id (one of them)."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["code"]}, {"required": ["telegram_id"]}]}
    )
    # Neither takes null (the document says so too): a field not given is left out.
    code: str | SkipJsonSchema[None] = Field(
        default=None,
        min_length=1,
        max_length=16,
        description="The customer's Kartu code, as shown or scanned",
    )
    telegram_id: StrictInt | SkipJsonSchema[None] = Field(default=None, ge=1, le=ROW_ID_MAX)

    @field_validator("code", "telegram_id", mode="before")
    @classmethod
    def not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("leave the field out rather than send null")
        return value

    @model_validator(mode="after")
    def one_of(self) -> "CustomerRef":
        if (self.code is None) == (self.telegram_id is None):
            raise ValueError("give the customer's code or their telegram_id, not both")
        return self


EXAMPLE_CUSTOMER = "K7Q2-9XHM"  # the README's customer (tests/api/test_fuzzing.py makes them real)


def outlet_code() -> Any:
    """A sale's outlet, by its code (GET /v1/outlets): optional, one rule for sales and receipts."""
    return Field(
        default=None,
        min_length=1,
        max_length=40,
        pattern=r"^[a-z0-9-]+$",
        description="The outlet's code where it was sold (a key made for one outlet needs none)",
    )


class PurchaseIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"customer": {"code": EXAMPLE_CUSTOMER}, "amount": 125000, "external_id": "till1-000123"},
                {"customer": {"code": EXAMPLE_CUSTOMER}, "stamps": 2, "external_id": "till1-000124"},
            ]
        }
    )
    customer: CustomerRef
    amount: StrictInt | None = Field(
        default=None, ge=1, le=ROW_ID_MAX, description="Rupiah spent (shops running points need it)"
    )
    stamps: StrictInt | None = Field(
        default=None, ge=1, le=20, description="Purchases to stamp (1 unless given)"
    )
    currency: Literal["IDR"] = "IDR"
    external_id: str = Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$", description="The till's sale id"
    )
    items: list[dict[str, object]] | None = Field(default=None, max_length=100)
    occurred_at: Rfc3339 | None = Field(
        default=None,
        description="When the sale was rung up (RFC 3339, with a time zone); a sale more than 7 days old, or in the future, is refused",
    )
    outlet: str | None = outlet_code()


class ReceiptIn(BaseModel):
    """A sale for a customer who is not at the till: printed as a one-time link and QR."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"amount": 125000, "external_id": "till1-000200", "expires_in": 86400}]
        }
    )
    amount: StrictInt | None = Field(
        default=None, ge=1, le=ROW_ID_MAX, description="Rupiah spent (shops running points need it)"
    )
    stamps: StrictInt | None = Field(
        default=None, ge=1, le=20, description="Purchases to stamp (1 unless given)"
    )
    external_id: str = Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$", description="The till's sale id"
    )
    occurred_at: Rfc3339 | None = Field(
        default=None, description="When the sale was rung up (RFC 3339, with a zone)"
    )
    expires_in: StrictInt | None = Field(
        default=None,
        ge=60,
        le=30 * 24 * 3600,
        description="Seconds the link may be claimed (7 days unless given)",
    )
    outlet: str | None = outlet_code()


class WebhookIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"url": "https://pos.example.com/kartu", "events": ["purchase.credited", "reward.issued"]}
            ]
        }
    )
    url: str = Field(
        max_length=500,
        pattern=r"^https?://[^\s/?#]+",
        description="The https address of your system that takes the events, on a public host",
    )
    events: list[Literal[EVENTS]] | None = Field(  # type: ignore[valid-type]
        default=None, description="The events it takes (all of them unless given)"
    )


IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Yours, unique per request (the sale's id will do): a retry with it gets the first answer",
    ),
]


class Problem(BaseModel):
    """An error, as RFC 9457 problem details."""

    type: str = Field(description="A URI reference naming the kind of problem: /problems/<code> explains it")
    title: str = Field(description="The kind of problem, for people")
    status: int = Field(description="The HTTP status")
    detail: str = Field(description="This occurrence, for people")
    code: str = Field(description="Stable, for programs: not_found, already_credited, rate_limited, …")
    field: str | None = Field(default=None, description="The request's part at fault, if one is")


# -- answers -------------------------------------------------------------------------------------


class CustomerName(BaseModel):
    code: str = Field(description="The customer's Kartu code")
    first_name: str


class CardAfterSale(BaseModel):
    stamps: int
    stamps_required: int
    points: int | None
    rewards_held: int
    tier: str | None = Field(description="The card's level, if the shop runs levels")


class OutletOut(BaseModel):
    code: str = Field(description="What a sale's `outlet` names")
    name: str
    address: str
    timezone: str
    key_outlet: bool = Field(description="This key was made for this outlet")


class OutletList(BaseModel):
    data: list[OutletOut]


class PurchaseOut(BaseModel):
    id: str = Field(description="The purchase's id: refund it with POST /v1/purchases/{id}/refund")
    external_id: str
    customer: CustomerName
    stamps_added: int
    points_added: int
    card: CardAfterSale
    rewards_issued: list[str] = Field(description="Codes of the rewards this sale completed")
    occurred_at: datetime | None
    credited_at: datetime
    outlet: str | None = Field(
        default=None,
        description="The outlet's code where it was sold (null: none named in a business with several)",
    )


class CardBalance(BaseModel):
    stamps: int
    points: int | None


class RefundOut(BaseModel):
    id: str
    customer: str | None = Field(description="The customer's Kartu code (null: a receipt nobody claimed)")
    stamps_removed: int
    stamps_short: int = Field(description="Stamps the card no longer held, so not taken again")
    points_removed: int
    rewards_voided: list[str]
    spins_voided: int
    cause_withdrawn: int = Field(description="Rupiah of the shop's gift to a cause taken back")
    level: str | None = Field(description="The level the card went back to ('' for none); null if kept")
    card: CardBalance | None
    refunded_at: datetime
    outlet: str | None = Field(default=None, description="The outlet's code where the purchase was")


class RedeemOut(BaseModel):
    code: str
    name: str
    redeemed_at: datetime
    customer: str = Field(description="The customer's Kartu code")


class RewardHeld(BaseModel):
    code: str
    name: str
    expires_at: datetime


class CustomerOut(BaseModel):
    code: str
    first_name: str
    stamps: int
    points: int | None
    tier: str | None
    rewards: list[RewardHeld]
    joined_at: datetime


class Member(BaseModel):
    code: str
    first_name: str
    joined_at: datetime
    stamps: int
    points: int | None
    last_visit: datetime | None


class Page(BaseModel):
    next_cursor: str = Field(
        description="Where to go on from, the last page too: pass it back as `cursor` (now, or later to follow)"
    )
    has_more: bool = Field(description="Whether more rows are there now")


class MembersPage(Page):
    data: list[Member]


class LedgerRow(BaseModel):
    id: int
    at: datetime
    customer: str | None = Field(description="The customer's Kartu code")
    asset: str = Field(description="stamp, point, reward, spin, cause, …")
    delta: int
    reason: str
    note: str | None
    outlet: str | None = Field(default=None, description="The outlet's code where it happened")


class LedgerPage(Page):
    data: list[LedgerRow]


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    status: str = Field(description="active, paused or deleted")
    failing_since: datetime | None
    last_success_at: datetime | None
    pending: int = Field(description="Deliveries waiting")
    signing: str = Field(
        description="standard (Standard Webhooks headers) or kartu (Kartu-Signature, until rotated)"
    )
    previous_secret_until: datetime | None = Field(
        description="After a rotation, until when the old secret signs each delivery too"
    )


class WebhookMade(WebhookOut):
    secret: str = Field(description="The signing secret (whsec_…), shown only in this answer")


class WebhookList(BaseModel):
    data: list[WebhookOut]


class ReceiptOut(BaseModel):
    id: str = Field(description="The sale's id: refund it with POST /v1/purchases/{id}/refund")
    external_id: str
    status: Literal["open", "claimed", "expired", "void"]
    amount: int | None
    stamps: int | None
    occurred_at: datetime | None
    created_at: datetime
    expires_at: datetime
    claimed_at: datetime | None
    customer: str | None = Field(description="The Kartu code of who claimed it")
    outlet: str | None = Field(default=None, description="The outlet's code where it was sold")


class ReceiptMade(ReceiptOut):
    link: str = Field(description="The one-time link to print (t.me/<bot>?start=rcpt_…): shown only here")
    qr_png: str = Field(description="The link as a QR code: a PNG, base64")
    qr_svg: str = Field(description="The link as a QR code: an SVG document")
