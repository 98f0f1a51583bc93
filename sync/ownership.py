"""Who owns each replicated table, and which branch or restaurant a row belongs to.

The one place for ownership (DESIGN.md, "Data ownership"):

- CLOUD tables are written by head office at the cloud and fed to edges.
- BRANCH tables belong to the branch's authority (its edge) and are pushed up.
- SHARED tables (customers, addresses, revoked tokens) are written anywhere.
- Everything else (idempotency records, sync's own tables) stays on its node.

``SCOPES`` says how a row finds its branch and restaurant: by its own column,
through its parent, or not at all (global rows). From it come the columns the
capture triggers record (sync/capture.py), the rows a snapshot sends, and the
rows a feed sends to a branch (sync/feed.py): one declaration, three uses.
"""

CLOUD, BRANCH, SHARED = "cloud", "branch", "shared"

OWNERS = {
    # head office
    "restaurants": CLOUD, "branches": CLOUD, "roles": CLOUD, "permissions": CLOUD,
    "role_has_permissions": CLOUD, "users": CLOUD, "model_has_roles": CLOUD,
    "user_branches": CLOUD, "order_types": CLOUD, "menus": CLOUD, "item_categories": CLOUD,
    "kot_places": CLOUD, "taxes": CLOUD, "menu_items": CLOUD, "menu_item_tax": CLOUD,
    "menu_item_variations": CLOUD, "menu_item_prices": CLOUD, "modifier_groups": CLOUD,
    "item_modifiers": CLOUD, "modifier_options": CLOUD, "modifier_option_prices": CLOUD,
    "restaurant_charges": CLOUD, "delivery_platforms": CLOUD, "delivery_executives": CLOUD,
    "kot_cancel_reasons": CLOUD,
    "delivery_settings": CLOUD, "delivery_fee_tiers": CLOUD, "order_number_settings": CLOUD, "languages": CLOUD,
    "currencies": CLOUD, "payment_gateway_credentials": CLOUD, "printers": CLOUD,
    "receipt_settings": CLOUD, "areas": CLOUD, "tables": BRANCH,
    # the branch's authority
    "table_locks": BRANCH, "reservations": BRANCH, "orders": BRANCH, "order_items": BRANCH,
    "order_item_modifier_options": BRANCH, "order_taxes": BRANCH, "order_charges": BRANCH,
    "kots": BRANCH, "kot_items": BRANCH, "split_orders": BRANCH, "payments": BRANCH,
    "notifications": BRANCH, "number_sequences": BRANCH, "ai_device_tokens": BRANCH,
    "cash_registers": BRANCH, "denominations": BRANCH, "cash_register_sessions": BRANCH,
    "cash_register_transactions": BRANCH, "cash_register_counts": BRANCH,
    "pos_machines": BRANCH, "rider_states": BRANCH,
    # push delivery (the cloud pushes; its key and log are fed to the branch's edge)
    "push_keys": CLOUD, "push_log": CLOUD,
    # commands for a branch, and the branch's answers
    "sync_commands": CLOUD, "sync_command_results": BRANCH,
    # everyone
    "customers": SHARED, "customer_addresses": SHARED, "revoked_tokens": SHARED,
}

# Columns never sent to an edge (a credential stays at the cloud).
SECRET_COLUMNS = {"payment_gateway_credentials": {"secret"}}

BY_BRANCH = ("branch", "branch_id")
BY_RESTAURANT = ("restaurant", "restaurant_id")
GLOBAL = ("global",)


def parent(table, column):
    return ("parent", table, column)


SCOPES = {
    "restaurants": ("self_restaurant",),
    "branches": BY_RESTAURANT,
    "roles": BY_RESTAURANT, "users": BY_RESTAURANT, "taxes": BY_RESTAURANT,
    "restaurant_charges": BY_RESTAURANT, "kot_cancel_reasons": BY_RESTAURANT,
    "currencies": BY_RESTAURANT, "payment_gateway_credentials": BY_RESTAURANT,
    "customers": BY_RESTAURANT,
    "permissions": GLOBAL, "languages": GLOBAL, "revoked_tokens": GLOBAL,
    "role_has_permissions": parent("roles", "role_id"),
    "model_has_roles": parent("users", "user_id"),
    "user_branches": BY_BRANCH,
    "order_types": BY_BRANCH, "menus": BY_BRANCH, "item_categories": BY_BRANCH,
    "kot_places": BY_BRANCH, "menu_items": BY_BRANCH, "modifier_groups": BY_BRANCH,
    "delivery_platforms": BY_BRANCH, "delivery_executives": BY_BRANCH,
    "delivery_settings": BY_BRANCH, "delivery_fee_tiers": BY_BRANCH,
    "order_number_settings": BY_BRANCH, "printers": BY_BRANCH, "receipt_settings": BY_BRANCH,
    "areas": BY_BRANCH, "tables": BY_BRANCH, "table_locks": BY_BRANCH,
    "reservations": BY_BRANCH, "orders": BY_BRANCH, "kots": BY_BRANCH,
    "payments": BY_BRANCH, "notifications": BY_BRANCH, "number_sequences": BY_BRANCH,
    "ai_device_tokens": BY_BRANCH,
    "cash_registers": BY_BRANCH, "denominations": BY_BRANCH,
    "cash_register_sessions": BY_BRANCH, "cash_register_transactions": BY_BRANCH,
    "cash_register_counts": parent("cash_register_sessions", "cash_register_session_id"),
    "pos_machines": BY_BRANCH, "rider_states": BY_BRANCH, "push_log": BY_BRANCH,
    "push_keys": GLOBAL,
    "sync_commands": BY_BRANCH, "sync_command_results": BY_BRANCH,
    "menu_item_tax": parent("menu_items", "menu_item_id"),
    "menu_item_variations": parent("menu_items", "menu_item_id"),
    "menu_item_prices": parent("menu_items", "menu_item_id"),
    "item_modifiers": parent("menu_items", "menu_item_id"),
    "modifier_options": parent("modifier_groups", "modifier_group_id"),
    "modifier_option_prices": parent("modifier_options", "modifier_option_id"),
    "order_items": parent("orders", "order_id"),
    "order_item_modifier_options": parent("order_items", "order_item_id"),
    "order_taxes": parent("orders", "order_id"),
    "order_charges": parent("orders", "order_id"),
    "split_orders": parent("orders", "order_id"),
    "kot_items": parent("kots", "kot_id"),
    "customer_addresses": parent("customers", "customer_id"),
}

REPLICATED = tuple(OWNERS)
assert set(SCOPES) == set(OWNERS), set(SCOPES) ^ set(OWNERS)


# Shared rows are never deleted through sync, whoever sends the delete: a revocation
# stays, and a deleted customer or address is a tombstone (``deleted_at``, merged like
# any field: protocol/models.py SharedModel), because another branch's orders and
# reservations may refer to it. A hard delete of one (from a node running older
# code) is refused (sync/apply.py).
NEVER_DELETED = frozenset(t for t, owner in OWNERS.items() if owner == SHARED)


def edge_may_write(table):
    return OWNERS.get(table) in (BRANCH, SHARED)


def may_delete(table):
    return table not in NEVER_DELETED


def scope_sql(table, column):
    """SQL expressions (branch_id, restaurant_id) of a row of ``table``, where
    ``column(name)`` renders a column of that row (``NEW.branch_id``, ``t.id``)."""
    kind = SCOPES[table]
    if kind[0] == "self_restaurant":
        return "NULL", column("id")
    if kind == GLOBAL:
        return "NULL", "NULL"
    if kind == BY_RESTAURANT:
        return "NULL", column("restaurant_id")
    if kind == BY_BRANCH:
        return (column("branch_id"),
                "(SELECT restaurant_id FROM branches WHERE id = %s)" % column("branch_id"))
    _, parent_table, fk = kind

    def parent_column(name):
        return "(SELECT %s FROM %s WHERE id = %s)" % (name, parent_table, column(fk))
    return scope_sql(parent_table, parent_column)


def visible_sql(table, alias, branch_id, restaurant_id):
    """A WHERE condition on ``alias`` selecting the rows of ``table`` that the
    branch may hold (its own rows, its restaurant's, and global ones)."""
    branch, restaurant = scope_sql(table, lambda name: "%s.%s" % (alias, name))
    return ("((%s) = %d OR ((%s) IS NULL AND ((%s) = %d OR (%s) IS NULL)))"
            % (branch, branch_id, branch, restaurant, restaurant_id, restaurant))
