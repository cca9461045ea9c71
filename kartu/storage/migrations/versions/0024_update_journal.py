"""the update journal: an update is recorded as received before Telegram counts it delivered, and
kept until handled, so a process that dies loses none

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 16:00:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import kartu.storage.types

# revision identifiers, used by Alembic.
revision: str = "0024"
down_revision: Union[str, Sequence[str], None] = "0023"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("processed_update", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("chat_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("started_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("done_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
    # Updates recorded before: handled (the old record was written as they were handled).
    op.execute("UPDATE processed_update SET started_at = received_at, done_at = received_at")


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("processed_update", schema=None) as batch_op:
        batch_op.drop_column("attempts")
        batch_op.drop_column("done_at")
        batch_op.drop_column("started_at")
        batch_op.drop_column("chat_id")
        batch_op.drop_column("payload")
