"""kinds decide what a shop offers: program.stamps_finish (a shop that stopped stamps lets cards
holding some finish them)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 14:30:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0019"
down_revision: Union[str, Sequence[str], None] = "0018"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stamps_finish", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.drop_column("stamps_finish")
