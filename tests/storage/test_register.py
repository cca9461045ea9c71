"""The register of personal data walks every table: a column nobody classified fails here (as
Django's system checks fail on a model the migrations forgot), and after /forget no personal value
of the person is left anywhere in the database, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import String, Text, select, text
from sqlmodel import SQLModel

from kartu.loyalty.channels import whatsapp_user
from kartu.loyalty.clock import FrozenClock
from kartu.services.container import Services
from kartu.services.customers import TelegramProfile, Visitor
from kartu.services.membership import StarsPayment
from kartu.services.partners import Proposal
from kartu.storage.database import Database
from kartu.storage.register import REGISTER, Class, Erase
from kartu.storage.repositories.personal_data import Subject, rows_about
from tests.invariants import Forgotten, personal_values_left

OWNER, BARISTA, OTHER_OWNER = 100, 200, 110
ZELVINA = 987_654_321  # a Telegram id, a name and a username that appear nowhere else


def test_every_column_of_every_table_is_classified_once() -> None:
    tables = SQLModel.metadata.tables
    assert set(REGISTER) == set(tables), "tables and the register differ"
    for name, table in tables.items():
        entry = REGISTER[name]
        assert set(entry.columns) == {column.name for column in table.columns}, name
        for column, rule in entry.columns.items():
            if rule.kind is Class.PERSONAL:
                assert rule.erase is not None, f"{name}.{column}: how does /forget erase it?"
                assert (rule.erase is Erase.KEEP) == (rule.kept_because is not None), f"{name}.{column}"
        about = (*entry.about, *entry.mentions, *((entry.through[0],) if entry.through else ()))
        assert set(about) <= set(entry.columns), name
        if any(rule.kind is not Class.BUSINESS for rule in entry.columns.values()):
            assert entry.about or entry.through or entry.locator, (
                f"{name}: rows about a person cannot be found"
            )


async def _a_customer_with_everything(
    services: Services, clock: FrozenClock, api_url: str
) -> tuple[str, str]:
    """Zelvina at Kopi Senja (stamps and points, levels, a wheel, a cause, a partner, a paid
    membership, webhooks, a till): every kind of row about her. Returns (her code, the join slug)."""
    created = await services.merchants.create_merchant("Kopi Senja", OWNER)
    slug = created.slug
    staff = await services.merchants.invite_staff(OWNER)
    await services.customers.start(TelegramProfile(BARISTA, "Budi"), f"staff_{staff}")
    await services.merchants.choose_kinds(OWNER, True, True)
    for field, value in (("daily_stamp_cap", "0"), ("referral_bonus", "2"), ("welcome_bonus", "3")):
        await services.merchants.change_program(OWNER, field, value)
    await services.tiers.add(OWNER, "Gold; 2")
    await services.wheel.add_prize(OWNER, "5 points; 100%")
    await services.wheel.set_rule(OWNER, "every")
    await services.catalogue.add(OWNER, "Iced Latte", "5")
    await services.causes.start(OWNER, "Rumah Kucing; 5.000.000; 31-12-2026")
    await services.causes.change(OWNER, "match", "10.000 per 100.000")
    await services.causes.change(OWNER, "point_value", "1.000")
    partner = await services.merchants.create_merchant("Toko Emas", OTHER_OWNER)
    view = await services.partners.propose(
        OWNER, Proposal(partner.slug, "over 50.000", "10% off any ring; 50.000", "30 days; 100 a month")
    )
    await services.partners.decide(OTHER_OWNER, view.partnerships[0].partnership_id, accept=True)
    await services.webhooks.add(OWNER, "http://127.0.0.1:9/hooks")
    await services.membership.set_offer(OWNER, "Gold Club; 100; 1.5; Iced Latte")
    key, _ = await services.api.create_key(OWNER, "earn,redeem,read")

    friend = await services.customers.start(TelegramProfile(301, "Rina"), f"m_{slug}")
    assert friend.joined is not None
    token = (await services.bonuses.invitation(301)).token
    joined = await services.customers.start(
        TelegramProfile(ZELVINA, "Zelvina", "zelvina_77", "id"), f"r_{token}"
    )
    assert joined.joined is not None
    code = joined.joined.card.personal_code
    await services.bonuses.set_birthday(ZELVINA, "17-08")
    for amount in ("120.000", "80.000"):
        prompt = await services.counter.open_sale(BARISTA, code, amount)
        await services.counter.confirm_sale(BARISTA, prompt.token)
    await services.wheel.spin(ZELVINA)
    await services.points.adjust(OWNER, code, "+5", "birthday gift for Zelvina", 1)
    await services.claims.open_claim(ZELVINA, "25000")
    offer = await services.causes.offer(ZELVINA, "point", "2")
    await services.causes.give(ZELVINA, offer.token)
    invoice = await services.membership.invoice(ZELVINA)
    await services.membership.record_payment(
        ZELVINA,
        StarsPayment(
            invoice.payload, "XTR", invoice.stars, "stxChargeZelvina", clock.now() + timedelta(days=30)
        ),
    )
    async with httpx.AsyncClient(base_url=api_url) as client:
        sold = await client.post(
            "/v1/purchases",
            json={"customer": {"code": code}, "amount": 100_000, "external_id": "T-zelvina"},
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "zelvina-1"},
        )
        assert sold.status_code == 201, sold.text
    async with services.api.db.read() as uow:
        survey_id = await uow.session.scalar(
            text(
                "SELECT min(v.id) FROM survey v JOIN person p ON p.id = v.person_id WHERE p.telegram_id = :t"
            ),
            {"t": ZELVINA},
        )
    await services.feedback.rate(ZELVINA, int(survey_id), 2)
    await services.feedback.comment(ZELVINA, int(survey_id), "Zelvina says the cup was cold")
    async with services.api.db.write() as uow:  # a form left open
        await uow.session.execute(
            text("INSERT INTO conversation_state (key, state, data) VALUES (:key, 'BirthdayForm:day', '{}')"),
            {"key": f"42:{ZELVINA}:{ZELVINA}:default:default"},
        )
    clock.advance(hours=1)
    return code, slug


async def _text_values(db: Database) -> list[tuple[str, str, str]]:
    """Every text and number value in every table: (table, column, value)."""
    found = []
    async with db.read() as uow:
        for name, table in SQLModel.metadata.tables.items():
            for row in (await uow.session.execute(select(table))).all():
                for column in table.columns:
                    value = row._mapping[column.name]
                    if value is not None and isinstance(column.type, String | Text) or isinstance(value, int):
                        found.append((name, column.name, str(value)))
    return found


async def test_forget_leaves_no_personal_value_in_any_table(
    services: Services, db: Database, clock: FrozenClock, api_url: str
) -> None:
    code, _ = await _a_customer_with_everything(services, clock, api_url)
    async with db.read() as uow:
        person = await uow.people.by_telegram_id(ZELVINA)
        assert person is not None
        subject = Subject.of(person)
    exported = json.dumps(await services.customers.my_data(ZELVINA), ensure_ascii=False)
    for needle in ("Zelvina", "zelvina_77", str(ZELVINA), code, "stxChargeZelvina", "Rumah Kucing"):
        assert needle in exported or needle == "Rumah Kucing", needle

    await services.customers.forget(ZELVINA)

    assert await personal_values_left(db, [Forgotten(subject, ("Zelvina", "zelvina_77", code))]) == []
    for table, column, value in await _text_values(db):
        assert value != str(ZELVINA), f"{table}.{column} still holds the Telegram id"
    async with db.read() as uow:
        birthday = await uow.session.execute(
            text("SELECT birthday_day, birthday_month, birthday_set_at, username FROM person WHERE id = :id"),
            {"id": subject.id},
        )
        assert birthday.one() == (None, None, None, None)


async def test_mydata_holds_every_value_the_register_exports(
    services: Services, db: Database, clock: FrozenClock, api_url: str
) -> None:
    await _a_customer_with_everything(services, clock, api_url)
    record = await services.customers.my_data(ZELVINA)
    async with db.read() as uow:
        person = await uow.people.by_telegram_id(ZELVINA)
        assert person is not None
        subject = Subject.of(person)
        for name, entry in REGISTER.items():
            table = SQLModel.metadata.tables[name]
            shown = [column for column, rule in entry.columns.items() if rule.kind is not Class.BUSINESS]
            rows = (await uow.session.execute(select(table).where(rows_about(name, subject)))).all()
            if not rows or not shown:
                continue
            assert entry.title in record, f"/mydata leaves out {name}"
            part = record[entry.title]
            listed = [part] if isinstance(part, dict) else part
            assert len(listed) == len(rows), name
            for item in listed:
                assert set(shown) <= set(item), name
    for section in ("points", "invitations", "memberships", "payments in Telegram Stars", "spins", "rewards"):
        assert record.get(section), section
    assert record["person"]["birthday_day"] == 17 and record["cards"][0]["tier_id"] is not None
    assert any(row["asset"] == "cause" for row in record["ledger"])  # what she gave to the cause
    assert datetime.fromisoformat(record["person"]["created_at"]) <= datetime.now(UTC) + timedelta(days=9999)


async def test_forget_erases_a_whatsapp_customer_everywhere(services: Services, db: Database) -> None:
    """A customer who came by WhatsApp: their identity there, phone, a message still in the journal
    and the messages sent them are in /mydata, and /forget leaves none of it."""
    created = await services.merchants.create_merchant("Kopi Senja", OWNER)
    await services.merchants.change_program(OWNER, "welcome_bonus", "3")
    bsuid, phone = "ID.555000111222", "6281299990000"
    visitor = Visitor(whatsapp_user(bsuid), "Zelvina", "id", phone)
    joined = await services.customers.join_by_channel(visitor, created.slug)
    assert joined.welcome_bonus is not None
    payload = json.dumps({"contacts": [{"user_id": bsuid, "wa_id": phone, "profile": {"name": "Zelvina"}}]})
    assert await services.whatsapp.journal([("wamid.HBgLzelvina", bsuid, payload)]) == ["wamid.HBgLzelvina"]
    await services.whatsapp.sent("wamid.HBgLsent", joined.person_id, joined.merchant_id)
    exported = json.dumps(await services.customers.my_data(visitor.user), ensure_ascii=False)
    for needle in (bsuid, phone, "Zelvina", "WhatsApp messages sent"):
        assert needle in exported, needle
    async with db.read() as uow:
        person = await uow.people.get(joined.person_id)
        assert person is not None and person.telegram_id is None
        subject = await uow.personal_data.subject(person)
    code = person.personal_code

    await services.customers.forget(visitor.user)

    assert await personal_values_left(db, [Forgotten(subject, ("Zelvina", phone, bsuid, code))]) == []
    for table, column, value in await _text_values(db):
        assert bsuid not in value and phone not in value, f"{table}.{column} still holds {value[:40]}"
    # Back after /forget: new to the shop, but not to its welcome (the keyed hash of their WhatsApp id).
    again = await services.customers.join_by_channel(visitor, created.slug)
    assert again.newly_joined and again.welcome_bonus is None
