"""Typed callback data. Never trusted: services re-check role, ownership and state."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class PurchaseAction(CallbackData, prefix="buy"):
    action: str  # "ok" or "no"
    prompt_id: int


class RedeemAction(CallbackData, prefix="rdm"):
    action: str
    reward_id: int


class LanguageChoice(CallbackData, prefix="lang"):
    code: str


class TeamAction(CallbackData, prefix="team"):
    action: str  # "invite" or "revoke"
    staff_id: int = 0


class ProgramField(CallbackData, prefix="prog"):
    field: str


class SurveyAnswer(CallbackData, prefix="svy"):
    survey_id: int
    rating: int  # 1-5; 0 means "no comment" after a rating


class ClaimAction(CallbackData, prefix="clm"):
    action: str  # "ok" or "no"
    claim_id: int


class SurveyReason(CallbackData, prefix="why"):
    survey_id: int
    reason: str


class BroadcastSegment(CallbackData, prefix="bcs"):
    segment: str


class BroadcastAction(CallbackData, prefix="bca"):
    action: str  # "send", "drop" (before sending) or "stop" (while running)
    broadcast_id: int = 0
