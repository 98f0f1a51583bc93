"""Where each write of the API is made when the branch is run by an edge.

The one table for it, beside the ownership of tables (sync/ownership.py). Every
write a handler makes through ``write_once`` names its domain function here:

- ``COMMAND``: the branch's own data (orders and items, KOTs, payments, tips,
  splits, tables and their locks, reservations, the cash drawer, POS machines,
  the branch's notifications). At the cloud, for a branch an edge runs, it is
  sent to that edge as a command and answered with the edge's own answer
  (sync/commands.py); the edge runs the same function.
- ``HERE``: shared data (customers, addresses) and what belongs to whoever
  receives it (a device token registered with this node, a user's read state
  of a notification). Written where the request arrives; sync replicates it.

Writes a handler makes without ``write_once`` are the node's own or head
office's and are made where they arrive: logging in and out, switching branch,
delivery settings, platforms and riders' accounts (head office's: an edge answers
409), enrollment and sync. Dispatch and a rider's live state (protocol/dispatch.py,
protocol/rider_states.py) are the branch's own.

``BY_RIDER``: the rider app's writes, which a rider makes, not a user; a command of
one runs at the edge as that rider (protocol/rider_accounts.py).

tests/test_writes.py checks that every ``write_once`` of every handler is in ``WRITES``.
"""

from protocol import (cash_register, customer_app, customers, denominations, dispatch,
                      kitchen, multipos, notifications, orders, partner, payments,
                      reservations, riders, tables)
from protocol.commands import kind_of

COMMAND, HERE = "command", "here"

WRITES = {
    orders.create_order: COMMAND, orders.update_order: COMMAND,
    orders.update_items: COMMAND, orders.set_status: COMMAND, orders.send_kot: COMMAND,
    customer_app.place_order: COMMAND,
    payments.pay: COMMAND, payments.split: COMMAND, payments.tip: COMMAND,
    kitchen.set_kot_status: COMMAND, kitchen.set_item_status: COMMAND,
    tables.unlock: COMMAND,
    reservations.create: COMMAND, reservations.set_status: COMMAND,
    cash_register.create_register: COMMAND, cash_register.update_register: COMMAND,
    cash_register.deactivate_register: COMMAND, cash_register.open_session: COMMAND,
    cash_register.close_session: COMMAND, cash_register.move_cash: COMMAND,
    denominations.create: COMMAND, denominations.update: COMMAND,
    denominations.delete: COMMAND,
    multipos.register: COMMAND,
    notifications.send_test: COMMAND,
    customers.save: HERE, customers.delete: HERE, customers.add_address: HERE,
    customers.update_address: HERE, customers.delete_address: HERE,
    notifications.register_token: HERE, notifications.mark_read: HERE,
    dispatch.assign: COMMAND, dispatch.set_delivery_status: COMMAND,
    riders.set_status: COMMAND,
    partner.start: COMMAND, partner.report: COMMAND, partner.complete: COMMAND,
    partner.locate: COMMAND,
    partner.register_device: HERE, partner.unregister_device: HERE,
}

BY_RIDER = frozenset({partner.start, partner.report, partner.complete, partner.locate,
                      partner.register_device, partner.unregister_device})

# What an edge runs when the cloud sends it, by the name the command carries.
COMMANDS = {kind_of(fn): fn for fn, where in WRITES.items() if where == COMMAND}


def is_command(fn):
    """Whether fn runs at the branch's authority; LookupError for a write not in WRITES."""
    return WRITES[fn] == COMMAND
