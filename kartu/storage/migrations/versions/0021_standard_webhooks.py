"""webhooks signed as Standard Webhooks: an endpoint's signing scheme (endpoints made before keep
Kartu's own until their secret is rotated), and the secret it had before a rotation, which signs
too for a day

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 15:20:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import kartu.storage.types

# revision identifiers, used by Alembic.
revision: str = "0021"
down_revision: Union[str, Sequence[str], None] = "0020"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("webhook_endpoint", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("signing", sa.String(length=16), server_default="kartu", nullable=False)
        )
        batch_op.add_column(sa.Column("previous_secret", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("previous_signing", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("previous_until", kartu.storage.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("webhook_endpoint", schema=None) as batch_op:
        batch_op.drop_column("previous_until")
        batch_op.drop_column("previous_signing")
        batch_op.drop_column("previous_secret")
        batch_op.drop_column("signing")
