"""broadcasts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

"""

from collections.abc import Sequence
from typing import Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel types)
from alembic import op

import kartu.storage.types  # noqa: F401

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: Union[str, Sequence[str], None] = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "broadcast",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("created_by_person_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("photo_file_id", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column("segment", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("created_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("progress_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("progress_message_id", sa.Integer(), nullable=True),
        sa.Column("progress_text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_person_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchant.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.create_index("ix_broadcast_merchant_status", ["merchant_id", "status"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.drop_index("ix_broadcast_merchant_status")

    op.drop_table("broadcast")
