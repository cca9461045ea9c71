"""a refund records the stamps it could not take back (they lapsed, a lower target capped the card,
the shop stopped stamps): purchase_refund.stamps_short, so the books still add up

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 16:30:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0020"
down_revision: Union[str, Sequence[str], None] = "0019"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("purchase_refund", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stamps_short", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("purchase_refund", schema=None) as batch_op:
        batch_op.drop_column("stamps_short")
