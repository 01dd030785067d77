"""closing-time guard setting per hall; quoted wait ranges on tickets

hall_service_setting.closing_guard: 1 (the default, so every existing hall gets the guard) makes a
bundle stop issuing numbers when a new one could not be served before the hall closes.
ticket.quoted_range_lo/hi: the wait range quoted with each ticket (services/quotes.py).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('hall_service_setting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closing_guard', sa.Integer(), server_default='1', nullable=False))
        batch_op.create_check_constraint(
            op.f('ck_hall_service_setting_closing_guard'), 'closing_guard BETWEEN 0 AND 1')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quoted_range_lo', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('quoted_range_hi', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_column('quoted_range_hi')
        batch_op.drop_column('quoted_range_lo')
    with op.batch_alter_table('hall_service_setting', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_hall_service_setting_closing_guard'), type_='check')
        batch_op.drop_column('closing_guard')
