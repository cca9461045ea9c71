"""outbox: when a promotion's send began, so one whose dispatcher died mid-send is not sent twice

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 18:00:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import kartu.storage.types

# revision identifiers, used by Alembic.
revision: str = "0025"
down_revision: Union[str, Sequence[str], None] = "0024"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("outbox_message") as batch_op:
        batch_op.add_column(
            sa.Column("sending_at", kartu.storage.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("outbox_message") as batch_op:
        batch_op.drop_column("sending_at")
