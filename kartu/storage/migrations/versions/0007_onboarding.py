"""onboarding: an owner link meant for one @username

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24

"""

from collections.abc import Sequence
from typing import Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: Union[str, Sequence[str], None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("staff_invite", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("for_username", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("staff_invite", schema=None) as batch_op:
        batch_op.drop_column("for_username")
