"""notification outbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 04:29:28.774622
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import expert_match.db.base


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.Enum('email', 'webhook', name='notification_channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'sending', 'sent', 'failed', 'skipped', name='delivery_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', expert_match.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', expert_match.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', expert_match.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', expert_match.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['ticket_events.id'], name=op.f('fk_notifications_event_id_ticket_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_state_next_attempt_at', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index('uq_notifications_event_channel_recipient', ['event_id', 'channel', 'recipient'], unique=True)



def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('uq_notifications_event_channel_recipient')
        batch_op.drop_index('ix_notifications_state_next_attempt_at')

    op.drop_table('notifications')
