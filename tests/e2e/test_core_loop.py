"""The whole story in Telegram: staff invited, customer joins, ten purchases, a reward, a redemption."""

from __future__ import annotations

from kartu.loyalty.program import ProgramRules
from kartu.sandbox import TelegramUser
from tests.e2e.world import World, code_in


async def test_staff_fills_a_card_and_redeems_the_reward(
    world: World, owner: TelegramUser, barista: TelegramUser, customer: TelegramUser
) -> None:
    join = await world.create_shop(rules=ProgramRules(daily_stamp_cap=0))
    await world.hire(owner, barista)

    welcome = await customer.ask(f"/start {join}")
    assert "Selamat datang di <b>Kopi Senja</b>, Ayu" in welcome.body
    assert "🎟 Kartu saya" in welcome.keyboard_labels()
    code = code_in(welcome.body)

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
            shown = f"{purchase}/10"
            assert await barista.until(lambda prompt=prompt, shown=shown: shown in prompt.body)

    assert "kartumu sudah penuh" in news.body  # the full card first, then its reward
    reward_news = await customer.next_message()
    assert "Hadiahmu: <b>1 free drink</b>" in reward_news.body
    reward_code = code_in(reward_news.body)

    rewards = await customer.ask("/rewards")
    assert reward_code in rewards.body

    redeem = await barista.ask(f"/redeem {reward_code}")
    assert "1 free drink" in redeem.body and "Ayu" in redeem.body
    assert (await barista.press(redeem, "Confirm")).text == "Redeemed."
    thanks = await customer.next_message()
    assert "Selamat menikmati" in thanks.body

    again = await barista.ask(f"/redeem {reward_code}")
    assert again.body == "This reward was already redeemed."
    assert "Kamu belum punya hadiah" in (await customer.ask("/rewards")).body
