"""The register of personal data: every column of every table, classified once. /mydata exports and
/forget erases what this register says, so a table added later cannot escape them:
tests/storage/test_register.py fails on a column the register does not classify, and walks the
database after /forget for any personal value left.

- ``PERSONAL`` names or identifies a person (a name, a Telegram id or username, a code that finds
  them, what they wrote): in /mydata, and erased by /forget in the way its `Erase` says (or kept,
  with the law that asks for it: ``kept_because``).
- ``PSEUDONYMOUS`` is what a person did, linked only by Kartu's internal ids (stamps, points,
  purchases, ratings): in /mydata, and kept after /forget so the shops' books still add up; once
  the person row is erased nothing links it to anyone.
- ``BUSINESS`` is the shop's or Kartu's own (settings, ids, technical state): neither.

The legal basis (Indonesia's personal data protection law, UU 27/2022) is in SECURITY.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from kartu.loyalty.tally import COUNTS


class Class(StrEnum):
    PERSONAL = "personal"
    PSEUDONYMOUS = "pseudonymous"
    BUSINESS = "business"


class Erase(StrEnum):
    """How /forget erases a personal column (in the rows about the person)."""

    NULL = "null"
    BLANK = "blank"  # an empty string (the column may not be null)
    NOBODY = "nobody"  # person.telegram_id: an id no Telegram user has (minus the person's id)
    ANONYMOUS_CODE = "anonymous code"  # person.personal_code: a code nobody can type
    DELETE_ROW = "delete row"  # the whole row goes (queued messages, open forms)
    REDACT = "redact"  # a stored JSON document keeps its shape, the person's values go
    KEEP = "keep"  # kept for a reason the law gives (``kept_because``)


@dataclass(frozen=True)
class Column:
    kind: Class
    erase: Erase | None = None
    kept_because: str | None = None


P, S, B = Class.PERSONAL, Class.PSEUDONYMOUS, Class.BUSINESS
_BUSINESS = Column(B)
_PSEUDONYMOUS = Column(S)


def personal(erase: Erase, kept_because: str | None = None) -> Column:
    return Column(P, erase, kept_because)


class Locator(StrEnum):
    """How rows about a person are found in a table with no person-id column."""

    TELEGRAM_KEY = "telegram key"  # conversation_state.key holds the Telegram id (aiogram's storage key)
    TELEGRAM_CHAT = "telegram chat"  # a chat id that is the person's private chat
    PERSONAL_CODE = "personal code"  # a stored answer that quotes the person's code
    USERNAME = "username"  # an invite meant for the person's @username
    WHATSAPP_SENDER = "whatsapp sender"  # a WhatsApp event from the person (their business-scoped id)


@dataclass(frozen=True)
class Table:
    """How a table relates to people: ``about`` lists the columns holding the id of the person a
    row is about (its subject: a customer's card, a staff member's role); ``locator`` finds rows
    that hold personal data without such a column. ``title`` names the table's part of /mydata."""

    title: str
    columns: dict[str, Column]
    about: tuple[str, ...] = ()
    locator: Locator | None = None
    located_by: str | None = None  # the column the locator matches
    mentions: tuple[str, ...] = field(default=())  # other people's ids in the row (who confirmed, who sent)
    through: tuple[str, str] | None = None  # (column, table): rows whose column is an id of that
    # table's rows about the person (a payment of their membership)


def _b(*names: str) -> dict[str, Column]:
    return dict.fromkeys(names, _BUSINESS)


def _s(*names: str) -> dict[str, Column]:
    return dict.fromkeys(names, _PSEUDONYMOUS)


_PAYMENT_RECORDS = "books and their documents are kept ten years (UU 28/2007, art. 28(11))"

REGISTER: dict[str, Table] = {
    "person": Table(
        "person",
        {
            "id": _BUSINESS,
            "telegram_id": personal(Erase.NOBODY),
            "first_name": personal(Erase.BLANK),
            "username": personal(Erase.NULL),
            "telegram_language": personal(Erase.NULL),
            "language": personal(Erase.NULL),
            "personal_code": personal(Erase.ANONYMOUS_CODE),
            "birthday_day": personal(Erase.NULL),
            "birthday_month": personal(Erase.NULL),
            "birthday_set_at": personal(Erase.NULL),
            "current_merchant_id": personal(Erase.NULL),
            "acting_merchant_id": personal(Erase.NULL),
            **_s("unreachable_at", "created_at", "forgotten_at"),
        },
        about=("id",),
    ),
    "contact": Table(
        "messenger identities",
        {
            **_b("id", "person_id", "channel", "created_at"),
            "address": personal(Erase.DELETE_ROW),
            "phone": personal(Erase.DELETE_ROW),
            "consent_at": personal(Erase.DELETE_ROW),
            "last_inbound_at": personal(Erase.DELETE_ROW),
        },
        about=("person_id",),
    ),
    "outlet": Table(
        "outlets",
        _b("id", "merchant_id", "slug", "name", "address", "latitude", "longitude", "timezone", "created_at"),
    ),
    "channel_link": Table(
        "codes to link a messenger",
        {**_b("id", "person_id", "channel", "code_hash", "expires_at", "used_at", "created_at")},
        about=("person_id",),
    ),
    "card": Table(
        "cards",
        {
            **_b("id", "merchant_id", "person_id"),
            **_s(
                "stamps",
                "points",
                "joined_at",
                "last_purchase_at",
                "promotions_opt_out",
                "tier_id",
                "tier_since",
                "tier_reviewed_at",
                "tier_grace_until",
                "visits",
                "joined_outlet_id",
                "last_outlet_id",
            ),
            "invite_token": personal(Erase.NULL),  # it finds the card's holder
        },
        about=("person_id",),
    ),
    "ledger_entry": Table(
        "ledger",
        {
            **_b("id", "merchant_id", "person_id", "actor_person_id", "idempotency_key", "reward_id"),
            **_b("prompt_id", "cause_id", "origin", "outlet_id"),
            **_s("asset", "delta", "reason", "amount", "created_at"),
            "note": personal(Erase.NULL),  # an owner's words about the customer
        },
        about=("person_id",),
        mentions=("actor_person_id",),
    ),
    "points_batch": Table(
        "points",
        {
            **_b("id", "merchant_id", "person_id", "source"),
            **_s("points", "remaining", "earned_at", "expires_at", "expired_at"),
        },
        about=("person_id",),
    ),
    "points_draw": Table(
        "points spent",
        {**_b("id", "batch_id", "reward_id"), **_s("points")},
        through=("batch_id", "points_batch"),
    ),
    "reward": Table(
        "rewards",
        {
            **_b("id", "merchant_id", "person_id", "redeemed_by_person_id", "catalogue_item_id"),
            **_b("partnership_id"),
            **_s("code", "name", "issued_at", "expires_at", "redeemed_at", "expired_at"),
            **_s("points_price", "returned_at"),
        },
        about=("person_id",),
        mentions=("redeemed_by_person_id",),
    ),
    "purchase_prompt": Table(
        "purchases confirmed at the counter",
        {
            **_b("id", "token", "kind", "reward_id", "merchant_id", "customer_person_id", "staff_person_id"),
            **_b("catalogue_item_id", "decided_by_person_id", "outlet_id"),
            **_s("purchases", "amount", "status", "created_at", "expires_at", "decided_at"),
        },
        about=("customer_person_id",),
        mentions=("staff_person_id", "decided_by_person_id"),
    ),
    "purchase_claim": Table(
        "claims",
        {
            **_b("id", "merchant_id", "person_id", "decided_by_person_id", "outlet_id"),
            **_s("amount", "status", "created_at", "expires_at", "decided_at", "visit_day", "note"),
            "photo_file_id": personal(Erase.NULL),  # a receipt may show a name or a card's digits
        },
        about=("person_id",),
        mentions=("decided_by_person_id",),
    ),
    "claim_notice": Table(
        "claims shown to staff",
        {**_b("id", "claim_id", "message_id", "language"), "chat_id": personal(Erase.DELETE_ROW)},
        locator=Locator.TELEGRAM_CHAT,
        located_by="chat_id",
    ),
    "purchase_refund": Table(
        "refunds",
        {
            **_b("id", "merchant_id", "person_id", "source", "actor_person_id", "stamps_short"),
            **_s("refunded_at"),
        },
        about=("person_id",),
        mentions=("actor_person_id",),
    ),
    "survey": Table(
        "surveys",
        {
            **_b("id", "merchant_id", "person_id", "prompt_id", "outlet_id"),
            **_s("created_at", "rating", "rated_at", "reason", "commented_at"),
            "comment": personal(Erase.NULL),  # what they wrote may name them
        },
        about=("person_id",),
    ),
    "staff_member": Table(
        "staff_roles",
        {
            **_b("id", "merchant_id", "person_id", "outlet_id", "at_outlet_id"),
            **_s("role", "added_at", "revoked_at", "last_active_at", "on_duty", "code_misses"),
            **_s("miss_window_start", "misses_in_window", "locked_at"),
        },
        about=("person_id",),
    ),
    "staff_invite": Table(
        "staff invitations",
        {
            **_b(
                "id", "token", "merchant_id", "role", "created_by_person_id", "used_by_person_id", "outlet_id"
            ),
            **_s("created_at", "expires_at", "used_at"),
            "for_username": personal(Erase.NULL),
        },
        about=("used_by_person_id",),
        locator=Locator.USERNAME,
        located_by="for_username",
        mentions=("created_by_person_id",),
    ),
    "referral": Table(
        "invitations",
        {
            **_b("id", "merchant_id", "referrer_person_id", "friend_person_id"),
            **_s("status", "created_at", "paid_at", "referrer_paid"),
        },
        about=("friend_person_id", "referrer_person_id"),
    ),
    "spin": Table(
        "spins",
        {
            **_b("id", "merchant_id", "person_id", "source", "prize_id"),
            **_s("status", "earned_at", "expires_at", "outcome", "spun_at"),
        },
        about=("person_id",),
    ),
    "cause_offer": Table(
        "gifts offered to causes",
        {
            **_b("id", "token", "cause_id", "person_id", "reward_id"),
            **_s("asset", "units", "rupiah", "status", "created_at", "expires_at"),
        },
        about=("person_id",),
    ),
    "membership": Table(
        "memberships",
        {
            **_b("id", "merchant_id", "person_id", "offer_id"),
            **_s("status", "renews", "paid_until", "reminded_at", "started_at", "ended_at"),
            "charge_id": personal(Erase.KEEP, _PAYMENT_RECORDS),
        },
        about=("person_id",),
    ),
    "star_payment": Table(
        "payments in Telegram Stars",
        {
            **_b("id", "membership_id"),
            **_s("stars", "paid_at", "period_end", "refunded_at"),
            "charge_id": personal(Erase.KEEP, _PAYMENT_RECORDS),
        },
        through=("membership_id", "membership"),
    ),
    "outbox_message": Table(
        "messages waiting to be sent",
        {
            **_b("id", "idempotency_key", "kind", "category", "person_id", "merchant_id", "subject_id"),
            **_b("status", "attempts", "not_before", "claimed_by", "claimed_at", "sent_at", "last_error"),
            **_b("created_at", "sending_at", "channel"),
            "chat_id": personal(Erase.DELETE_ROW),
            "params": personal(Erase.DELETE_ROW),
        },
        about=("person_id",),
    ),
    "conversation_state": Table(
        "open forms",
        {
            "key": personal(Erase.DELETE_ROW),
            "state": personal(Erase.DELETE_ROW),
            "data": personal(Erase.DELETE_ROW),  # what they typed into a form
            "updated_at": _BUSINESS,
        },
        locator=Locator.TELEGRAM_KEY,
        located_by="key",
    ),
    "webhook_delivery": Table(
        "events for the shop's systems",
        {
            **_b("id", "endpoint_id", "event_key", "event_id", "event_type", "person_id", "status"),
            **_b("attempts", "next_attempt_at", "created_at", "delivered_at", "claimed_at", "last_error"),
            "payload": personal(Erase.REDACT),  # names the customer and their code
        },
        about=("person_id",),
    ),
    "api_call": Table(
        "answers kept for a till's retries",
        {
            **_b("id", "api_key_id", "idempotency_key", "body_hash", "status", "created_at", "expires_at"),
            # Quotes the customer's code and name. The whole answer goes: a till retrying after the
            # erasure is answered afresh (a credited sale 409, a refund 404), never an empty replay.
            "response": personal(Erase.DELETE_ROW),
        },
        locator=Locator.PERSONAL_CODE,
        located_by="response",
    ),
    "broadcast": Table(
        "broadcasts",
        {
            **_b("id", "merchant_id", "created_by_person_id", "text", "photo_file_id", "segment", "status"),
            **_b("total", "created_at", "finished_at", "progress_message_id", "progress_text", "outlet_id"),
            "progress_chat_id": personal(Erase.NULL),
        },
        locator=Locator.TELEGRAM_CHAT,
        located_by="progress_chat_id",
        mentions=("created_by_person_id",),
    ),
    # A keyed hash of a forgotten Telegram id per shop, for bonus eligibility only: it names nobody
    # without the server's secret, and is never exported (there is no one left to export it to).
    "forgotten_person": Table("kept after /forget", _b("id", "merchant_id", "digest", "forgotten_at")),
    "kartu_secret": Table("server secrets", _b("name", "value", "created_at")),
    # The shops' own tables: settings, catalogues, teams' tools. People appear only as who made a row.
    "merchant": Table(
        "shops",
        _b("id", "slug", "name", "timezone", "quiet_hours", "address", "latitude", "longitude", "created_at")
        | _b("merged_into_id"),
    ),
    "program": Table(
        "programs",
        _b("id", "merchant_id", "stamps_required", "reward_name", "stamps_per_purchase", "daily_stamp_cap")
        | _b("stamp_expiry_days", "reward_valid_days", "reminder_days", "survey_delay_minutes")
        | _b("survey_every_days", "stamps_enabled", "points_enabled", "stamps_finish", "rupiah_per_point")
        | _b("points_minimum_spend", "points_expiry_months", "max_amount", "return_hours", "welcome_bonus")
        | _b("birthday_bonus", "referral_bonus", "referral_monthly_cap", "referral_hold_days", "tier_basis")
        | _b("tier_window_months", "tier_grace_days", "spin_rule", "spin_every", "spin_min_amount")
        | _b("spin_valid_days", "updated_at"),
    ),
    "catalogue_item": Table(
        "catalogues",
        _b("id", "merchant_id", "name", "points_price", "photo_file_id", "stock", "per_customer_limit")
        | _b("position", "hidden", "deleted_at", "created_at"),
    ),
    "tier": Table(
        "levels",
        _b("id", "merchant_id", "name", "threshold", "multiplier_permille", "perks", "group_chat_id")
        | _b("group_title", "deleted_at", "created_at"),
    ),
    "vip_group": Table(
        "level groups",
        _b("id", "chat_id", "title", "merchant_id", "added_by_person_id", "added_at"),
        mentions=("added_by_person_id",),
    ),
    "cause": Table(
        "causes",
        _b("id", "merchant_id", "name", "description", "target", "ends_at", "give_rupiah", "per_rupiah")
        | _b("point_value", "stamp_value", "reward_value", "status", "reached_at", "closed_at", "created_at"),
    ),
    "cause_payout": Table(
        "cause payouts",
        _b("id", "cause_id", "amount", "paid_on", "note", "recorded_by_person_id", "created_at"),
        mentions=("recorded_by_person_id",),
    ),
    "wheel_prize": Table(
        "wheel prizes",
        _b("id", "merchant_id", "kind", "amount", "catalogue_item_id", "label", "odds", "daily_budget")
        | _b("monthly_budget", "position", "deleted_at", "created_at"),
    ),
    "partnership": Table(
        "partnerships",
        _b("id", "from_merchant_id", "to_merchant_id", "condition", "condition_value", "voucher")
        | _b("voucher_value", "terms", "valid_days", "monthly_cap", "status", "proposed_by_person_id")
        | _b("created_at", "decided_at", "ended_at", "from_outlet_id", "to_outlet_id"),
        mentions=("proposed_by_person_id",),
    ),
    "membership_offer": Table(
        "membership offers",
        _b(
            "id",
            "merchant_id",
            "name",
            "stars",
            "multiplier_permille",
            "monthly_item_id",
            "active",
            "created_at",
        ),
    ),
    "api_key": Table(
        "API keys",
        _b("id", "merchant_id", "prefix", "key_hash", "scopes", "name", "created_by_person_id", "created_at")
        | _b("last_used_at", "revoked_at", "outlet_id"),
        mentions=("created_by_person_id",),
    ),
    "webhook_endpoint": Table(
        "webhook endpoints",
        _b("id", "merchant_id", "url", "secret", "events", "status", "created_by_person_id", "created_at")
        | _b("failing_since", "last_success_at", "last_error")
        | _b("signing", "previous_secret", "previous_signing", "previous_until"),
        mentions=("created_by_person_id",),
    ),
    "receipt": Table(
        "receipts claimed",
        {
            **_b("id", "merchant_id", "source", "external_id", "token_hash", "created_by_key_id"),
            **_b("created_at", "expires_at", "voided_at", "person_id", "outlet_id"),
            **_s("amount", "stamps", "occurred_at", "claimed_at"),
        },
        about=("person_id",),
    ),
    "receipt_miss": Table(
        "receipt links that credited nothing", {**_b("id", "person_id"), **_s("at")}, about=("person_id",)
    ),
    "processed_update": Table(
        "updates handled",
        {
            **_b("update_id", "received_at", "started_at", "done_at", "attempts"),
            # An update as Telegram sent it, held only until it is handled (emptied then).
            "payload": personal(Erase.NULL),
            "chat_id": personal(Erase.NULL),  # its sender, to find an update in flight on /forget
        },
        locator=Locator.TELEGRAM_CHAT,
        located_by="chat_id",
    ),
    "whatsapp_event": Table(
        "WhatsApp messages received",
        {
            **_b("event_id", "received_at", "started_at", "done_at", "attempts"),
            # A message as Meta posted it, held only until it is handled (emptied then).
            "payload": personal(Erase.NULL),
            "sender": personal(Erase.NULL),
        },
        locator=Locator.WHATSAPP_SENDER,
        located_by="sender",
    ),
    "whatsapp_message": Table(
        "WhatsApp messages sent",
        {**_b("id", "merchant_id", "person_id", "category", "billable", "status"), **_s("sent_at")},
        about=("person_id",),
    ),
    "export_run": Table(
        "exports owners asked for",
        _b("id", "token", "merchant_id", "person_id", "status", "period", "since", "last_entry_id")
        | _b("asked_at", "touched_at", "members", "entries", "files", "link_used_at"),
        mentions=("person_id",),
    ),
    "process_beat": Table("running processes", _b("id", "kind", "beat_at")),
    # Counts per shop and day (nobody's), and how far they are counted.
    "daily_tally": Table("the shop's days, counted", _b("merchant_id", "day", *COUNTS)),
    "outlet_tally": Table("the outlets' days, counted", _b("merchant_id", "outlet_id", "day", *COUNTS)),
    "outlet_visit": Table(
        "visits per outlet",
        {**_b("merchant_id", "person_id", "outlet_id"), **_s("visits")},
        about=("person_id",),
    ),
    "tally_mark": Table("how far the days are counted", _b("name", "last_id", "last_at")),
}


def personal_columns(table: str) -> dict[str, Column]:
    return {name: column for name, column in REGISTER[table].columns.items() if column.kind is P}


def exported_columns(table: str) -> list[str]:
    """What /mydata shows of a row: its personal and pseudonymous columns."""
    return [name for name, column in REGISTER[table].columns.items() if column.kind is not B]
