"""The ``kartu`` command: run the bot, migrate the database, create merchants."""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click
from pydantic import ValidationError

from kartu.config import Settings
from kartu.loyalty.links import LinkKind, deep_link

if TYPE_CHECKING:  # imported lazily below: aiogram is slow to import
    from kartu.services.container import Services
    from kartu.services.merchants import MerchantCreated, MerchantUpdated, OutletView, OwnerAdded
    from kartu.storage.backup import BackupReport


T = TypeVar("T")
log = logging.getLogger("kartu")
# aiogram takes seconds to import (hundreds of pydantic models): commands import it only
# when they talk to Telegram, so a missing setting is reported at once.


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        setting = "KARTU_" + str(first["loc"][0]).upper() if first["loc"] else "a KARTU_ setting"
        raise click.ClickException(f"{setting} is not valid: {first['msg']}") from None


QUIET_LIBRARIES = ("alembic", "apscheduler", "aiogram.event", "aiosqlite", "asyncio")


def _configure_logging(settings: Settings) -> None:
    """INFO says what the bot does; the libraries' chatter (migrations plugins, every scheduler
    run, every update) shows only with KARTU_LOG_LEVEL=DEBUG. KARTU_LOG_FORMAT=json: one JSON
    object a line, with the update, request and shop it happened in (kartu/logs.py)."""
    from kartu.logs import configure

    level = settings.log_level.upper()
    configure(level, settings.log_format)
    if level != "DEBUG":
        for library in QUIET_LIBRARIES:
            logging.getLogger(library).setLevel(logging.WARNING)


@click.group()
def main() -> None:
    """Kartu: loyalty cards that live inside Telegram."""


@main.command()
def run() -> None:
    """Run the bot: long polling, or a webhook server when KARTU_WEBHOOK_URL is set.
    Applies pending database migrations first."""
    settings = _settings()
    if not settings.bot_token:
        _run_sandbox(settings.sandbox_port, reset=False, why="No bot token")
        return
    from aiogram.utils.token import TokenValidationError, validate_token

    try:
        validate_token(settings.bot_token)
    except TokenValidationError:
        raise click.ClickException(
            "KARTU_BOT_TOKEN does not look like a bot token (expected 123456:ABC...)."
        ) from None
    if settings.uses_webhook and not settings.webhook_secret:
        raise click.ClickException(
            "KARTU_WEBHOOK_SECRET is not set: webhook mode needs a secret so forged updates are refused."
        )
    from kartu.bot.app import build_app, run_polling, run_webhook

    async def _run() -> None:
        app = build_app(settings)
        await _check_telegram(app, settings)
        _configure_logging(settings)  # after the check: a wrong token is one line, not a log
        if not settings.uses_webhook:
            await run_polling(app)
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await run_webhook(app, stop)

    try:
        asyncio.run(_run())
    except KeyboardInterrupt:
        pass


async def _check_telegram(app, settings: Settings) -> None:
    """Ask Telegram who the bot is before anything starts: a wrong token or no network ends
    in one clear line, not in a traceback from deep inside polling."""
    from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError
    from aiohttp import ClientError

    try:
        await app.bot.get_me()
    except TelegramUnauthorizedError:
        await app.close()
        raise click.ClickException(
            "Telegram rejected the bot token: check KARTU_BOT_TOKEN (from @BotFather)."
        ) from None
    except (TelegramNetworkError, ClientError, OSError, TimeoutError) as error:
        await app.close()
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise click.ClickException(
            f"cannot reach Telegram at {settings.telegram_api_url}: {reason}"
        ) from None


def _run_sandbox(port: int, *, reset: bool, why: str | None) -> None:
    from pathlib import Path

    from kartu.sandbox.server import serve

    async def _serve() -> None:
        ready, stop = asyncio.Event(), asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        serving = asyncio.create_task(serve(Path.cwd(), port, reset, ready, stop))
        waiting = asyncio.create_task(ready.wait())
        await asyncio.wait({serving, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if serving.done():
            waiting.cancel()
            await serving  # failed to start: its error
            return
        prefix = f"{why}: starting" if why else "Starting"
        hint = " Put a token from @BotFather in .env to go live." if why else ""
        click.echo(
            f"{prefix} the local sandbox at http://127.0.0.1:{port} — open it in a browser.{hint}", err=False
        )
        await serving

    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    try:
        asyncio.run(_serve())
    except OSError as error:
        raise click.ClickException(
            f"cannot start the sandbox on 127.0.0.1:{port}: {error.strerror or error}"
        ) from None
    except KeyboardInterrupt:
        pass


@main.command()
@click.option(
    "--port",
    type=int,
    default=None,
    help="Port of the sandbox page on 127.0.0.1 (default KARTU_SANDBOX_PORT, 8080).",
)
@click.option("--reset", is_flag=True, help="Start over: a new demo shop, a fresh clock.")
def sandbox(port: int | None, reset: bool) -> None:
    """Try Kartu with no Telegram account: a local web chat where you play owner, staff and
    customers (its own database, kartu-sandbox.db)."""
    _run_sandbox(port if port is not None else _settings().sandbox_port, reset=reset, why=None)


@main.command()
def scheduler() -> None:
    """Run only the scheduler (sweeps, reminders, surveys, outbox delivery), for deployments
    whose bot processes run with KARTU_SCHEDULER=off."""
    settings = _settings()
    if not settings.bot_token:
        raise click.ClickException("KARTU_BOT_TOKEN is not set: the scheduler sends messages as the bot.")
    _configure_logging(settings)
    from kartu.bot.app import build_app, run_scheduler

    async def _run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await run_scheduler(build_app(settings), stop)

    asyncio.run(_run())


@main.command()
@click.option("--host", default=None, help="Address to listen on (KARTU_API_HOST, default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (KARTU_API_PORT, default 8081).")
def api(host: str | None, port: int | None) -> None:
    """Run the point-of-sale HTTP API (docs at /docs). Any number of processes may run on
    PostgreSQL; customers' news is sent by the scheduler (or the bot, when it runs)."""
    settings = _settings()
    _configure_logging(settings)
    import uvicorn

    from kartu.api.app import create_app
    from kartu.services.container import Services
    from kartu.storage.database import Database
    from kartu.storage.migrate import upgrade as apply

    async def _run() -> None:
        database = Database.for_settings(settings)
        try:
            await apply(database.engine)
            if not settings.bot_username:  # receipts' links name the bot: asked of Telegram once
                settings.bot_username = await _bot_username(settings) or ""
            app = create_app(Services.build(database, settings))
            config = uvicorn.Config(
                app, host=host or settings.api_host, port=port or settings.api_port, log_level="info"
            )
            await uvicorn.Server(config).serve()
        finally:
            await database.dispose()

    asyncio.run(_run())


@main.group()
def apikey() -> None:
    """Keys of points of sale for the HTTP API."""


@apikey.command("create")
@click.argument("slug")
@click.option(
    "--scope",
    "scopes",
    default="earn,read",
    show_default=True,
    help="earn, redeem, read, webhooks (comma-separated)",
)
@click.option("--name", default="", help="What the key is for, e.g. the till's name.")
@click.option("--outlet", default=None, help="The outlet's code, for a till of one outlet.")
def create_api_key(slug: str, scopes: str, name: str, outlet: str | None) -> None:
    """Make a key for the shop SLUG (or one of its outlets): it is shown once, here; only its hash
    is kept."""
    from kartu.loyalty.errors import InvalidSetting
    from kartu.services.api import ApiError

    try:
        key, view = _with_services(
            _settings(), lambda services: services.api.create_key_for(slug, scopes, name, outlet)
        )
    except ApiError as error:
        raise click.ClickException(error.message) from None
    except InvalidSetting:
        raise click.ClickException("scopes are earn, redeem, read and webhooks, comma-separated") from None
    click.echo(f"{key}\n(shown once; scopes {view.scopes}; listed as {view.prefix}…)")


@main.group()
def db() -> None:
    """Database schema."""


@db.command()
def upgrade() -> None:
    """Apply pending migrations."""
    settings = _settings()
    from kartu.storage.database import Database
    from kartu.storage.migrate import pending_revisions
    from kartu.storage.migrate import upgrade as apply

    async def _upgrade() -> list[str]:
        database = Database.for_settings(settings)
        try:
            pending = await pending_revisions(database.engine)
            await apply(database.engine)
            return pending
        finally:
            await database.dispose()

    pending = asyncio.run(_upgrade())
    click.echo(
        f"Applied {len(pending)} migration(s): {', '.join(pending)}" if pending else "Database is up to date."
    )


@db.command()
def retally() -> None:
    """Count the shops' days again from the whole ledger (what /stats reads): after a restore of
    an old backup, or to check the counts. The bot may run meanwhile."""
    started = time.perf_counter()
    counted = _with_services(_settings(), lambda services: services.tally.retally())
    click.echo(f"Counted {counted:,} ledger rows and refunds in {time.perf_counter() - started:.1f} s.")


@main.command()
def doctor() -> None:
    """Why the bot may be silent: the token, the webhook Telegram holds and its last error, the
    clock against Telegram's, the database and its schema, the scheduler, the outbox, the disk.
    Each line ok / warning / problem with what to do; exit 1 on a problem."""
    settings = _settings()
    from kartu.bot.doctor import Verdict, examine

    findings = asyncio.run(examine(settings))
    for finding in findings:
        click.echo(finding.line())
    if any(finding.verdict is Verdict.PROBLEM for finding in findings):
        sys.exit(1)


@main.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
def backup(path: Path | None) -> None:
    """Take a consistent, checked copy of the database now (while the bot runs): PATH, or a
    timestamped file in KARTU_BACKUP_DIR (else here). PostgreSQL needs pg_dump."""
    settings = _settings()
    from kartu.storage.backup import BackupFailed, default_name, take_backup
    from kartu.storage.database import Database

    async def _backup() -> BackupReport:
        database = Database(settings.database_url)
        try:
            target = path or Path(settings.backup_dir or ".")
            if target.is_dir() or path is None:
                target = target / default_name(database, datetime.now())
            return await take_backup(database, target)
        finally:
            await database.dispose()

    try:
        report = asyncio.run(_backup())
    except BackupFailed as error:
        raise click.ClickException(f"backup failed: {error}") from None
    click.echo(
        f"Backed up to {report.path} ({report.size:,} bytes, schema {report.revision}, {report.seconds:.1f} s)."
    )


@main.command()
@click.argument("path", type=click.Path(path_type=Path, exists=True, dir_okay=False))
def restore(path: Path) -> None:
    """Put a backup back: refused while a bot or scheduler runs on this database; the backup is
    checked, the current database kept aside beside it, pending migrations applied."""
    settings = _settings()
    from kartu.storage.backup import BackupFailed, restore_backup
    from kartu.storage.beats import running
    from kartu.storage.database import Database

    async def _restore() -> tuple[str, Path]:
        database = Database(settings.database_url)
        try:
            now = datetime.now(UTC)
            alive = await running(database, now)
            if alive:
                names = ", ".join(sorted(beat.id for beat in alive))
                raise BackupFailed(f"stop Kartu first: these still run on this database ({names})")
            aside = path.resolve().with_name(f"kartu-before-restore-{now:%Y%m%d-%H%M%S}{path.suffix}")
            return await restore_backup(database, path, aside), aside
        finally:
            await database.dispose()

    try:
        revision, aside = asyncio.run(_restore())
    except BackupFailed as error:
        raise click.ClickException(f"restore refused: {error}") from None
    click.echo(f"Restored {path} (schema now {revision}); the database before it is kept as {aside}.")


@main.group()
def merchant() -> None:
    """Merchants (shops) on this bot."""


async def _bot_username(settings: Settings) -> str | None:
    if settings.bot_username:
        return settings.bot_username
    if not settings.bot_token:
        return None
    from aiogram.exceptions import TelegramAPIError
    from aiogram.utils.token import TokenValidationError
    from aiohttp import ClientError

    from kartu.bot.app import build_bot

    bot = build_bot(settings)
    try:
        return (await bot.me()).username
    except (TelegramAPIError, ClientError, TokenValidationError, OSError) as error:
        log.warning("could not ask Telegram for the bot's name: %s", error)
        return None
    finally:
        await bot.session.close()


OWNER_HELP = (
    "The owner: a Telegram user id (they can send /whoami to the bot), or @username. "
    "Leave it out to print a one-time owner link for the next person who opens it."
)
USERNAME = re.compile(r"@?[A-Za-z][A-Za-z0-9_]{3,31}")


def _owner(value: str | None) -> tuple[int | None, str | None]:
    """``--owner``: a Telegram user id or an @username."""
    if value is None:
        return None, None
    if value.strip().isdigit():
        return int(value), None
    if USERNAME.fullmatch(value.strip()):
        return None, value.strip().lstrip("@")
    raise click.ClickException(f"--owner {value!r} is neither a Telegram user id (digits) nor a @username")


def _timezone(value: str | None) -> str | None:
    if value is not None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise click.ClickException(
                f"unknown time zone {value!r} (expected something like Asia/Jakarta)"
            ) from None
    return value


def _echo_owner(owner: OwnerAdded, username: str | None) -> None:
    if owner.telegram_id is not None:
        click.echo(f"Owner: Telegram user {owner.telegram_id}.")
    elif owner.invite_token is not None:
        who = (
            f"only @{owner.for_username} can use it"
            if owner.for_username
            else "the next person who opens it becomes the owner"
        )
        link = deep_link(username or "<bot>", LinkKind.OWNER_INVITE, owner.invite_token)
        click.echo(f"Owner link (works once, within 24 hours; {who}): {link}")


@merchant.command("create")
@click.argument("name")
@click.option("--owner", "owner", default=None, help=OWNER_HELP)
@click.option(
    "--timezone",
    default=None,
    help="IANA time zone of the shop, e.g. Asia/Makassar (default KARTU_DEFAULT_TIMEZONE).",
)
@click.option(
    "--language",
    type=click.Choice(["id", "en"]),
    default=None,
    help="Language of the default reward name (default KARTU_DEFAULT_LANGUAGE).",
)
@click.option(
    "--yes", "same_name_ok", is_flag=True, help="Create it even if a shop with this name already exists."
)
def create(
    name: str, owner: str | None, timezone: str | None, language: str | None, same_name_ok: bool
) -> None:
    """Create a merchant with the default stamp program and print its join link."""
    from kartu.loyalty.errors import DuplicateMerchantName

    settings = _settings()
    owner_id, owner_username = _owner(owner)
    timezone = _timezone(timezone)

    async def _create(services: Services, allow_same_name: bool) -> tuple[MerchantCreated, str | None]:
        created = await services.merchants.create_merchant(
            name,
            owner_id,
            owner_username=owner_username,
            timezone=timezone,
            language=language,
            allow_same_name=allow_same_name,
        )
        return created, await _bot_username(settings)

    try:
        try:
            created, username = _with_services(settings, lambda services: _create(services, same_name_ok))
        except DuplicateMerchantName as twin:
            question = f"A shop named {name!r} already exists (slug {twin.slug}). Create a second one with the same name?"
            if not (sys.stdin.isatty() and click.confirm(question, default=False)):
                raise click.ClickException(
                    f"a shop named {name!r} already exists (slug {twin.slug}); nothing was created. "
                    f"Change it with `kartu merchant update {twin.slug}`, or add --yes to create a second shop with this name."
                ) from None
            created, username = _with_services(settings, lambda services: _create(services, True))
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created merchant {created.name!r} (slug {created.slug}).")
    _echo_owner(created.owner, username)
    click.echo(f"Customer join link: {deep_link(username or '<bot>', LinkKind.JOIN, created.slug)}")
    if not username:
        click.echo("(Set KARTU_BOT_TOKEN or KARTU_BOT_USERNAME to print the bot's real name in the links.)")


@merchant.command("list")
def list_merchants() -> None:
    """Every shop on this bot: slug, name, time zone, owners, members."""
    shops = _with_services(_settings(), lambda services: services.merchants.directory())
    if not shops:
        click.echo("No merchants yet. Create one with `kartu merchant create NAME`.")
        return
    click.echo("slug\tname\ttimezone\towners\tmembers\tcreated")
    for shop in shops:
        click.echo(
            f"{shop.slug}\t{shop.name}\t{shop.timezone}\t{shop.owners}\t{shop.members}\t{shop.created_at:%Y-%m-%d}"
        )


@merchant.command("update")
@click.argument("slug")
@click.option("--name", default=None, help="A new name for the shop (its join link stays the same).")
@click.option("--owner", "owner", default=None, help="Add an owner: a Telegram user id or @username.")
@click.option(
    "--owner-link", is_flag=True, help="Print a new one-time owner link (the old ones keep their expiry)."
)
@click.option("--timezone", default=None, help="IANA time zone of the shop, e.g. Asia/Makassar.")
def update_merchant(
    slug: str, name: str | None, owner: str | None, owner_link: bool, timezone: str | None
) -> None:
    """Rename a shop, change its time zone or add an owner."""
    settings = _settings()
    owner_id, owner_username = _owner(owner)
    timezone = _timezone(timezone)
    if name is None and owner is None and not owner_link and timezone is None:
        raise click.ClickException("nothing to change: give --name, --owner, --owner-link or --timezone")

    async def _update(services: Services) -> tuple[MerchantUpdated, str | None]:
        updated = await services.merchants.update_merchant(
            slug,
            name=name,
            timezone=timezone,
            owner_telegram_id=owner_id,
            owner_username=owner_username,
            owner_link=owner_link,
        )
        return updated, await _bot_username(settings) if updated.owner.invite_token else None

    try:
        updated, username = _with_services(settings, _update)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Updated {updated.slug}: {updated.name!r}, time zone {updated.timezone}.")
    _echo_owner(updated.owner, username)


@merchant.group("outlet")
def outlet() -> None:
    """A business's outlets (branches): one program and one card across them."""


def _location(value: str | None) -> tuple[float, float] | None:
    """``--location -6.2250,106.7990``: latitude and longitude."""
    if value is None:
        return None
    try:
        latitude, longitude = (float(part) for part in value.split(","))
    except ValueError:
        raise click.ClickException(f"--location {value!r} is not LATITUDE,LONGITUDE") from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise click.ClickException(f"--location {value!r} is not on Earth")
    return latitude, longitude


def _echo_outlet(found: OutletView) -> None:
    where = f", at {found.location[0]},{found.location[1]}" if found.location else ""
    address = f" — {found.address}" if found.address else ""
    click.echo(f"{found.slug}\t{found.name}{address}\t{found.timezone}{where}")


@outlet.command("add")
@click.argument("slug")
@click.argument("name")
@click.option("--address", default="", help="Its street address, shown to customers.")
@click.option("--timezone", default=None, help="IANA time zone, if not the business's (e.g. Asia/Makassar).")
@click.option("--location", default=None, help="LATITUDE,LONGITUDE for the map.")
def add_outlet(slug: str, name: str, address: str, timezone: str | None, location: str | None) -> None:
    """Add a branch to the business SLUG."""
    where, zone = _location(location), _timezone(timezone)
    try:
        added = _with_services(
            _settings(),
            lambda services: services.merchants.add_outlet(
                slug, name, address=address, timezone=zone, location=where
            ),
        )
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Added an outlet of {added.business}:")
    _echo_outlet(added)


@outlet.command("list")
@click.argument("slug")
def list_outlets(slug: str) -> None:
    """The outlets of the business SLUG."""
    try:
        found = _with_services(_settings(), lambda services: services.merchants.outlets(slug))
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo("slug\tname\ttimezone")
    for each in found:
        _echo_outlet(each)


@outlet.command("update")
@click.argument("outlet_slug")
@click.option("--name", default=None, help="A new name (its slug stays).")
@click.option("--address", default=None)
@click.option("--timezone", default=None)
@click.option("--location", default=None, help="LATITUDE,LONGITUDE for the map.")
def update_outlet(
    outlet_slug: str, name: str | None, address: str | None, timezone: str | None, location: str | None
) -> None:
    """Rename an outlet, or change its address, time zone or map location."""
    where, zone = _location(location), _timezone(timezone)
    if name is None and address is None and zone is None and where is None:
        raise click.ClickException("nothing to change: give --name, --address, --timezone or --location")
    try:
        updated = _with_services(
            _settings(),
            lambda services: services.merchants.update_outlet(
                outlet_slug, name=name, address=address, timezone=zone, location=where
            ),
        )
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo("Updated:")
    _echo_outlet(updated)


def _with_services(settings: Settings, use: Callable[[Services], Awaitable[T]]) -> T:
    """Run ``use(services)`` against the configured database (migrated first)."""
    from kartu.services.container import Services
    from kartu.storage.database import Database
    from kartu.storage.migrate import upgrade as apply

    async def _run() -> T:
        database = Database.for_settings(settings)
        try:
            await apply(database.engine)
            return await use(Services.build(database, settings))
        finally:
            await database.dispose()

    from kartu.loyalty.errors import LastOwner, NotOwner, UnknownMerchant

    try:
        return asyncio.run(_run())
    except UnknownMerchant:
        raise click.ClickException("no merchant with that slug") from None
    except NotOwner:
        raise click.ClickException("that Telegram user is not an owner of this merchant") from None
    except LastOwner:
        raise click.ClickException("a merchant needs at least one owner: add another owner first") from None


@merchant.command("owners")
@click.argument("slug")
def owners(slug: str) -> None:
    """List the owners of a merchant (Telegram id, name, username)."""
    for entry in _with_services(_settings(), lambda services: services.merchants.owners(slug)):
        handle = f" @{entry.username}" if entry.username else ""
        click.echo(f"{entry.telegram_id}\t{entry.first_name}{handle}")


@merchant.command("remove-owner")
@click.argument("slug")
@click.argument("telegram_id", type=int)
def remove_owner(slug: str, telegram_id: int) -> None:
    """Remove an owner (e.g. a co-owner who left); never the last one."""
    name = _with_services(_settings(), lambda services: services.merchants.remove_owner(slug, telegram_id))
    click.echo(f"Removed {name or telegram_id} as owner of {slug}.")


@merchant.command("merge")
@click.argument("source")
@click.argument("into")
@click.option("--yes", is_flag=True, help="Merge after showing the preview (without it: the preview only).")
def merge_merchants(source: str, into: str, yes: bool) -> None:
    """Make the shop SOURCE part of the business INTO (they must share an owner): its outlets,
    cards (added to the customer's card there, a ledger row each), open rewards, points, team,
    keys and webhooks move; its links and codes lead there. Shows what would change; --yes does it."""
    from kartu.loyalty.errors import MergeRefused, UnknownMerchant

    try:
        preview = _with_services(_settings(), lambda services: services.merges.preview_slugs(source, into))
        click.echo(
            f"{preview.source} → {preview.target}: outlets {', '.join(preview.outlets) or '-'}; "
            f"{preview.cards} cards ({preview.new_cards} new there, {preview.both} added to a card there), "
            f"{preview.stamps} stamps, {preview.points} points, {preview.rewards} open rewards; "
            f"{preview.team} team members join"
        )
        if not yes:
            click.echo("Nothing changed. Run again with --yes to merge.")
            return
        _with_services(_settings(), lambda services: services.merges.merge_slugs(source, into))
    except UnknownMerchant:
        raise click.ClickException("no merchant with that slug") from None
    except MergeRefused as refused:
        reasons = {
            "same": "a shop cannot be merged into itself",
            "merged": "one of them was merged into a business already",
            "owner": "the two shops share no owner",
        }
        raise click.ClickException(reasons.get(refused.reason, refused.reason)) from None
    click.echo(f"Merged {preview.source} into {preview.target}.")


if __name__ == "__main__":
    main()
