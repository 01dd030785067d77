"""per-hall appointment and surge-alert settings, per-bundle surge thresholds, holiday calendar

hall_service_setting gains the appointment policy (walk-in share, grace, per-person limit, booking
horizon) and the hall-wide surge thresholds, each with the old constant as its server default so
existing rows keep today's behaviour; surge_threshold holds a bundle's own thresholds; hall_day the
days a hall is closed on a weekday (法定节假日) or open on a weekend (调休上班).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (column, default, lowest, highest): the same as queue_server.models.service.POLICY
POLICY = (
    ('walk_in_percent', 30, 0, 90),
    ('grace_min', 10, 0, 60),
    ('per_person_limit', 2, 1, 10),
    ('days_ahead', 7, 1, 60),
    ('surge_waiting', 20, 1, 999),
    ('surge_wait_min', 45, 1, 600),
)


def upgrade() -> None:
    with op.batch_alter_table('hall_service_setting', schema=None) as batch_op:
        for column, default, low, high in POLICY:
            batch_op.add_column(sa.Column(column, sa.Integer(), server_default=str(default), nullable=False))
            batch_op.create_check_constraint(
                op.f(f'ck_hall_service_setting_{column}'), f'{column} BETWEEN {low} AND {high}')

    op.create_table('surge_threshold',
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('bundle_id', sa.Integer(), nullable=False),
    sa.Column('waiting', sa.Integer(), nullable=True),
    sa.Column('wait_min', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['bundle_id'], ['bundle.id'], name=op.f('fk_surge_threshold_bundle_id_bundle'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], name=op.f('fk_surge_threshold_hall_id_hall'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('hall_id', 'bundle_id', name=op.f('pk_surge_threshold'))
    )
    op.create_table('hall_day',
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('note', sa.String(length=60), nullable=True),
    sa.CheckConstraint("kind IN ('closed', 'working')", name=op.f('ck_hall_day_kind')),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], name=op.f('fk_hall_day_hall_id_hall'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('hall_id', 'day', name=op.f('pk_hall_day'))
    )


def downgrade() -> None:
    op.drop_table('hall_day')
    op.drop_table('surge_threshold')
    with op.batch_alter_table('hall_service_setting', schema=None) as batch_op:
        for column, _default, _low, _high in reversed(POLICY):
            batch_op.drop_constraint(op.f(f'ck_hall_service_setting_{column}'), type_='check')
            batch_op.drop_column(column)
