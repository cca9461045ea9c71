"""causes: a shop's cause, payouts to it, offers behind donation buttons, ledger rows tied to a cause

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 15:37:52.078195

"""

from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel types)
from alembic import op

import kartu.storage.types  # noqa: F401

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: Union[str, Sequence[str], None] = "0010"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "cause",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("target", sa.BigInteger(), nullable=False),
        sa.Column("ends_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("give_rupiah", sa.Integer(), nullable=False),
        sa.Column("per_rupiah", sa.Integer(), nullable=False),
        sa.Column("point_value", sa.Integer(), nullable=False),
        sa.Column("stamp_value", sa.Integer(), nullable=False),
        sa.Column("reward_value", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("reached_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchant.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cause", schema=None) as batch_op:
        batch_op.create_index("ix_cause_shop", ["merchant_id", "status"], unique=False)

    op.create_table(
        "cause_payout",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cause_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("recorded_by_person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cause_id"],
            ["cause.id"],
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cause_payout", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cause_payout_cause_id"), ["cause_id"], unique=False)

    op.create_table(
        "cause_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("cause_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("asset", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("rupiah", sa.BigInteger(), nullable=False),
        sa.Column("reward_id", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("created_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cause_id"],
            ["cause.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reward_id"],
            ["reward.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token", name="uq_cause_offer_token"),
    )
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cause_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_ledger_cause", ["cause_id", "person_id"], unique=False)
        batch_op.create_foreign_key("fk_ledger_entry_cause_id_cause", "cause", ["cause_id"], ["id"])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.drop_constraint("fk_ledger_entry_cause_id_cause", type_="foreignkey")
        batch_op.drop_index("ix_ledger_cause")
        batch_op.drop_column("cause_id")

    op.drop_table("cause_offer")
    with op.batch_alter_table("cause_payout", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cause_payout_cause_id"))

    op.drop_table("cause_payout")
    with op.batch_alter_table("cause", schema=None) as batch_op:
        batch_op.drop_index("ix_cause_shop")

    op.drop_table("cause")
