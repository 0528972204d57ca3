"""partial index on experts who took no capacity (the desk lists them)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 21:50:00

The coordinators' desk lists experts with no capacity among the most loaded; without an index
the query read every active profile (6 ms of a 17 ms queue page at 13,000 experts on SQLite).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_expert_profiles_no_capacity', 'expert_profiles', ['id'], unique=False,
                    sqlite_where=sa.text('capacity = 0'), postgresql_where=sa.text('capacity = 0'))


def downgrade() -> None:
    op.drop_index('ix_expert_profiles_no_capacity', table_name='expert_profiles')
