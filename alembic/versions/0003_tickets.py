"""tickets: tickets, their messages and attachments, and mail read from the support mailbox

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-25 10:45:00.954766
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import mysql

revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('ticket',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_activity_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('previous_ticket_id', sa.Integer(), nullable=True),
    sa.Column('client_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['previous_ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'client_key', name='uq_ticket_client_key')
    )
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_last_activity_at'), ['last_activity_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_number'), ['number'], unique=True)
        batch_op.create_index(batch_op.f('ix_ticket_status'), ['status'], unique=False)

    op.create_table('inboundmail',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('from_addr', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('inboundmail', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inboundmail_message_id'), ['message_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_inboundmail_outcome'), ['outcome'], unique=False)
        batch_op.create_index(batch_op.f('ix_inboundmail_received_at'), ['received_at'], unique=False)

    op.create_table('ticketmessage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('author_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('author_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('author_email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('via', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('body_text', sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mariadb').with_variant(mysql.MEDIUMTEXT(), 'mysql'), nullable=False),
    sa.Column('body_html', sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mariadb').with_variant(mysql.MEDIUMTEXT(), 'mysql'), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('in_reply_to', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('raw', sa.LargeBinary().with_variant(mysql.LONGBLOB(), 'mariadb').with_variant(mysql.LONGBLOB(), 'mysql'), nullable=True),
    sa.Column('client_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id', 'client_key', name='uq_ticketmessage_client_key')
    )
    with op.batch_alter_table('ticketmessage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticketmessage_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticketmessage_message_id'), ['message_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_ticketmessage_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('ticketattachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary().with_variant(mysql.LONGBLOB(), 'mariadb').with_variant(mysql.LONGBLOB(), 'mysql'), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['ticketmessage.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticketattachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticketattachment_message_id'), ['message_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('ticketattachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticketattachment_message_id'))

    op.drop_table('ticketattachment')
    with op.batch_alter_table('ticketmessage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticketmessage_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_ticketmessage_message_id'))
        batch_op.drop_index(batch_op.f('ix_ticketmessage_created_at'))

    op.drop_table('ticketmessage')
    with op.batch_alter_table('inboundmail', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inboundmail_received_at'))
        batch_op.drop_index(batch_op.f('ix_inboundmail_outcome'))
        batch_op.drop_index(batch_op.f('ix_inboundmail_message_id'))

    op.drop_table('inboundmail')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_status'))
        batch_op.drop_index(batch_op.f('ix_ticket_number'))
        batch_op.drop_index(batch_op.f('ix_ticket_last_activity_at'))
        batch_op.drop_index(batch_op.f('ix_ticket_account_id'))

    op.drop_table('ticket')

