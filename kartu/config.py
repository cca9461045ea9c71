"""The one settings object, read once from the environment and `.env` (prefix ``KARTU_``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TELEGRAM_API_URL = "https://api.telegram.org"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="KARTU_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    bot_token: str = ""
    # Keys the hashes kept of people who used /forget (bonus eligibility only). Empty: a secret the
    # server makes for itself and keeps in the database (a copy of the database then holds both).
    secret_key: str = ""
    database_url: str = "sqlite+aiosqlite:///kartu.db"
    # PostgreSQL connections per process: kept open, and the most at once under load. Size the
    # second for the staff who confirm at the same moment (and the server's max_connections).
    database_pool_size: int = Field(default=10, ge=1, le=500)
    database_max_connections: int = Field(default=30, ge=1, le=1000)
    telegram_api_url: str = TELEGRAM_API_URL
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(default_factory=frozenset)
    default_language: Literal["id", "en"] = "en"
    default_timezone: str = "Asia/Jakarta"
    bot_username: str = ""
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"  # json: one object a line, with update/request/shop ids
    polling_timeout: int = 10
    # Updates handled at once by one process; the rest wait their turn (a backlog at start-up
    # must not start thousands of tasks that all queue for the database pool).
    max_concurrent_updates: int = Field(default=50, ge=1, le=1000)
    # Per person: a burst of this many messages and button taps, then this many a second;
    # past that, one "slow down" and 30 s of silence.
    flood_burst: int = Field(default=20, ge=1)
    flood_per_second: float = Field(default=1.0, gt=0)
    scheduler: Literal["inline", "off"] = "inline"
    # The point-of-sale API (`kartu api`): where it listens.
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8081, ge=0, le=65535)
    # Requests per second each API key may make, and how many at once (a token bucket per process).
    api_rate: float = Field(default=10.0, gt=0)
    api_burst: int = Field(default=20, ge=1)
    # Where owners' browsers reach the API (https://kartu.example.com, as nginx publishes /v1/):
    # a big export is also offered there as a one-time download link. Empty: no links.
    api_public_url: str = ""
    # Where Telegram opens Kartu's Mini App pages (📷 Scan, the customer's card): https, on the server
    # that serves the webhook (/webapp/…). Empty: no Mini App buttons (/help says why).
    public_url: str = Field(default="", pattern=r"^(https://\S+)?$")
    # KARTU_API=on: `kartu run` serves the API too, and sends a sale's news at once.
    api: bool = False
    # Webhook endpoints on http:// or private addresses (a shop's own network, tests); else https only.
    webhooks_allow_private: bool = False
    # Health and metrics: GET /metrics (Prometheus text) only when on; `kartu scheduler` and polling
    # `kartu run` serve /healthz, /readyz (and /metrics) on this port when it is set (0: off).
    metrics: bool = False
    # An update received and not handled this long after (its process died) is handled by another.
    update_lease_seconds: int = Field(default=120, ge=1, le=3600)
    health_host: str = "127.0.0.1"
    health_port: int = Field(default=0, ge=0, le=65535)
    ready_outbox_age_seconds: int = Field(default=600, ge=10)  # oldest due message older: not ready
    # Daily backups by the scheduler into this folder (none when empty), kept this many days.
    backup_dir: str = ""
    backup_keep_days: int = Field(default=14, ge=1, le=3650)
    send_rate: float = Field(default=25.0, gt=0, le=1000)
    per_chat_interval: float = Field(default=1.0, ge=0)
    sweep_interval_seconds: float = Field(default=60.0, gt=0)
    dispatch_interval_seconds: float = Field(default=1.0, gt=0)
    broadcast_cooldown_hours: float = Field(default=24.0, ge=0)
    webhook_url: str = ""
    webhook_path: str = "/telegram/webhook"
    # What Telegram takes as a secret_token: 1-256 of A-Z a-z 0-9 _ - (it refuses setWebhook else).
    webhook_secret: str = Field(default="", pattern=r"^[A-Za-z0-9_-]{0,256}$")
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=0, le=65535)
    sandbox_port: int = Field(default=8080, ge=0, le=65535)
    # WhatsApp (Meta's Cloud API) for customers: the deployment's business number.
    whatsapp_phone_number_id: str = ""  # from WhatsApp Manager; empty: no WhatsApp
    whatsapp_number: str = Field(default="", pattern=r"^[0-9]{0,15}$")  # as wa.me links spell it: 62811...
    whatsapp_access_token: str = ""  # a system user's permanent token
    whatsapp_app_secret: str = ""  # signs Meta's webhook posts (X-Hub-Signature-256)
    whatsapp_verify_token: str = ""  # Meta's handshake when the webhook is set up
    whatsapp_api_url: str = "https://graph.facebook.com"  # another Graph API (the emulator) in tests
    whatsapp_port: int = Field(default=0, ge=0, le=65535)  # polling mode: where /whatsapp/webhook listens

    @property
    def uses_webhook(self) -> bool:
        return bool(self.webhook_url)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        """Accept ``"1,2 3"`` from the environment as well as a real list."""
        if isinstance(value, str):
            parts = value.replace(",", " ").split()
            return frozenset(int(part) for part in parts)
        if isinstance(value, int):
            return frozenset({value})
        return value
