from __future__ import annotations

from kartu.loyalty.language import resolve_language
from kartu.loyalty.links import (
    LinkKind,
    StartLink,
    build_payload,
    deep_link,
    new_invite_token,
    parse_payload,
    slugify,
)


def test_slugs_are_link_safe() -> None:
    assert slugify("Kopi Senja!") == "kopi-senja"
    assert slugify("Café  Ñusa — Bali") == "cafe-nusa-bali"
    assert slugify("☕☕") == "shop"
    assert len(slugify("x" * 200)) == 40


def test_start_payloads_round_trip_and_fit_telegram_limits() -> None:
    token = new_invite_token()
    payload = build_payload(LinkKind.STAFF_INVITE, token)
    assert len(payload) <= 64
    assert parse_payload(payload) == StartLink(LinkKind.STAFF_INVITE, token)
    assert parse_payload("m_kopi-senja") == StartLink(LinkKind.JOIN, "kopi-senja")
    assert deep_link("kartu_bot", LinkKind.JOIN, "kopi-senja") == "https://t.me/kartu_bot?start=m_kopi-senja"


def test_unknown_or_malformed_payloads_are_ignored() -> None:
    for payload in [None, "", "m_", "x_abc", "nounderscore", "m_" + "a" * 80, "m_bad slug", "m_<script>"]:
        assert parse_payload(payload) is None


def test_language_choice_then_telegram_then_default() -> None:
    assert resolve_language("en", "id", "id") == "en"
    assert resolve_language(None, "id-ID", "en") == "id"
    assert resolve_language(None, "en-GB", "id") == "en"
    assert resolve_language(None, "ru", "id") == "id"
    assert resolve_language("xx", None, "en") == "en"
