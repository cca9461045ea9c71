"""Typed callback data. Never trusted: services re-check role, ownership and state."""

from __future__ import annotations

from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

# A row id as a button may carry it: a forged "1e30" or "99999999999999999999" does not match
# (the tap is answered "no longer valid") instead of overflowing the database driver.
RowId = Annotated[int, Field(ge=0, le=2**63 - 1)]
Token = Annotated[str, Field(min_length=16, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


class PurchaseAction(CallbackData, prefix="buy"):
    action: str  # "ok" or "no"
    token: Token  # the prompt's unguessable token, never a sequential id


class RedeemAction(CallbackData, prefix="rdm"):
    action: str
    token: Token


class ShopChoice(CallbackData, prefix="shop"):
    merchant_id: RowId  # re-checked: the person must still work there


class CodeOrAnswer(CallbackData, prefix="form"):
    choice: str  # "code": it was a customer or reward code; "answer": it is the form's answer


class DataAction(CallbackData, prefix="data"):
    action: str  # "leave", "forget" or "keep"
    merchant_id: RowId = 0  # for "leave": re-checked, the tapper must hold a card there


class LanguageChoice(CallbackData, prefix="lang"):
    code: str


class ProgramConfirm(CallbackData, prefix="progok"):
    choice: str  # "save" or "keep"; the value waits in the owner's form, server-side


class TeamAction(CallbackData, prefix="team"):
    action: str  # "invite", "coowner", "revoke" (asks), "revoke_ok", "unlock" or "list"
    staff_id: RowId = 0


class ProgramField(CallbackData, prefix="prog"):
    field: str


class SurveyAnswer(CallbackData, prefix="svy"):
    survey_id: RowId
    rating: Annotated[int, Field(ge=0, le=5)]  # 1-5; 0 means "no comment" after a rating


class ClaimAction(CallbackData, prefix="clm"):
    action: str  # "ok" or "no"
    claim_id: RowId


class SurveyReason(CallbackData, prefix="why"):
    survey_id: RowId
    reason: str


class BroadcastSegment(CallbackData, prefix="bcs"):
    segment: str


class BroadcastAction(CallbackData, prefix="bca"):
    action: str  # "send", "drop" (before sending) or "stop" (while running)
    broadcast_id: RowId = 0
