"""covering index for the coordinators' queues and the experts' loads; resolved tickets by time

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 22:50:00

Every queue section counts and lists open tickets by status and alert instants. Those columns
sit at the end of a ticket's row, after its title, description and folded search key (about
1.7k characters together), so on SQLite each test walked the row's overflow pages: 2.4-2.8 ms
per statement at 1,200 open tickets, six statements a queue page. This index holds every
column the queues read (``TicketRepository.queue_section``, ``open_briefs``, ``open_counts``),
so they are answered from it alone: 2.6 -> 0.17 ms for the breached count. It also holds the
assigned expert, so the experts' loads (every filing's ranking, the desk) count working tickets
from it: through the (expert, status) index they would visit every ticket ever assigned.

The scheduler looks every few seconds for tickets resolved long enough ago to close; by status
alone it read every resolved ticket's row for its resolution time (1.2 ms at 800 resolved
tickets, growing with them): (status, resolved_at) finds them by range.
"""

from __future__ import annotations

from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

COLUMNS = ['status', 'alert_basis', 'alert_breach', 'alert_at_risk', 'priority', 'district_code', 'category',
           'created_at', 'assigned_expert_id', 'id']


def upgrade() -> None:
    op.create_index('ix_tickets_queue', 'tickets', COLUMNS, unique=False)
    op.create_index('ix_tickets_status_resolved_at', 'tickets', ['status', 'resolved_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_tickets_status_resolved_at', table_name='tickets')
    op.drop_index('ix_tickets_queue', table_name='tickets')
