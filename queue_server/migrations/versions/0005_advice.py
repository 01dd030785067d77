"""advice runs of the window-allocation advisor

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import queue_server.models.base

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('allocation_advice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('service_day', sa.Date(), nullable=False),
    sa.Column('created_at', queue_server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('horizon_end', queue_server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('hall_p90_current', sa.Double(), nullable=True),
    sa.Column('hall_p90_advised', sa.Double(), nullable=True),
    sa.Column('predicted', sa.Text(), nullable=False),
    sa.Column('current_allocation', sa.Text(), nullable=False),
    sa.Column('proposed_allocation', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], name=op.f('fk_allocation_advice_hall_id_hall')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allocation_advice'))
    )
    with op.batch_alter_table('allocation_advice', schema=None) as batch_op:
        batch_op.create_index('ix_allocation_advice_hall_day', ['hall_id', 'service_day'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('allocation_advice', schema=None) as batch_op:
        batch_op.drop_index('ix_allocation_advice_hall_day')
    op.drop_table('allocation_advice')
