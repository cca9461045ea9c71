"""What a confirmed purchase sets off besides its own credit: the card's level, a spin of the wheel,
partners' vouchers. One transaction right after the purchase's (the counter's hot path stays
short), or inside it (a claim); shops known to have none of them skip it."""

from __future__ import annotations

from datetime import datetime

from kartu.services.partners import issue_vouchers, known_without_partners
from kartu.services.tiers import Moved, known_without_levels, move_card
from kartu.services.wheel import earn_spin, known_without_spins
from kartu.storage.courier import Parcel
from kartu.storage.models import Merchant, Program
from kartu.storage.unit_of_work import UnitOfWork


def nothing_after(merchant_id: int) -> bool:
    """This process knows the shop has no levels, gives no spins and no partner vouchers."""
    return (
        known_without_levels(merchant_id)
        and known_without_spins(merchant_id)
        and known_without_partners(merchant_id)
    )


async def after_purchase(
    uow: UnitOfWork,
    now: datetime,
    merchant: Merchant,
    program: Program,
    person_id: int,
    source: str,
    amount: int | None,
) -> list[Moved | Parcel | None]:
    """The news each step wrote, to be delivered after the purchase's own."""
    moved = await move_card(uow, now, merchant, program, person_id)
    spin = await earn_spin(uow, now, merchant, program, person_id, source, amount)
    vouchers = await issue_vouchers(uow, now, merchant, person_id, source, amount)
    return [moved, spin, *vouchers]
