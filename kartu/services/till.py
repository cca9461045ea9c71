"""A sale rung up at the till, credited as a staff confirmation would be: stamps (while the shop
runs them), points on the amount (in a shop running points), the daily cap and the rest. Shared by
the API's purchases and receipts claimed through their link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kartu.config import Settings
from kartu.loyalty.kinds import Kinds
from kartu.services.crediting import Purchase, PurchaseResult, credit
from kartu.services.points import Sale, credit_sale
from kartu.storage.counter import CounterStatements


@dataclass(frozen=True)
class Till:
    merchant_id: int
    timezone: str
    actor_id: int
    outlet_id: int | None = None  # the key's outlet, or the one the sale names


async def credit_at_till(
    statements: CounterStatements,
    now: datetime,
    settings: Settings,
    till: Till,
    kinds: Kinds,
    held_stamps: int,
    person_id: int,
    amount: int | None,
    stamps: int | None,
    source: str,
) -> PurchaseResult:
    purchases = (stamps or 1) if kinds.earns_stamps(held_stamps) else 0
    if kinds.points and amount is not None:
        sale = Sale(
            till.merchant_id,
            till.actor_id,
            person_id,
            amount,
            source,
            None,
            purchases,
            till=True,
            outlet_id=till.outlet_id,
        )
        return await credit_sale(statements, now, settings, sale, till.timezone)
    return await credit(
        statements,
        now,
        settings,
        Purchase(
            till.merchant_id,
            till.timezone,
            till.actor_id,
            person_id,
            purchases,
            source,
            till=True,
            outlet_id=till.outlet_id,
        ),
    )
