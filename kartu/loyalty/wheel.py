"""Spin the wheel: prizes with published odds and daily and monthly budgets, spins earned by
purchases. The draw is made on the server with `secrets`; a prize whose budget is spent falls back
to the next prize that still has one (or to "try again")."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from kartu.loyalty.errors import InvalidSetting
from kartu.loyalty.numbers import parse_whole_number
from kartu.loyalty.points import parse_rupiah

ODDS_SCALE = 10_000  # odds in hundredths of a percent: 2500 is 25%
MAX_PRIZES = 8
PRIZE_MAX = 1_000  # stamps or points one prize may give
BUDGET_MAX = 100_000
SPIN_DAYS_MAX = 90
EVERY_MAX = 50


class PrizeKind(StrEnum):
    STAMPS = "stamps"
    POINTS = "points"
    ITEM = "item"  # a reward from the catalogue
    NOTHING = "nothing"  # "try again"


class EarnRule(StrEnum):
    OFF = "off"
    EVERY = "every"  # every purchase (every Nth, with n > 1)
    AMOUNT = "amount"  # a purchase of at least an amount


@dataclass(frozen=True)
class Prize:
    id: int
    kind: PrizeKind
    amount: int  # stamps or points; 0 for an item or nothing
    label: str
    odds: int  # in ODDS_SCALE
    daily_budget: int | None = None
    monthly_budget: int | None = None
    item_id: int | None = None


@dataclass(frozen=True)
class Spent:
    """How many of a prize were won today and this month (shop time)."""

    today: int = 0
    month: int = 0


def has_budget(prize: Prize, spent: Spent) -> bool:
    if prize.daily_budget is not None and spent.today >= prize.daily_budget:
        return False
    return prize.monthly_budget is None or spent.month < prize.monthly_budget


def pick(prizes: Sequence[Prize], roll: int) -> Prize | None:
    """The prize a roll in ``[0, ODDS_SCALE)`` lands on, by their odds in order; ``None``: the rest
    of the wheel ("try again")."""
    edge = 0
    for prize in prizes:
        edge += prize.odds
        if roll < edge:
            return prize
    return None


def draw(
    prizes: Sequence[Prize],
    spent: dict[int, Spent],
    roll: Callable[[int], int] = secrets.randbelow,
) -> Prize | None:
    """Spin: land by the odds; a prize out of budget gives the next prize in order that has budget
    left (wrapping round the wheel), and none left at all gives nothing."""
    landed = pick(prizes, roll(ODDS_SCALE))
    if landed is None or landed.kind is PrizeKind.NOTHING:
        return landed
    start = prizes.index(landed)
    for offset in range(len(prizes)):
        prize = prizes[(start + offset) % len(prizes)]
        if prize.kind is PrizeKind.NOTHING:
            continue
        if has_budget(prize, spent.get(prize.id, Spent())):
            return prize
    return None


def earns_spin(rule: EarnRule, every: int, minimum: int, purchase_number: int, amount: int | None) -> bool:
    """Whether a purchase earns a spin: every purchase, every ``every``-th (the customer's
    ``purchase_number``-th here), or one of at least ``minimum`` rupiah."""
    match rule:
        case EarnRule.EVERY:
            return purchase_number > 0 and purchase_number % max(every, 1) == 0
        case EarnRule.AMOUNT:
            return amount is not None and amount >= minimum > 0
    return False


_ODDS = re.compile(r"(\d{1,3})(?:[.,](\d{1,2}))?\s*%")
_BUDGET = re.compile(r"(\d{1,6})\s*/\s*(day|hari|month|bulan)")
_AMOUNT = re.compile(r"(\d{1,4})\s+(stamps?|stempel|points?|poin)")


def parse_odds(text: str) -> int:
    found = _ODDS.fullmatch(text.strip().lower())
    if found is None:
        raise InvalidSetting("odds")
    odds = int(found.group(1)) * 100 + int((found.group(2) or "").ljust(2, "0") or 0)
    if not 0 < odds <= ODDS_SCALE:
        raise InvalidSetting("odds")
    return odds


@dataclass(frozen=True)
class PrizeLine:
    kind: PrizeKind
    amount: int
    item_name: str | None
    odds: int
    daily_budget: int | None
    monthly_budget: int | None


_KIND_WORDS = {
    PrizeKind.STAMPS: ("stamps", "stamp", "stempel"),
    PrizeKind.POINTS: ("points", "point", "poin"),
    PrizeKind.ITEM: ("item", "reward", "hadiah", "catalogue", "katalog"),
    PrizeKind.NOTHING: ("nothing", "try again", "coba lagi", "-"),
}


def parse_prize_kind(text: str | None) -> PrizeKind:
    """What a prize gives, as a guided form's button says or an owner types it."""
    cleaned = " ".join((text or "").strip().lower().split())
    for kind, words in _KIND_WORDS.items():
        if cleaned == kind.value or cleaned in words:
            return kind
    raise InvalidSetting("prize_kind")


def parse_prize_amount(text: str | None) -> int:
    amount = parse_whole_number(text, 1, PRIZE_MAX)
    if amount is None:
        raise InvalidSetting("prize_amount", 1, PRIZE_MAX)
    return amount


def parse_budget(text: str | None) -> int | None:
    """A daily or monthly budget: a whole number (0 gives none), or nothing for no limit."""
    cleaned = (text or "").strip().lower()
    if cleaned in ("", "-"):
        return None
    found = _BUDGET.fullmatch(cleaned)
    value = parse_whole_number(found.group(1) if found else cleaned, 0, BUDGET_MAX)
    if value is None:
        raise InvalidSetting("prize_budget", 0, BUDGET_MAX)
    return value


def prize_from(answers: Mapping[str, str]) -> PrizeLine:
    """A prize from a guided form's answers (kind, amount or item, odds, budgets)."""
    kind = parse_prize_kind(answers.get("kind"))
    amount = parse_prize_amount(answers.get("amount")) if kind in (PrizeKind.STAMPS, PrizeKind.POINTS) else 0
    item = " ".join((answers.get("item") or "").split()) if kind is PrizeKind.ITEM else None
    if kind is PrizeKind.ITEM and not item:
        raise InvalidSetting("prize_item")
    return PrizeLine(
        kind,
        amount,
        item,
        parse_odds(answers.get("odds") or ""),
        parse_budget(answers.get("daily")) if kind is not PrizeKind.NOTHING else None,
        parse_budget(answers.get("monthly")) if kind is not PrizeKind.NOTHING else None,
    )


def parse_prize(text: str | None) -> PrizeLine:
    """``2 stamps; 25%; 10/day; 200/month``, ``50 poin; 10%``, ``Iced Latte; 5%; 3/day`` (a
    catalogue reward by name), ``try again; 40%``."""
    parts = [part.strip() for part in (text or "").split(";")]
    if len(parts) < 2 or len(parts) > 4:
        raise InvalidSetting("prize")
    what, odds = parts[0], parse_odds(parts[1])
    daily = monthly = None
    for budget in parts[2:]:
        found = _BUDGET.fullmatch(budget.lower())
        value = parse_whole_number(found.group(1), 0, BUDGET_MAX) if found else None
        if found is None or value is None:
            raise InvalidSetting("prize_budget", 0, BUDGET_MAX)
        if found.group(2) in ("day", "hari"):
            daily = value
        else:
            monthly = value
    lowered = " ".join(what.lower().split())
    amount = _AMOUNT.fullmatch(lowered)
    if lowered in ("try again", "coba lagi", "-"):
        return PrizeLine(PrizeKind.NOTHING, 0, None, odds, None, None)
    if amount is not None:
        count = parse_whole_number(amount.group(1), 1, PRIZE_MAX)
        if count is None:
            raise InvalidSetting("prize_amount", 1, PRIZE_MAX)
        kind = PrizeKind.STAMPS if amount.group(2).startswith(("stamp", "stempel")) else PrizeKind.POINTS
        return PrizeLine(kind, count, None, odds, daily, monthly)
    if not lowered or parse_rupiah(lowered, 10**12) is not None:
        raise InvalidSetting("prize")
    return PrizeLine(PrizeKind.ITEM, 0, " ".join(what.split()), odds, daily, monthly)


def check_odds(existing: Sequence[int], added: int) -> None:
    """The wheel's odds may not sum over 100%."""
    if sum(existing) + added > ODDS_SCALE:
        raise InvalidSetting("odds_total", 0, ODDS_SCALE - sum(existing))


def parse_earn_rule(text: str | None) -> tuple[EarnRule, int, int]:
    """``every``, ``every 3``, ``over 100.000`` / ``di atas 100rb``, ``off``: the rule, every-N, minimum."""
    cleaned = " ".join((text or "").strip().lower().split())
    if cleaned in ("off", "mati", "-", "0"):
        return EarnRule.OFF, 1, 0
    every = re.fullmatch(r"(?:every|tiap|setiap)(?:\s+(\d{1,2}))?", cleaned)
    if every is not None:
        n = parse_whole_number(every.group(1) or "1", 1, EVERY_MAX)
        if n is None:
            raise InvalidSetting("spin_rule")
        return EarnRule.EVERY, n, 0
    over = re.fullmatch(r"(?:over|above|min|minimal|di atas|>=?)\s*(.+)", cleaned)
    minimum = parse_rupiah(over.group(1), 10**9) if over else None
    if minimum is None:
        raise InvalidSetting("spin_rule")
    return EarnRule.AMOUNT, 1, minimum
