"""ticket alert instants (at risk, breached) for indexed queues

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 15:40:00

Existing tickets get no instants here (``alert_basis`` stays NULL): computing them needs the
calendar file and the history, so the scheduler fills them in on its next pass, and until then
the queues compute those tickets from their history as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import expert_match.db.base


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('alert_at_risk', expert_match.db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('alert_breach', expert_match.db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('alert_basis', sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f('ix_tickets_alert_breach'), ['alert_breach'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_alert_breach'))
        batch_op.drop_column('alert_basis')
        batch_op.drop_column('alert_breach')
        batch_op.drop_column('alert_at_risk')
