"""ticket accesses (reads by staff)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 07:26:55.444528
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import expert_match.db.base


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ticket_accesses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('at', expert_match.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_accesses_ticket_id_tickets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_ticket_accesses_user_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_accesses'))
    )
    with op.batch_alter_table('ticket_accesses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_accesses_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_index('ix_ticket_accesses_user_at', ['user_id', 'at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ticket_accesses', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_accesses_user_at')
        batch_op.drop_index(batch_op.f('ix_ticket_accesses_ticket_id'))

    op.drop_table('ticket_accesses')
