"""The cash drawer: registers, denominations, sessions, their transactions and counts.

Needs only tables of 0001, so it applies after 0004 or after 0005, whichever is
the last one a database has run."""
from peewee import *

from protocol.migrations import existing_table


def up(migrator, db):
    Restaurant, Branch, User, Order, Payment = (
        existing_table(db, name) for name in ('restaurants', 'branches', 'users', 'orders',
                                             'payments'))

    class CashRegister(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        restaurant = ForeignKeyField(Restaurant, on_delete='CASCADE')
        branch = ForeignKeyField(Branch, on_delete='CASCADE')
        name = CharField(max_length=255)
        is_active = BooleanField(default=True)

        class Meta:
            database = db
            table_name = 'cash_registers'

    class Denomination(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        uuid = CharField(unique=True)
        restaurant = ForeignKeyField(Restaurant, on_delete='CASCADE')
        branch = ForeignKeyField(Branch, on_delete='CASCADE')
        name = CharField(max_length=255)
        value = BigIntegerField(default=0)
        type = CharField(default='note')
        description = TextField(null=True)
        is_active = BooleanField(default=True)

        class Meta:
            database = db
            table_name = 'denominations'

    class CashRegisterSession(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        cash_register = ForeignKeyField(CashRegister, on_delete='CASCADE')
        restaurant = ForeignKeyField(Restaurant, on_delete='CASCADE')
        branch = ForeignKeyField(Branch, on_delete='CASCADE')
        opened_by = ForeignKeyField(User, on_delete='CASCADE')
        opened_at = DateTimeField()
        opening_float = BigIntegerField(default=0)
        closed_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        closed_at = DateTimeField(null=True)
        expected_cash = BigIntegerField(null=True)
        counted_cash = BigIntegerField(null=True)
        discrepancy = BigIntegerField(null=True)
        status = CharField(default='open')
        closing_note = TextField(null=True)

        class Meta:
            database = db
            table_name = 'cash_register_sessions'

    CashRegisterSession.add_index(CashRegisterSession.index(
        CashRegisterSession.cash_register, unique=True,
        where=CashRegisterSession.status == 'open', name='cash_sessions_one_open_per_register'))
    CashRegisterSession.add_index(CashRegisterSession.index(
        CashRegisterSession.branch, CashRegisterSession.opened_by, unique=True,
        where=CashRegisterSession.status == 'open', name='cash_sessions_one_open_per_user'))

    class CashRegisterTransaction(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        session = ForeignKeyField(CashRegisterSession, column_name='cash_register_session_id',
                                  on_delete='CASCADE')
        restaurant = ForeignKeyField(Restaurant, on_delete='CASCADE')
        branch = ForeignKeyField(Branch, on_delete='CASCADE')
        happened_at = DateTimeField()
        type = CharField()
        amount = BigIntegerField(default=0)
        running_amount = BigIntegerField(default=0)
        reason = TextField(null=True)
        reference = CharField(null=True)
        order = ForeignKeyField(Order, null=True, on_delete='SET NULL')
        payment = ForeignKeyField(Payment, null=True, on_delete='SET NULL')
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')

        class Meta:
            database = db
            table_name = 'cash_register_transactions'

    class CashRegisterCount(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        session = ForeignKeyField(CashRegisterSession, column_name='cash_register_session_id',
                                  on_delete='CASCADE')
        denomination = ForeignKeyField(Denomination, column_name='cash_denomination_id',
                                       on_delete='CASCADE')
        count = IntegerField()
        subtotal = BigIntegerField(default=0)

        class Meta:
            database = db
            table_name = 'cash_register_counts'

    db.create_tables([CashRegister, Denomination, CashRegisterSession, CashRegisterTransaction,
                      CashRegisterCount])
