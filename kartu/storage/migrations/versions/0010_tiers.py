"""tiers: a shop's levels and where each card stands, the groups a level opens, amounts on the
ledger (spend-based levels)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 11:53:15.579720

"""

from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel types)
from alembic import op

import kartu.storage.types  # noqa: F401

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: Union[str, Sequence[str], None] = "0009"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "tier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("threshold", sa.BigInteger(), nullable=False),
        sa.Column("multiplier_permille", sa.Integer(), nullable=False),
        sa.Column("perks", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("group_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("group_title", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("deleted_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchant.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tier", schema=None) as batch_op:
        batch_op.create_index("ix_tier_shop", ["merchant_id", "threshold"], unique=False)

    op.create_table(
        "vip_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("added_by_person_id", sa.Integer(), nullable=False),
        sa.Column("added_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_person_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchant.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chat_id"),
    )
    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tier_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("tier_since", kartu.storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("tier_reviewed_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("tier_grace_until", kartu.storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key("fk_card_tier_id_tier", "tier", ["tier_id"], ["id"])

    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("amount", sa.BigInteger(), nullable=True))

    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "tier_basis",
                sqlmodel.sql.sqltypes.AutoString(length=8),
                nullable=False,
                server_default="visits",
            )
        )
        batch_op.add_column(
            sa.Column("tier_window_months", sa.Integer(), nullable=False, server_default="12")
        )
        batch_op.add_column(sa.Column("tier_grace_days", sa.Integer(), nullable=False, server_default="30"))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.drop_column("tier_grace_days")
        batch_op.drop_column("tier_window_months")
        batch_op.drop_column("tier_basis")

    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.drop_column("amount")

    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.drop_constraint("fk_card_tier_id_tier", type_="foreignkey")
        batch_op.drop_column("tier_grace_until")
        batch_op.drop_column("tier_reviewed_at")
        batch_op.drop_column("tier_since")
        batch_op.drop_column("tier_id")

    op.drop_table("vip_group")
    with op.batch_alter_table("tier", schema=None) as batch_op:
        batch_op.drop_index("ix_tier_shop")

    op.drop_table("tier")
