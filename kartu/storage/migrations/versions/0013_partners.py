"""partners: handshakes between shops, partner vouchers as rewards, a shop's address and location

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 16:01:32.252207

"""

from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel types)
from alembic import op

import kartu.storage.types  # noqa: F401

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: Union[str, Sequence[str], None] = "0012"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "partnership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_merchant_id", sa.Integer(), nullable=False),
        sa.Column("to_merchant_id", sa.Integer(), nullable=False),
        sa.Column("condition", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("condition_value", sa.BigInteger(), nullable=False),
        sa.Column("voucher", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("voucher_value", sa.Integer(), nullable=False),
        sa.Column("terms", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("valid_days", sa.Integer(), nullable=False),
        sa.Column("monthly_cap", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("proposed_by_person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["from_merchant_id"],
            ["merchant.id"],
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_person_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["to_merchant_id"],
            ["merchant.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("partnership", schema=None) as batch_op:
        batch_op.create_index("ix_partnership_from", ["from_merchant_id", "status"], unique=False)

    with op.batch_alter_table("merchant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "address", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default=""
            )
        )
        batch_op.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("longitude", sa.Float(), nullable=True))

    with op.batch_alter_table("reward", schema=None) as batch_op:
        batch_op.add_column(sa.Column("partnership_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_reward_partnership_id_partnership", "partnership", ["partnership_id"], ["id"]
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("reward", schema=None) as batch_op:
        batch_op.drop_constraint("fk_reward_partnership_id_partnership", type_="foreignkey")
        batch_op.drop_column("partnership_id")

    with op.batch_alter_table("merchant", schema=None) as batch_op:
        batch_op.drop_column("longitude")
        batch_op.drop_column("latitude")
        batch_op.drop_column("address")

    with op.batch_alter_table("partnership", schema=None) as batch_op:
        batch_op.drop_index("ix_partnership_from")

    op.drop_table("partnership")
