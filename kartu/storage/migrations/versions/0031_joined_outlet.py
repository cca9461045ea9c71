"""card.joined_outlet_id: the outlet whose link or QR a customer joined by

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-08 00:50:00
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0031"
down_revision: Union[str, Sequence[str], None] = "0030"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema (a nullable column: no table is rebuilt)."""
    op.add_column("card", sa.Column("joined_outlet_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.drop_column("joined_outlet_id")
