"""Typed callback data: what a button carries, made by presenters and filtered on by handlers.

Never trusted: services re-check role, ownership and state. Every action is a str Enum, so a
forged value does not match any handler and is answered "no longer valid" by the fallback.
The Enum values are the strings buttons already carry, so buttons sent before keep working.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from kartu.loyalty.exports import ExportPeriod

# A row id as a button may carry it: a forged "1e30" or "99999999999999999999" does not match
# (the tap is answered "no longer valid") instead of overflowing the database driver.
RowId = Annotated[int, Field(ge=0, le=2**63 - 1)]
Token = Annotated[str, Field(min_length=16, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


class Decision(StrEnum):
    """Confirm or cancel a prompt; approve or reject a claim."""

    CONFIRM = "ok"
    CANCEL = "no"


class PurchaseAction(CallbackData, prefix="buy"):
    action: Decision
    token: Token  # the prompt's unguessable token, never a sequential id


class RedeemAction(CallbackData, prefix="rdm"):
    action: Decision
    token: Token


class ShopChoice(CallbackData, prefix="shop"):
    merchant_id: RowId  # re-checked: the person must still work there
    outlet_id: RowId = 0  # re-checked: an outlet of that business, for a member of every outlet


class FormChoice(StrEnum):
    """What a code-like text typed into a guided form was meant to be."""

    CODE = "code"
    ANSWER = "answer"


class CodeOrAnswer(CallbackData, prefix="form"):
    choice: FormChoice


class DataStep(StrEnum):
    LEAVE = "leave"
    FORGET = "forget"
    KEEP = "keep"


class DataAction(CallbackData, prefix="data"):
    action: DataStep
    merchant_id: RowId = 0  # for LEAVE: re-checked, the tapper must hold a card there


class LanguageChoice(CallbackData, prefix="lang"):
    code: str


class SaveChoice(StrEnum):
    SAVE = "save"
    KEEP = "keep"


class ProgramConfirm(CallbackData, prefix="progok"):
    choice: SaveChoice  # the value waits in the owner's form, server-side


class TeamStep(StrEnum):
    INVITE_STAFF = "invite"
    INVITE_OWNER = "coowner"
    INVITE_MANAGER = "manager"
    INVITE_EVERYWHERE = "inviteall"  # staff of every outlet
    REMOVE = "revoke"  # asks first
    REMOVE_CONFIRMED = "revoke_ok"
    UNLOCK = "unlock"
    LIST = "list"


class TeamAction(CallbackData, prefix="team"):
    action: TeamStep
    staff_id: RowId = 0
    outlet_id: RowId = 0  # an invite to one outlet (re-checked: the business's, the lead's own)


class ProgramField(CallbackData, prefix="prog"):
    field: str


class SurveyAnswer(CallbackData, prefix="svy"):
    survey_id: RowId
    rating: Annotated[int, Field(ge=0, le=5)]  # 1-5; 0 means "no comment" after a rating


class ClaimAction(CallbackData, prefix="clm"):
    action: Decision  # CONFIRM approves, CANCEL rejects
    claim_id: RowId
    why: str = ""  # a missing stamp refused: the reason (loyalty.claims.REFUSALS; re-checked)


class MissingStamp(CallbackData, prefix="miss"):
    """ "Missing a stamp?" under /card: ask (``days_ago`` -1), then the visit's day (0: today)."""

    days_ago: Annotated[int, Field(ge=-1, le=6)] = -1


class MergeStep(StrEnum):
    PREVIEW = "look"
    MERGE = "do"
    DROP = "drop"


class MergeChoice(CallbackData, prefix="mrg"):
    """A shop to merge into the business the owner acts for (re-checked: they must own both)."""

    step: MergeStep
    merchant_id: RowId


class WhyChange(CallbackData, prefix="chg"):
    """**Why?** under a card's news: the news's own row (re-checked: the tapper's)."""

    news_id: RowId


class ClaimOutlet(CallbackData, prefix="clo"):
    """The outlet a claim was at: the claim's row (the customer's own, pending) and an outlet of its business."""

    claim_id: RowId
    outlet_id: RowId


class SurveyReason(CallbackData, prefix="why"):
    survey_id: RowId
    reason: str


class BroadcastSegment(CallbackData, prefix="bcs"):
    segment: str
    scope: str = (
        ""  # a business with several outlets: "all", or an outlet's id (re-checked); "": not asked yet
    )


class BroadcastStep(StrEnum):
    SEND = "send"
    DROP = "drop"  # before sending
    STOP = "stop"  # while running


class BroadcastAction(CallbackData, prefix="bca"):
    action: BroadcastStep
    broadcast_id: RowId = 0


class SaleAction(CallbackData, prefix="sale"):
    """Confirm or cancel a purchase with an amount (points)."""

    action: Decision
    token: Token


class CatalogueChoice(CallbackData, prefix="cat"):
    item_id: RowId  # re-checked: the item must still be on the customer's shop's catalogue


class CatalogueStep(StrEnum):
    EXCHANGE = "ok"
    BACK = "back"


class ExchangeAction(CallbackData, prefix="exc"):
    action: CatalogueStep
    token: Token  # the customer's own prompt, created when the reward was shown


class ReturnReward(CallbackData, prefix="ret"):
    reward_id: RowId  # re-checked: the tapper must hold it


class ProgramKinds(StrEnum):
    STAMPS = "stamps"
    POINTS = "points"
    BOTH = "both"


class KindsChoice(CallbackData, prefix="kinds"):
    kinds: ProgramKinds


class KindsStep(StrEnum):
    SWITCH = "switch"  # nobody holds what stops: switch
    KEEP = "keep"  # stamps customers hold: their cards finish them
    CONVERT = "convert"  # asks how many points a stamp becomes, then shows what it comes to
    CONVERT_CONFIRMED = "convert_ok"


class KindsConfirm(CallbackData, prefix="kindsok"):
    """A switch of kinds, after its preview (the owner and the holdings are checked again)."""

    kinds: ProgramKinds
    step: KindsStep
    rate: Annotated[int, Field(ge=0, le=100_000)] = 0


class ItemStep(StrEnum):
    LIST = "list"
    ADD = "add"
    OPEN = "open"
    NAME = "name"
    PRICE = "points_price"
    STOCK = "stock"
    LIMIT = "per_customer_limit"
    PHOTO = "photo"
    HIDE = "hide"
    UP = "up"
    DELETE = "delete"  # asks first
    DELETE_CONFIRMED = "delete_ok"


class ItemAction(CallbackData, prefix="item"):
    action: ItemStep
    item_id: RowId = 0


class ShowCatalogue(CallbackData, prefix="rewards"):
    """Open the customer's rewards and catalogue (the button on a points reminder)."""


class TierStep(StrEnum):
    LIST = "list"
    ADD = "add"
    OPEN = "open"
    EDIT = "edit"
    PERKS = "perks"
    DELETE = "delete"  # asks first
    DELETE_CONFIRMED = "delete_ok"
    BASIS = "basis"
    WINDOW = "window"
    GRACE = "grace"


class TierAction(CallbackData, prefix="tier"):
    """The owner's /tiers screen; ``tier_id`` is re-checked against the owner's shop."""

    action: TierStep
    tier_id: RowId = 0


class GroupInvite(CallbackData, prefix="join"):
    """A customer asks for a fresh invite to their level's group (re-checked: they hold the level)."""

    tier_id: RowId


class VipLink(CallbackData, prefix="vip"):
    """Give a group the bot was made admin of (a server-side row) to a level."""

    group_id: RowId
    tier_id: RowId


class CauseStep(StrEnum):
    SHOW = "show"
    START = "start"
    DESCRIPTION = "description"
    MATCH = "match"
    POINT_VALUE = "point_value"
    STAMP_VALUE = "stamp_value"
    REWARD_VALUE = "reward_value"
    PAYOUT = "payout"
    END = "end"  # asks first
    END_CONFIRMED = "end_ok"


class CauseAction(CallbackData, prefix="cause"):
    """The owner's /causes screen (the running cause is found again server-side)."""

    action: CauseStep


class GiveStep(StrEnum):
    POINTS = "point"
    STAMPS = "stamp"
    REWARDS = "reward"  # lists the customer's unused rewards


class GiveAction(CallbackData, prefix="give"):
    """A customer on /cause chooses what to give; ``reward_id`` (re-checked) names one reward."""

    asset: GiveStep
    reward_id: RowId = 0


class GiftDecision(CallbackData, prefix="gift"):
    """Confirm or cancel a gift: the token names a server-side offer row."""

    action: Decision
    token: Token


class SpinStep(StrEnum):
    SPIN = "go"


class SpinAction(CallbackData, prefix="spin"):
    """Spin the wheel: the customer's oldest ready spin is found again server-side."""

    action: SpinStep = SpinStep.SPIN


class WheelStep(StrEnum):
    SHOW = "show"
    ADD = "add"
    RULE = "rule"
    DAYS = "days"
    DELETE = "delete"


class WheelAction(CallbackData, prefix="wheel"):
    """The owner's /wheel screen; ``prize_id`` is re-checked against the owner's shop."""

    action: WheelStep
    prize_id: RowId = 0


class PartnerStep(StrEnum):
    SHOW = "show"
    PROPOSE = "propose"
    ADDRESS = "address"
    LOCATION = "location"
    VOUCHERS = "vouchers"  # the vouchers' CSV
    ACCEPT = "accept"
    DECLINE = "decline"
    END = "end"  # asks first
    END_CONFIRMED = "end_ok"


class PartnerAction(CallbackData, prefix="partner"):
    """The owner's /partners screen and a proposal's buttons; ``partnership_id`` is re-checked
    against the owner's shop (the partner's owners decide, either side ends)."""

    action: PartnerStep
    partnership_id: RowId = 0


class MemberStep(StrEnum):
    JOIN = "join"  # makes the Stars invoice
    CANCEL = "cancel"  # the renewal (asks first)
    CANCEL_CONFIRMED = "cancel_ok"
    SET = "set"  # the owner's offer line
    WITHDRAW = "withdraw"
    SHOW = "show"


class MemberAction(CallbackData, prefix="member"):
    """/member (customers) and /membership (owners): what is acted on is found again server-side."""

    action: MemberStep


class KeyStep(StrEnum):
    CREATE_EARN = "earn"  # earn, read
    CREATE_ALL = "all"  # earn, redeem, read
    REVOKE = "revoke"


class KeyAction(CallbackData, prefix="apikey"):
    """The owner's /apikeys screen; ``key_id`` is re-checked against the owner's shop."""

    action: KeyStep
    key_id: RowId = 0
    where: str = ""  # a new key in a business with several outlets: "all", or an outlet's id; "": not asked


class HookStep(StrEnum):
    ADD = "add"
    PAUSE = "pause"
    RESUME = "resume"
    DELETE = "delete"
    EVENTS = "events"  # the endpoint's events, each a toggle
    TOGGLE = "toggle"
    BACK = "back"
    ROTATE = "rotate"  # a new signing secret, shown once


class HookAction(CallbackData, prefix="hook"):
    """The owner's /webhooks screen; ``endpoint_id`` is re-checked against the owner's shop,
    ``event`` is an index into the fixed list of events."""

    action: HookStep
    endpoint_id: RowId = 0
    event: int = Field(default=0, ge=0, le=20)


class GuidedStep(StrEnum):
    PICK = "pick"  # one of the step's choices
    SKIP = "skip"
    BACK = "back"
    CANCEL = "cancel"
    SAVE = "save"


class GuidedAction(CallbackData, prefix="gf"):
    """A step of the owner's open guided form (the form, its answers and its screen are kept
    server-side, in the form's state; a tap on an older screen is refused)."""

    action: GuidedStep
    pick: Annotated[int, Field(ge=0, le=20)] = 0


class ExportChoice(CallbackData, prefix="exp"):
    run: Token  # the export run the question made (server-side: its shop, its owner, its state)
    period: ExportPeriod
