"""Claims as use cases: one decision wins, a rejection makes the customer wait, an approval credits once."""

from __future__ import annotations

import pytest

from kartu.loyalty.clock import FrozenClock
from kartu.loyalty.errors import ClaimAlreadyOpen, ClaimClosed, ClaimTooSoon, InvalidAmount, NotStaff
from tests.services.conftest import BARISTA, CUSTOMER, OWNER, STRANGER, Shop


async def test_an_approved_claim_credits_once_and_keeps_the_customers_name(shop: Shop) -> None:
    claims = shop.services.claims
    claim = await claims.open_claim(CUSTOMER, "25.000")
    assert (claim.amount, claim.customer_first_name) == ("25.000", "Ayu")
    assert {staff.telegram_id for staff in claim.staff} == {OWNER, BARISTA}  # nobody on duty: everyone
    with pytest.raises(ClaimAlreadyOpen):
        await claims.open_claim(CUSTOMER)
    decision = await claims.decide(BARISTA, claim.claim_id, approve=True)
    assert (decision.approved, decision.decided_by, decision.customer_first_name) == (True, "Budi", "Ayu")
    assert decision.purchase is not None and decision.purchase.card.stamps == 1
    with pytest.raises(ClaimClosed) as closed:
        await claims.decide(OWNER, claim.claim_id, approve=True)
    assert (closed.value.status, closed.value.decided_by) == ("approved", "Budi")


async def test_a_rejection_makes_the_next_claim_wait(shop: Shop, clock: FrozenClock) -> None:
    claims = shop.services.claims
    claim = await claims.open_claim(CUSTOMER)
    await claims.decide(BARISTA, claim.claim_id, approve=False)
    with pytest.raises(ClaimTooSoon) as waiting:
        await claims.open_claim(CUSTOMER)
    assert waiting.value.minutes == 10
    clock.advance(minutes=10)
    assert (await claims.open_claim(CUSTOMER)).claim_id != claim.claim_id


async def test_strangers_and_odd_amounts_are_refused(shop: Shop) -> None:
    claims = shop.services.claims
    with pytest.raises(InvalidAmount):
        await claims.open_claim(CUSTOMER, "lots")
    claim = await claims.open_claim(CUSTOMER)
    with pytest.raises(NotStaff):
        await claims.decide(STRANGER, claim.claim_id, approve=True)


async def test_staff_on_duty_get_the_claims(shop: Shop) -> None:
    assert await shop.services.claims.toggle_duty(BARISTA) is True
    claim = await shop.services.claims.open_claim(CUSTOMER)
    assert [staff.telegram_id for staff in claim.staff] == [BARISTA]
