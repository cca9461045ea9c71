"""The whole story in Telegram: staff invited, customer joins, ten purchases, a reward, a redemption."""

from __future__ import annotations

import re

from kartu.loyalty.program import ProgramRules
from kartu.sandbox import TelegramUser
from tests.e2e.conftest import World


def _code_in(text: str) -> str:
    match = re.search(r"\b([0-9A-Z]{4,5}-[0-9A-Z]{4,5})\b", text)
    assert match, f"no code in {text!r}"
    return match.group(1)


async def _invite_staff(world: World, owner: TelegramUser, barista: TelegramUser) -> None:
    team = await owner.ask("/staff")
    await owner.press(team, "Undang")  # owner speaks Indonesian
    invite = await owner.next_message()
    link = re.search(r"start=(staff_[\w-]+)", invite.body)
    assert link, invite.body
    welcome = await barista.ask(f"/start {link.group(1)}")
    assert "staff" in welcome.body and "Kopi Senja" in welcome.body


async def test_staff_fills_a_card_and_redeems_the_reward(world: World, owner: TelegramUser) -> None:
    join = await world.create_shop(rules=ProgramRules(daily_stamp_cap=0))
    barista = world.user(200, "Budi", "en")
    await _invite_staff(world, owner, barista)

    customer = world.user(300, "Ayu", "id-ID")
    welcome = await customer.ask(f"/start {join}")
    assert "Selamat datang di <b>Kopi Senja</b>, Ayu" in welcome.body
    assert "🎟 Kartu saya" in welcome.keyboard_labels()
    code = _code_in(welcome.body)

    for purchase in range(1, 11):
        typed = code.lower().replace("-", "") if purchase % 2 else code  # any case, with or without dash
        prompt = await barista.ask(typed)
        assert "Ayu" in prompt.body
        answer = await barista.press(prompt, "Confirm")
        assert answer.text == "Confirmed."
        news = await customer.next_message()
        assert news.photo and news.photo.startswith(b"\x89PNG")
        if purchase < 10:
            assert f"{purchase}/10" in news.body and "+1 stempel" in news.body
            assert f"{purchase}/10" in prompt.body or await world.emulator.wait_for(lambda: f"{purchase}/10" in prompt.body)

    assert "0/10" in news.body
    reward_news = await customer.next_message()
    assert "Kartu Anda penuh" in reward_news.body
    reward_code = _code_in(reward_news.body)

    rewards = await customer.ask("/rewards")
    assert reward_code in rewards.body

    redeem = await barista.ask(f"/redeem {reward_code}")
    assert "1 free drink" in redeem.body and "Ayu" in redeem.body
    assert (await barista.press(redeem, "Confirm")).text == "Redeemed."
    thanks = await customer.next_message()
    assert "Selamat menikmati" in thanks.body

    again = await barista.ask(f"/redeem {reward_code}")
    assert again.body == "This reward was already redeemed."
    assert "Anda belum punya hadiah" in (await customer.ask("/rewards")).body
