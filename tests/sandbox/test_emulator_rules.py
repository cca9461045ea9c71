"""The emulator refuses what Telegram refuses (issue 8): one test per rule, over HTTP, as a bot
would call it. A lenient emulator would hide the bug in production."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from kartu.sandbox import BotAPIEmulator, TelegramUser

USER = 300


class Api:
    def __init__(self, emulator: BotAPIEmulator, session: aiohttp.ClientSession) -> None:
        self.emulator, self.session = emulator, session

    async def raw(self, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
        async with self.session.post(
            f"{self.emulator.url}/bot{self.emulator.token}/{method}", data=params
        ) as response:
            return response.status, await response.json()

    async def call(self, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
        encoded = {
            key: json.dumps(value) if isinstance(value, dict | list) else value
            for key, value in params.items()
        }
        return await self.raw(method, **encoded)

    async def ok(self, method: str, **params: Any) -> Any:
        status, body = await self.call(method, **params)
        assert status == 200 and body["ok"], body
        return body["result"]

    async def refused(self, method: str, **params: Any) -> str:
        status, body = await self.call(method, **params)
        assert status != 200 and not body["ok"], body
        assert body["error_code"] == status
        return str(body["description"])


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    emulator = BotAPIEmulator()
    await emulator.start()
    emulator.users_started(USER)
    async with aiohttp.ClientSession() as session:
        yield Api(emulator, session)
    await emulator.stop()


def send(text: str, **extra: Any) -> dict[str, Any]:
    return {"chat_id": USER, "text": text, "parse_mode": "HTML", **extra}


BUTTON = {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]}


# HTML parse rules ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<b></b>", "message text is empty"),
        ("   ", "message text is empty"),
        ("a < b", "Unclosed start tag"),
        ("Kopi <3 ya", "Unclosed start tag"),
        ("1 <2> 3", 'Unsupported start tag "2"'),
        ("<b>bold", "Can't find end tag"),
        ("<b><i>x</b></i>", "Unmatched end tag"),
        ("x</b>", "Unexpected end tag"),
        ("<div>x</div>", 'Unsupported start tag "div"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("<b", "Unclosed start tag"),
    ],
)
async def test_html_that_telegram_cannot_parse(api: Api, text: str, reason: str) -> None:
    assert reason in await api.refused("sendMessage", **send(text))


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>t</strike><del>d</del>",
            "bsieunstd",
        ),
        ('<span class="tg-spoiler">x</span><tg-spoiler>y</tg-spoiler>', "xy"),
        ('<a href="https://example.com">link</a>', "link"),
        ('<pre><code class="language-python">print(1)</code></pre>', "print(1)"),
        ("<blockquote expandable>quote</blockquote>", "quote"),
        ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍"),
        ("&lt;&gt;&amp;&quot;&#60;&#x3C;", '<>&"<<'),
        ("AT&T &nbsp;", "AT&T &nbsp;"),  # an unknown entity stays text
    ],
)
async def test_html_that_telegram_accepts_arrives_as_text_and_entities(
    api: Api, text: str, shown: str
) -> None:
    message = await api.ok("sendMessage", **send(text))
    assert message["text"] == shown


async def test_the_reply_carries_entities_not_html(api: Api) -> None:
    message = await api.ok("sendMessage", **send("Hi <b>Ayu</b> 🎉 <code>K7Q2</code>"))
    assert message["text"] == "Hi Ayu 🎉 K7Q2"
    assert message["entities"] == [
        {"type": "bold", "offset": 3, "length": 3},
        {"type": "code", "offset": 10, "length": 4},
    ]


async def test_an_unknown_parse_mode(api: Api) -> None:
    assert "unsupported parse_mode" in await api.refused(
        "sendMessage", chat_id=USER, text="x", parse_mode="XML"
    )


# Lengths ------------------------------------------------------------------------------------
async def test_lengths_count_what_is_shown_in_utf16(api: Api) -> None:
    await api.ok(
        "sendMessage", **send("<b>" + "x" * 4096 + "</b>")
    )  # 4096 shown: fine, however long the HTML
    assert "message is too long" in await api.refused("sendMessage", **send("x" * 4097))
    assert "message is too long" in await api.refused("sendMessage", **send("🙂" * 2049))  # 4098 UTF-16 units
    photo = aiohttp.FormData()
    photo.add_field("chat_id", str(USER))
    photo.add_field("caption", "x" * 1025)
    photo.add_field("photo", b"png", filename="card.png")
    async with api.session.post(
        f"{api.emulator.url}/bot{api.emulator.token}/sendPhoto", data=photo
    ) as response:
        assert response.status == 400 and "caption is too long" in (await response.json())["description"]


async def test_edits_are_checked_like_sends(api: Api) -> None:
    message = await api.ok("sendMessage", **send("first"))
    edit = {"chat_id": USER, "message_id": message["message_id"], "parse_mode": "HTML"}
    assert "message text is empty" in await api.refused("editMessageText", **edit, text="<i></i>")
    assert "message is too long" in await api.refused("editMessageText", **edit, text="y" * 4097)
    edited = await api.ok("editMessageText", **edit, text="second")
    assert edited["text"] == "second" and "edit_date" in edited


# Buttons and keyboards ----------------------------------------------------------------------
async def test_callback_data_is_one_to_64_bytes(api: Api) -> None:
    await api.ok(
        "sendMessage",
        **send("x", reply_markup={"inline_keyboard": [[{"text": "ok", "callback_data": "é" * 32}]]}),
    )
    for data in ("", "é" * 33):
        assert "BUTTON_DATA_INVALID" in await api.refused(
            "sendMessage",
            **send("x", reply_markup={"inline_keyboard": [[{"text": "ok", "callback_data": data}]]}),
        )


async def test_an_inline_button_has_exactly_one_action(api: Api) -> None:
    assert "Text buttons are unallowed" in await api.refused(
        "sendMessage", **send("x", reply_markup={"inline_keyboard": [[{"text": "ok"}]]})
    )
    both = {"inline_keyboard": [[{"text": "ok", "callback_data": "a", "url": "https://example.com"}]]}
    assert "exactly one" in await api.refused("sendMessage", **send("x", reply_markup=both))
    assert "BUTTON_TEXT_EMPTY" in await api.refused(
        "sendMessage", **send("x", reply_markup={"inline_keyboard": [[{"text": " ", "callback_data": "a"}]]})
    )


async def test_an_edit_takes_an_inline_keyboard_only(api: Api) -> None:
    message = await api.ok("sendMessage", **send("x"))
    keyboard = {"keyboard": [[{"text": "Menu"}]], "resize_keyboard": True}
    assert "inline keyboard expected" in await api.refused(
        "editMessageText", chat_id=USER, message_id=message["message_id"], text="y", reply_markup=keyboard
    )


async def test_invalid_reply_markup_json_is_a_bad_request(api: Api) -> None:
    status, body = await api.raw("sendMessage", chat_id=str(USER), text="x", reply_markup="{not json")
    assert status == 400 and "can't parse reply keyboard markup" in body["description"]


# Edits --------------------------------------------------------------------------------------
async def test_an_identical_edit_is_not_modified(api: Api) -> None:
    message = await api.ok("sendMessage", **send("<b>same</b>", reply_markup=BUTTON))
    edit = {
        "chat_id": USER,
        "message_id": message["message_id"],
        "parse_mode": "HTML",
        "reply_markup": BUTTON,
    }
    assert "message is not modified" in await api.refused(
        "editMessageText", **edit, text="<strong>same</strong>"
    )  # same as shown
    await api.ok("editMessageText", **edit, text="<i>same</i>")  # different formatting is a change


async def test_text_and_caption_edits_need_the_right_kind_of_message(api: Api) -> None:
    text = await api.ok("sendMessage", **send("x"))
    assert "no caption in the message" in await api.refused(
        "editMessageCaption", chat_id=USER, message_id=text["message_id"], caption="c"
    )
    form = aiohttp.FormData({"chat_id": str(USER), "caption": "card"})
    form.add_field("photo", b"png", filename="card.png")
    async with api.session.post(
        f"{api.emulator.url}/bot{api.emulator.token}/sendPhoto", data=form
    ) as response:
        photo = (await response.json())["result"]
    assert "no text in the message" in await api.refused(
        "editMessageText", chat_id=USER, message_id=photo["message_id"], text="t"
    )
    assert (await api.ok("editMessageCaption", chat_id=USER, message_id=photo["message_id"], caption="new"))[
        "caption"
    ] == "new"


async def test_deleting_a_message(api: Api) -> None:
    message = await api.ok("sendMessage", **send("bye"))
    assert await api.ok("deleteMessage", chat_id=USER, message_id=message["message_id"]) is True
    assert api.emulator.messages_to(USER) == []
    assert "message to delete not found" in await api.refused(
        "deleteMessage", chat_id=USER, message_id=message["message_id"]
    )
    assert "message to edit not found" in await api.refused(
        "editMessageText", chat_id=USER, message_id=message["message_id"], text="x"
    )


# Callback queries ---------------------------------------------------------------------------
async def test_a_callback_query_is_answered_once_with_at_most_200_characters(api: Api) -> None:
    user = TelegramUser(api.emulator, USER, "Ayu")
    sent = await api.ok("sendMessage", **send("tap", reply_markup=BUTTON))
    message = api.emulator.messages_to(USER)[-1]
    asyncio.get_running_loop().create_task(user.press(message, "OK"))
    await api.emulator.wait_for(lambda: api.emulator._open_queries)
    (query_id,) = api.emulator._open_queries
    assert "MESSAGE_TOO_LONG" in await api.refused(
        "answerCallbackQuery", callback_query_id=query_id, text="x" * 201
    )
    assert await api.ok("answerCallbackQuery", callback_query_id=query_id, text="x" * 200) is True
    assert "query is too old" in await api.refused("answerCallbackQuery", callback_query_id=query_id)
    assert "query ID is invalid" in await api.refused("answerCallbackQuery", callback_query_id="never-sent")
    assert sent["message_id"] == message.message_id


# Commands -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("commands", "reason"),
    [
        ([{"command": "Card", "description": "x"}], "BOT_COMMAND_INVALID"),
        ([{"command": "my-card", "description": "x"}], "BOT_COMMAND_INVALID"),
        ([{"command": "c" * 33, "description": "x"}], "BOT_COMMAND_INVALID"),
        ([{"command": "card", "description": ""}], "BOT_COMMAND_DESCRIPTION_INVALID"),
        ([{"command": "card", "description": "x" * 257}], "BOT_COMMAND_DESCRIPTION_INVALID"),
        ([{"command": f"c{n}", "description": "x"} for n in range(101)], "BOT_COMMANDS_TOO_MUCH"),
    ],
)
async def test_set_my_commands_rules(api: Api, commands: list[dict[str, str]], reason: str) -> None:
    assert reason in await api.refused("setMyCommands", commands=commands)


# Who may be messaged, and who may poll ------------------------------------------------------
async def test_a_user_who_never_started_the_bot_cannot_be_messaged(api: Api) -> None:
    status, body = await api.call("sendMessage", chat_id=999, text="hello")
    assert status == 403 and body["description"] == "Forbidden: bot can't initiate conversation with a user"


async def test_two_pollers_at_once_conflict(api: Api) -> None:
    first = asyncio.create_task(api.call("getUpdates", timeout=2))
    await asyncio.sleep(0.2)
    status, body = await api.call("getUpdates", timeout=0)
    assert status == 409 and "terminated by other getUpdates request" in body["description"]
    assert (await first)[0] == 200


# Files --------------------------------------------------------------------------------------
async def test_a_file_id_is_one_telegram_issued(api: Api) -> None:
    assert "wrong file identifier" in await api.refused("sendPhoto", chat_id=USER, photo="photo-999")
    first = await api.emulator.call("sendPhoto", {"chat_id": USER, "photo": ("card.png", b"\x89PNG-card")})
    file_id = first[1]["result"]["photo"][0]["file_id"]
    again = await api.ok("sendPhoto", chat_id=USER, photo=file_id)
    assert again["photo"][0]["file_id"] == file_id  # the same file, the same id
    assert api.emulator.messages_to(USER)[-1].photo == b"\x89PNG-card"


# Groups and payments (issue 12, 13) ---------------------------------------------------------
async def test_invite_links_bans_and_venues_follow_telegrams_rules(api: Api) -> None:
    group = api.emulator.add_group(-100, "Gold Lounge", 1)
    assert "chat not found" in await api.refused("createChatInviteLink", chat_id=-100)  # the bot is not in it
    await api.emulator.promote_bot(-100, {"id": 1, "is_bot": False, "first_name": "Owner"}, can_ban=False)
    assert "member limit" in await api.refused("createChatInviteLink", chat_id=-100, member_limit=0)
    assert "join request" in await api.refused(
        "createChatInviteLink", chat_id=-100, member_limit=1, creates_join_request=True
    )
    assert "INVITE_LINK_NAME_INVALID" in await api.refused(
        "createChatInviteLink", chat_id=-100, name="x" * 33
    )
    link = await api.ok("createChatInviteLink", chat_id=-100, member_limit=1)
    assert link["member_limit"] == 1 and link["invite_link"] in group.links
    assert "not enough rights" in await api.refused("banChatMember", chat_id=-100, user_id=USER)
    assert "administrator" not in await api.refused("banChatMember", chat_id=-100, user_id=1)
    assert "latitude" in await api.refused(
        "sendVenue", chat_id=USER, latitude=91, longitude=0, title="A", address="B"
    )
    assert "non-empty" in await api.refused(
        "sendVenue", chat_id=USER, latitude=1, longitude=2, title="", address="B"
    )


async def test_stars_invoices_checkouts_refunds_and_subscriptions(api: Api) -> None:
    price = [{"label": "Gold", "amount": 100}]
    common = {"title": "Gold", "description": "Kopi Senja", "payload": "member:1", "currency": "XTR"}
    assert "PERIOD" in await api.refused(
        "createInvoiceLink", prices=price, subscription_period=86400, **common
    )
    assert "STARS_INVOICE_INVALID" in await api.refused(
        "createInvoiceLink",
        prices=[{"label": "Gold", "amount": 20000}],
        subscription_period=2592000,
        **common,
    )
    assert "currency" in await api.refused("createInvoiceLink", prices=price, **{**common, "currency": "USD"})
    link = await api.ok("createInvoiceLink", prices=price, subscription_period=2592000, **common)
    user = {"id": USER, "is_bot": False, "first_name": "Ayu"}
    paying = asyncio.create_task(api.emulator.pay(user, link))
    await api.emulator.wait_for(lambda: api.emulator.checkouts)
    (query_id,) = api.emulator.checkouts
    assert "ERROR_MESSAGE_EMPTY" in await api.refused(
        "answerPreCheckoutQuery", pre_checkout_query_id=query_id, ok=False
    )
    await api.ok("answerPreCheckoutQuery", pre_checkout_query_id=query_id, ok=True)
    assert "query is too old" in await api.refused(
        "answerPreCheckoutQuery", pre_checkout_query_id=query_id, ok=True
    )
    charge = await paying
    assert charge is not None
    assert "CHARGE_ID_INVALID" in await api.refused(
        "refundStarPayment", user_id=999, telegram_payment_charge_id=charge
    )
    await api.ok(
        "editUserStarSubscription", user_id=USER, telegram_payment_charge_id=charge, is_canceled=True
    )
    await api.ok("refundStarPayment", user_id=USER, telegram_payment_charge_id=charge)
    assert "ALREADY_REFUNDED" in await api.refused(
        "refundStarPayment", user_id=USER, telegram_payment_charge_id=charge
    )


async def test_a_webhook_secret_telegram_would_refuse_is_refused(api: Api) -> None:
    """Telegram takes 1-256 of A-Z a-z 0-9 _ - as a webhook's secret_token, and nothing else."""
    for secret in ("has space", "slash/", "é", "x" * 257, ""):
        assert "secret token contains unallowed characters" in await api.refused(
            "setWebhook", url="https://bot.example.com/telegram", secret_token=secret
        )
    assert await api.ok("setWebhook", url="https://bot.example.com/telegram", secret_token="Abc_123-xyz")
