"""purchase claims

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

"""

from collections.abc import Sequence
from typing import Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel types)
from alembic import op

import kartu.storage.types  # noqa: F401

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "purchase_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("amount", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by_person_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_person_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchant.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("purchase_claim", schema=None) as batch_op:
        batch_op.create_index("ix_claim_open", ["merchant_id", "person_id", "status"], unique=False)

    op.create_table(
        "claim_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["purchase_claim.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("claim_notice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_notice_claim_id"), ["claim_id"], unique=False)

    with op.batch_alter_table("staff_member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("on_duty", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("staff_member", schema=None) as batch_op:
        batch_op.drop_column("on_duty")

    with op.batch_alter_table("claim_notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_notice_claim_id"))

    op.drop_table("claim_notice")
    with op.batch_alter_table("purchase_claim", schema=None) as batch_op:
        batch_op.drop_index("ix_claim_open")

    op.drop_table("purchase_claim")
