"""wheel: prizes with odds and budgets, spins earned by purchases, what earns one

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 15:50:36.044398

"""

from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel types)
from alembic import op

import kartu.storage.types  # noqa: F401

# revision identifiers, used by Alembic.
revision: str = "0012"
down_revision: Union[str, Sequence[str], None] = "0011"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "wheel_prize",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("catalogue_item_id", sa.Integer(), nullable=True),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("odds", sa.Integer(), nullable=False),
        sa.Column("daily_budget", sa.Integer(), nullable=True),
        sa.Column("monthly_budget", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("deleted_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["catalogue_item_id"],
            ["catalogue_item.id"],
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchant.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("wheel_prize", schema=None) as batch_op:
        batch_op.create_index("ix_wheel_prize_shop", ["merchant_id", "position"], unique=False)

    op.create_table(
        "spin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("earned_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("prize_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=True),
        sa.Column("spun_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchant.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["prize_id"],
            ["wheel_prize.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", name="uq_spin_source"),
    )
    with op.batch_alter_table("spin", schema=None) as batch_op:
        batch_op.create_index("ix_spin_ready", ["merchant_id", "person_id", "status"], unique=False)
        batch_op.create_index("ix_spin_won", ["merchant_id", "prize_id", "spun_at"], unique=False)

    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "spin_rule", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False, server_default="off"
            )
        )
        batch_op.add_column(sa.Column("spin_every", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("spin_min_amount", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("spin_valid_days", sa.Integer(), nullable=False, server_default="7"))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.drop_column("spin_valid_days")
        batch_op.drop_column("spin_min_amount")
        batch_op.drop_column("spin_every")
        batch_op.drop_column("spin_rule")

    with op.batch_alter_table("spin", schema=None) as batch_op:
        batch_op.drop_index("ix_spin_won")
        batch_op.drop_index("ix_spin_ready")

    op.drop_table("spin")
    with op.batch_alter_table("wheel_prize", schema=None) as batch_op:
        batch_op.drop_index("ix_wheel_prize_shop")

    op.drop_table("wheel_prize")
