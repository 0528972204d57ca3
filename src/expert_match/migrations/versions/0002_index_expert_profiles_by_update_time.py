"""index expert profiles by update time

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 02:17:51.837199
"""

from __future__ import annotations

from alembic import op



revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('expert_profiles', schema=None) as batch_op:
        batch_op.create_index('ix_expert_profiles_updated_at', ['updated_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('expert_profiles', schema=None) as batch_op:
        batch_op.drop_index('ix_expert_profiles_updated_at')

