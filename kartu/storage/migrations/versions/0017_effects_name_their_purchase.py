"""effects name their purchase: ledger_entry.origin, purchase_refund, program.referral_hold_days

Every ledger row a purchase set off (its stamps, points, rewards and cause gift, a spin it earned
and that spin's prize, a partner's voucher) names the purchase in ``origin``; a refund takes back
what names it. Rows written before this revision get their origin from their keys.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 11:40:00

"""

import re
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel types)
from alembic import op

import kartu.storage.types  # noqa: F401

# revision identifiers, used by Alembic.
revision: str = "0017"
down_revision: Union[str, Sequence[str], None] = "0016"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Keys whose purchase follows a fixed prefix (set in SQL: a big ledger is updated in the database).
_PREFIXED = {
    "purchase:": None,
    "points:": "purchase",  # points:spin:… and points:adjust-… are not a purchase's
    "cause:": None,
    "spin-earned:": None,
    "refund-stamps:": None,
    "refund-points:": None,
    "refund-cause:": None,
}
_NUMBERED = re.compile(r"^(?:card-full|reward):(.+):\d+$")
_VOUCHER = re.compile(r"^voucher:\d+:(.+)$")
_SPIN_ROW = re.compile(r"^(?:spin-used|spin-expired):(\d+)$|^(?:stamps|points|reward):spin:(\d+)$")


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "purchase_refund",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=96), nullable=False),
        sa.Column("actor_person_id", sa.Integer(), nullable=True),
        sa.Column("refunded_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchant.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source"),
    )
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sqlmodel.sql.sqltypes.AutoString(length=96), nullable=True))
        batch_op.create_index("ix_ledger_origin", ["origin"], unique=False)
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.add_column(sa.Column("referral_hold_days", sa.Integer(), server_default="7", nullable=False))
    _name_the_purchases()


def _name_the_purchases() -> None:
    bind = op.get_bind()
    for prefix, reason in _PREFIXED.items():
        only = " AND reason = :reason" if reason else ""
        bind.execute(
            sa.text(
                "UPDATE ledger_entry SET origin = substr(idempotency_key, :start) "
                f"WHERE idempotency_key LIKE :pattern{only}"
            ),
            {"start": len(prefix) + 1, "pattern": prefix + "%", "reason": reason},
        )
    spins = {
        row.id: row.source.removeprefix("spin:")
        for row in bind.execute(sa.text("SELECT id, source FROM spin"))
    }
    reward_origin: dict[int, str] = {}
    rows = bind.execute(
        sa.text(
            "SELECT id, idempotency_key, reward_id FROM ledger_entry WHERE origin IS NULL AND ("
            "idempotency_key LIKE 'card-full:%' OR idempotency_key LIKE 'reward:%' "
            "OR idempotency_key LIKE 'voucher:%' OR idempotency_key LIKE 'spin-%' "
            "OR idempotency_key LIKE 'stamps:spin:%' OR idempotency_key LIKE 'points:spin:%')"
        )
    ).all()
    for row in rows:
        key, origin = row.idempotency_key, None
        if match := _NUMBERED.match(key) or _VOUCHER.match(key):
            origin = match.group(1)
        elif match := _SPIN_ROW.match(key):
            origin = spins.get(int(match.group(1) or match.group(2)))
        if origin is None:
            continue
        if row.reward_id is not None:
            reward_origin[row.reward_id] = origin
        bind.execute(
            sa.text("UPDATE ledger_entry SET origin = :origin WHERE id = :id"),
            {"origin": origin, "id": row.id},
        )
    for row in bind.execute(
        sa.text("SELECT id, reward_id FROM ledger_entry WHERE idempotency_key LIKE 'refund-reward:%'")
    ).all():
        if row.reward_id in reward_origin:
            bind.execute(
                sa.text("UPDATE ledger_entry SET origin = :origin WHERE id = :id"),
                {"origin": reward_origin[row.reward_id], "id": row.id},
            )
    bind.execute(
        sa.text(
            "INSERT INTO purchase_refund (merchant_id, person_id, source, actor_person_id, refunded_at) "
            "SELECT merchant_id, person_id, origin, min(actor_person_id), min(created_at) FROM ledger_entry "
            "WHERE idempotency_key LIKE 'refund-stamps:%' OR idempotency_key LIKE 'refund-points:%' "
            "GROUP BY merchant_id, person_id, origin"
        )
    )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.drop_column("referral_hold_days")
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_origin")
        batch_op.drop_column("origin")
    op.drop_table("purchase_refund")
