"""evaluations, follow-ups, applications, outbox, hall service settings

Tables of queue_server.models.service: 好差评 (evaluation) with its 差评 follow-up case and steps;
applications (一表申请 → 统一出件) with their per-day number counter and status steps; the SMS outbox;
per-hall settings (follow-up deadline in working days).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import queue_server.models.base


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('application_counter',
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('service_day', sa.Date(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], name=op.f('fk_application_counter_hall_id_hall')),
    sa.PrimaryKeyConstraint('hall_id', 'service_day', name=op.f('pk_application_counter'))
    )
    op.create_table('hall_service_setting',
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('followup_days', sa.Integer(), nullable=False),
    sa.CheckConstraint('followup_days BETWEEN 1 AND 15', name=op.f('ck_hall_service_setting_followup_days')),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], name=op.f('fk_hall_service_setting_hall_id_hall'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('hall_id', name=op.f('pk_hall_service_setting'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('ref', sa.String(length=60), nullable=True),
    sa.Column('created_at', queue_server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', queue_server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], name=op.f('fk_outbox_hall_id_hall')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_sent_at'), ['sent_at'], unique=False)

    op.create_table('application',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('bundle_id', sa.Integer(), nullable=False),
    sa.Column('service_day', sa.Date(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('masked_name', sa.String(length=40), nullable=False),
    sa.Column('form', sa.Text(), nullable=False),
    sa.Column('id_hashes', sa.Text(), nullable=True),
    sa.Column('delivery', sa.String(length=10), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('tracking_number', sa.String(length=40), nullable=True),
    sa.Column('promised_by', sa.Date(), nullable=True),
    sa.Column('received_at', queue_server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', queue_server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['bundle_id'], ['bundle.id'], name=op.f('fk_application_bundle_id_bundle')),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_application_device_id_device')),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], name=op.f('fk_application_hall_id_hall')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_application_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application')),
    sa.UniqueConstraint('hall_id', 'number', name=op.f('uq_application_hall_id_number'))
    )
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.create_index('ix_application_hall_status', ['hall_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_id_hash'), ['id_hash'], unique=False)

    op.create_table('application_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('at', queue_server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_application_step_application_id_application'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_step')),
    sa.UniqueConstraint('application_id', 'status', name=op.f('uq_application_step_application_id_status'))
    )
    op.create_table('evaluation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('bundle_id', sa.Integer(), nullable=False),
    sa.Column('window_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('reasons', sa.String(length=200), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('rated_at', queue_server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(ticket_id IS NULL) <> (application_id IS NULL)', name=op.f('ck_evaluation_one_subject')),
    sa.CheckConstraint('level BETWEEN 1 AND 5', name=op.f('ck_evaluation_level')),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_evaluation_application_id_application')),
    sa.ForeignKeyConstraint(['bundle_id'], ['bundle.id'], name=op.f('fk_evaluation_bundle_id_bundle')),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], name=op.f('fk_evaluation_hall_id_hall')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_evaluation_staff_id_staff')),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_evaluation_ticket_id_ticket')),
    sa.ForeignKeyConstraint(['window_id'], ['window.id'], name=op.f('fk_evaluation_window_id_window')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation')),
    sa.UniqueConstraint('application_id', name=op.f('uq_evaluation_application_id')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_evaluation_ticket_id'))
    )
    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.create_index('ix_evaluation_hall_rated_at', ['hall_id', 'rated_at'], unique=False)

    op.create_table('followup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('evaluation_id', sa.Integer(), nullable=False),
    sa.Column('opened_at', queue_server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('closed_at', queue_server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['evaluation_id'], ['evaluation.id'], name=op.f('fk_followup_evaluation_id_evaluation')),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], name=op.f('fk_followup_hall_id_hall')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup')),
    sa.UniqueConstraint('evaluation_id', name=op.f('uq_followup_evaluation_id'))
    )
    with op.batch_alter_table('followup', schema=None) as batch_op:
        batch_op.create_index('ix_followup_hall_state', ['hall_id', 'state'], unique=False)

    op.create_table('followup_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('followup_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=10), nullable=False),
    sa.Column('at', queue_server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['followup_id'], ['followup.id'], name=op.f('fk_followup_step_followup_id_followup'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_step')),
    sa.UniqueConstraint('followup_id', 'step', name=op.f('uq_followup_step_followup_id_step'))
    )


def downgrade() -> None:
    op.drop_table('followup_step')
    with op.batch_alter_table('followup', schema=None) as batch_op:
        batch_op.drop_index('ix_followup_hall_state')

    op.drop_table('followup')
    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.drop_index('ix_evaluation_hall_rated_at')

    op.drop_table('evaluation')
    op.drop_table('application_step')
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_id_hash'))
        batch_op.drop_index('ix_application_hall_status')

    op.drop_table('application')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_sent_at'))

    op.drop_table('outbox')
    op.drop_table('hall_service_setting')
    op.drop_table('application_counter')
