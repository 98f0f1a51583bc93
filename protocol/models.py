"""The schema: every table of the contract's data, as peewee models.

Table and column names follow the TableTrack module (``menu_items.item_name``,
``ai_device_tokens.user_id``, ...) so that rows serialise to the shapes its
clients parse. Ids come from ``protocol.ids`` (unique across nodes, < 2**53).
Money columns are ``MoneyField`` (integer cents, Decimal in Python).

Ownership (see DESIGN.md): restaurants .. order-number settings are written by
the cloud only; orders, KOTs, payments, tables and their locks, reservations
and notifications belong to the branch's authority; customers and addresses
are shared; device tokens belong to the node the device registered with.

The schema changes only through ``protocol/migrations``; a new column here
needs a migration there (``tests/test_migrations.py`` compares the two).
"""


import peewee
from peewee import (BigIntegerField, BooleanField, CharField, DateField, DateTimeField,
                    ForeignKeyField, IntegerField, TextField)

from . import hlc, ids, wire
from .clock import node_now
from .database import Prepared, database, slot
from .errors import Conflict, NotFound
from .money import FixedPointField, MoneyField, PercentField


def utcnow():
    """Now, by the clock of the node writing the row (protocol.clock.node_now)."""
    return node_now()


class IdField(peewee.BigIntegerField):
    """Primary key minted by the node's IdAllocator."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("primary_key", True)
        kwargs.setdefault("default", ids.new_id)
        super().__init__(*args, **kwargs)


class JSONField(TextField):
    """A JSON document stored as text (portable across SQLite and PostgreSQL)."""

    def db_value(self, value):
        if value is None:
            return None
        return wire.dumps(value)

    def python_value(self, value):
        if value is None:
            return None
        return wire.loads(value)


class BaseModel(peewee.Model):
    id = IdField()
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        database = database
        legacy_table_names = False

    def save(self, *args, **kwargs):
        # Operations stamp updated_at themselves; the node's clock is the fallback.
        if "updated_at" not in self._dirty or self.updated_at is None:
            self.updated_at = utcnow()
        return super().save(*args, **kwargs)


_INSERT_SQL = {}
_CONVERTERS = {}      # table name -> [(field name, its db_value)]


def new_row(model, **values):
    """An unsaved row of ``model``: ``values`` (by field name; a key as its id), the
    model's defaults for the fields not given. Built as peewee builds one, without its
    setattr per field or a call of every default (an order's rows: a dozen per order)."""
    meta = model._meta
    data = meta._default_by_name.copy()
    for name, default in meta._default_callable_list:
        if name not in values:
            data[name] = default()
    row = model(__no_default__=True)
    fields = meta.fields
    for name, value in values.items():
        if name not in fields:      # "branch_id" for "branch": insert_all would drop it
            raise TypeError("%s has no field %r" % (model.__name__, name))
        if isinstance(value, peewee.Model):       # a key given as its row, as setattr takes
            row.__rel__[name] = value
            value = value.get_id()
        data[name] = value
    row.__data__ = data
    row._dirty = set(data)
    return row


def insert_all(rows):
    """Insert unsaved model instances of one model in one statement.

    The hot path of an order writes several rows; building their INSERT with
    peewee's query builder costs more than SQLite's work, so the statement is
    built once per (model, row count) and only the values are converted here,
    by the fields' own ``db_value``. Ids come from the instances (IdField)."""
    if not rows:
        return
    meta = type(rows[0])._meta
    key = (meta.table_name, len(rows), database.param)   # an edge and a cloud may share a process
    sql = _INSERT_SQL.get(key)
    if sql is None:
        fields = meta.sorted_fields
        placeholder = "(%s)" % ", ".join("?" * len(fields))
        sql = 'INSERT INTO "%s" (%s) VALUES %s' % (
            meta.table_name, ", ".join('"%s"' % f.column_name for f in fields),
            ", ".join([placeholder] * len(rows)))
        if database.param != "?":
            sql = sql.replace("?", database.param)
        _INSERT_SQL[key] = sql
    converters = _CONVERTERS.get(meta.table_name)
    if converters is None:
        converters = _CONVERTERS[meta.table_name] = [(f.name, f.db_value)
                                                     for f in meta.sorted_fields]
    params = []
    for row in rows:
        data = row.__data__
        params.extend([convert(data.get(name)) for name, convert in converters])
    database.execute_sql(sql, params)


_IN_BRANCH = {}       # model -> its Prepared lookup by id in a branch


def in_branch(model, branch_id, row_id, what, *, message=None):
    """The row of ``model`` with ``row_id`` in the branch, else 404 "<what> not found."
    (or ``message``, where the module words it otherwise); another branch's row is not
    found either: scoping by branch in one place."""
    row = None
    if isinstance(row_id, int) and 0 < row_id < 2 ** 63:
        query = _IN_BRANCH.get(model)
        if query is None:
            query = _IN_BRANCH[model] = Prepared(lambda: model.select().where(
                (model.id == slot("id")) & (model.branch == slot("branch"))))
        row = query.first(model, id=row_id, branch=branch_id)
    if row is None:
        raise NotFound(message or "%s not found." % what)
    return row


def head_office_only(at_cloud, what):
    """409 unless written at the cloud: ``what`` (plural) is head office's data, which
    the cloud sends to the branch's server (platforms, riders, delivery settings)."""
    if not at_cloud:
        raise Conflict("%s are head office's: change them at the cloud, which sends them "
                       "to this branch's server." % what)


def FK(model, **kwargs):
    """A foreign key with the TableTrack column name (``<name>_id``)."""
    kwargs.setdefault("on_delete", "CASCADE")
    return ForeignKeyField(model, **kwargs)


# --- Tenancy, people and access ------------------------------------------------

class Restaurant(BaseModel):
    name = CharField()
    hash = CharField(unique=True)
    currency_code = CharField(max_length=3, default="USD")
    currency_symbol = CharField(max_length=8, default="$")
    currency_decimals = IntegerField(default=2)
    timezone = CharField(default="UTC")
    # "order": taxes apply to the whole order; "item": each item carries its taxes.
    tax_mode = CharField(default="order")
    tax_inclusive = BooleanField(default=False)
    table_lock_timeout_minutes = IntegerField(default=10)
    default_reservation_status = CharField(default="Pending")
    reservation_sitting_minutes = IntegerField(default=120)
    customer_order_cutoff_minutes = IntegerField(default=5)
    # True: a line for an item with variations or a required modifier group needs the
    # choice (422); False (the module's way): it is taken at the item's own price and
    # its KOT line says what was not chosen.
    require_item_choices = BooleanField(default=False)
    # True: an order's first KOT, made while the order is still placed, waits for the
    # kitchen's confirmation (pending_confirmation) instead of going in_kitchen.
    kot_requires_confirmation = BooleanField(default=False)

    class Meta:
        table_name = "restaurants"


class Branch(BaseModel):
    restaurant = FK(Restaurant, backref="branches")
    name = CharField()
    address = TextField(default="")
    timezone = CharField(default="UTC")
    # The edge that is this branch's authority (None: the cloud serves it).
    edge_node_id = IntegerField(null=True)
    is_active = BooleanField(default=True)

    class Meta:
        table_name = "branches"


class Role(BaseModel):
    restaurant = FK(Restaurant, backref="roles")
    name = CharField()               # owner, manager, cashier, waiter, chef, delivery
    display_name = CharField()

    class Meta:
        table_name = "roles"
        indexes = ((("restaurant", "name"), True),)


class Permission(BaseModel):
    name = CharField(unique=True)    # e.g. "Create Order"
    module = CharField(default="")

    class Meta:
        table_name = "permissions"


class RolePermission(BaseModel):
    role = FK(Role, backref="role_permissions")
    permission = FK(Permission)

    class Meta:
        table_name = "role_has_permissions"
        indexes = ((("role", "permission"), True),)


class User(BaseModel):
    restaurant = FK(Restaurant, backref="users")
    branch = FK(Branch, null=True, on_delete="SET NULL")   # the user's current branch
    name = CharField()
    email = CharField(unique=True)
    password_hash = CharField()
    phone_code = CharField(default="")
    phone = CharField(default="")
    locale = CharField(default="en")
    is_active = BooleanField(default=True)

    class Meta:
        table_name = "users"


class UserRole(BaseModel):
    user = FK(User, backref="user_roles")
    role = FK(Role)

    class Meta:
        table_name = "model_has_roles"
        indexes = ((("user", "role"), True),)


class UserBranch(BaseModel):
    """The branches a user may work in (an owner: every branch)."""
    user = FK(User, backref="user_branches")
    branch = FK(Branch)

    class Meta:
        table_name = "user_branches"
        indexes = ((("user", "branch"), True),)


class RevokedToken(BaseModel):
    jti = CharField(unique=True)
    expires_at = DateTimeField()

    class Meta:
        table_name = "revoked_tokens"


# --- Catalog (owned by the cloud; per branch, as in TableTrack) ------------------

class OrderType(BaseModel):
    branch = FK(Branch, backref="order_types")
    slug = CharField()               # dine_in, delivery, pickup
    order_type_name = CharField()    # "Dine In"
    type = CharField()               # dine_in | delivery | pickup
    uses_token_number = BooleanField(default=False)
    is_active = BooleanField(default=True)
    sort_order = IntegerField(default=0)

    class Meta:
        table_name = "order_types"
        indexes = ((("branch", "slug"), True),)


class Menu(BaseModel):
    branch = FK(Branch, backref="menus")
    menu_name = CharField()
    sort_order = IntegerField(default=0)

    class Meta:
        table_name = "menus"


class ItemCategory(BaseModel):
    branch = FK(Branch, backref="item_categories")
    category_name = CharField()
    sort_order = IntegerField(default=0)

    class Meta:
        table_name = "item_categories"


class KotPlace(BaseModel):
    """A kitchen station that receives KOTs."""
    branch = FK(Branch, backref="kot_places")
    name = CharField()
    type = CharField(default="food")
    is_default = BooleanField(default=False)
    printer_id = peewee.BigIntegerField(null=True)
    is_active = BooleanField(default=True)

    class Meta:
        table_name = "kot_places"


class Tax(BaseModel):
    restaurant = FK(Restaurant, backref="taxes")
    tax_name = CharField()
    tax_percent = PercentField()

    class Meta:
        table_name = "taxes"


class MenuItem(BaseModel):
    branch = FK(Branch, backref="menu_items")
    menu = FK(Menu, backref="items")
    item_category = FK(ItemCategory, backref="items")
    kot_place = FK(KotPlace, null=True, on_delete="SET NULL")
    item_name = CharField()
    description = TextField(default="")
    type = CharField(default="veg")  # veg | non-veg | egg | drink | other | halal
    price = MoneyField()
    image = CharField(null=True)
    preparation_time = IntegerField(null=True)
    is_available = BooleanField(default=True)
    sort_order = IntegerField(default=0)

    class Meta:
        table_name = "menu_items"


class MenuItemTax(BaseModel):
    """Taxes of an item, when the restaurant taxes per item."""
    menu_item = FK(MenuItem, backref="item_taxes")
    tax = FK(Tax)

    class Meta:
        table_name = "menu_item_tax"
        indexes = ((("menu_item", "tax"), True),)


class MenuItemVariation(BaseModel):
    menu_item = FK(MenuItem, backref="variations")
    variation = CharField()
    price = MoneyField()
    sort_order = IntegerField(default=0)

    class Meta:
        table_name = "menu_item_variations"


class MenuItemPrice(BaseModel):
    """The price of an item (or one of its variations) for one order type."""
    menu_item = FK(MenuItem, backref="prices")
    variation = FK(MenuItemVariation, null=True, backref="prices")
    order_type = FK(OrderType)
    final_price = MoneyField()

    class Meta:
        table_name = "menu_item_prices"
        indexes = ((("menu_item", "variation", "order_type"), True),)


class ModifierGroup(BaseModel):
    branch = FK(Branch, backref="modifier_groups")
    name = CharField()
    description = TextField(default="")

    class Meta:
        table_name = "modifier_groups"


class ItemModifier(BaseModel):
    """Which modifier groups an item offers, and how (the module's pivot)."""
    menu_item = FK(MenuItem, backref="item_modifiers")
    modifier_group = FK(ModifierGroup, backref="item_modifiers")
    is_required = BooleanField(default=False)
    allow_multiple_selection = BooleanField(default=False)

    class Meta:
        table_name = "item_modifiers"
        indexes = ((("menu_item", "modifier_group"), True),)


class ModifierOption(BaseModel):
    modifier_group = FK(ModifierGroup, backref="options")
    name = CharField()
    price = MoneyField()
    is_available = BooleanField(default=True)
    is_preselected = BooleanField(default=False)
    sort_order = IntegerField(default=0)

    class Meta:
        table_name = "modifier_options"


class ModifierOptionPrice(BaseModel):
    modifier_option = FK(ModifierOption, backref="prices")
    order_type = FK(OrderType)
    price = MoneyField()

    class Meta:
        table_name = "modifier_option_prices"
        indexes = ((("modifier_option", "order_type"), True),)


class ExtraCharge(BaseModel):
    restaurant = FK(Restaurant, backref="extra_charges")
    charge_name = CharField()
    charge_type = CharField()        # percent | fixed
    charge_value = FixedPointField(4, default=0)
    order_types = JSONField(default=list)   # order-type slugs it applies to
    is_enabled = BooleanField(default=True)

    class Meta:
        table_name = "restaurant_charges"


class DeliveryPlatform(BaseModel):
    branch = FK(Branch, backref="delivery_platforms")
    name = CharField()
    logo = CharField(null=True)
    commission_percent = PercentField()
    is_active = BooleanField(default=True)

    class Meta:
        table_name = "delivery_platforms"


class DeliveryExecutive(BaseModel):
    branch = FK(Branch, backref="delivery_executives")
    name = CharField()
    phone_code = CharField(default="")
    phone = CharField(default="")
    status = CharField(default="available")   # available | on_delivery | inactive
    login_code_hash = CharField(null=True)    # the rider's login code, hashed (riders.py)
    login_code_hint = CharField(null=True)    # its first characters, to find the rider by

    class Meta:
        table_name = "delivery_executives"


class DeliverySetting(BaseModel):
    """A branch's delivery settings (head office's: cloud-owned, protocol/delivery.py).
    Every distance is in ``unit`` (thousandths of it); the speed is km/h, as its name says."""
    branch = FK(Branch, backref="delivery_settings", unique=True)
    is_enabled = BooleanField(default=False)
    unit = CharField(default="km")                 # km | miles
    max_radius = FixedPointField(3, null=True, default=None)
    fee_type = CharField(default="fixed")          # fixed | per_distance | tiered
    fixed_fee = MoneyField(null=True, default=None)
    per_distance_rate = MoneyField(null=True, default=None)   # per unit started
    free_delivery_over_amount = MoneyField(null=True, default=None)
    free_delivery_within_radius = FixedPointField(3, null=True, default=None)
    delivery_schedule_start = CharField(null=True)          # "HH:MM", the branch's time
    delivery_schedule_end = CharField(null=True)
    prep_time_minutes = IntegerField(default=20)
    additional_eta_buffer_time = IntegerField(null=True)
    avg_delivery_speed_kmh = IntegerField(default=30)
    branch_lat = FixedPointField(7, null=True, default=None)
    branch_lng = FixedPointField(7, null=True, default=None)

    class Meta:
        table_name = "delivery_settings"


class DeliveryFeeTier(BaseModel):
    """One distance band of a tiered fee, in the settings' unit."""
    branch = FK(Branch, backref="delivery_fee_tiers")
    min_distance = FixedPointField(3)
    max_distance = FixedPointField(3)
    fee = MoneyField()

    class Meta:
        table_name = "delivery_fee_tiers"


class KotCancelReason(BaseModel):
    restaurant = FK(Restaurant, backref="kot_cancel_reasons")
    reason = CharField()
    cancel_order = BooleanField(default=False)
    cancel_kot = BooleanField(default=True)

    class Meta:
        table_name = "kot_cancel_reasons"


class OrderNumberSetting(BaseModel):
    branch = FK(Branch, unique=True)
    enabled = BooleanField(default=True)     # off: "Order #157"
    prefix = CharField(default="ORD")
    separator = CharField(default="-")
    include_date = BooleanField(default=True)
    date_format = CharField(default="Ymd")
    digits = IntegerField(default=3)
    reset_daily = BooleanField(default=False)

    class Meta:
        table_name = "order_number_settings"


class NumberSequence(BaseModel):
    """Per-branch counters: order numbers, KOT numbers, token numbers."""
    branch = FK(Branch)
    name = CharField()               # order | kot | token
    period = CharField(default="")   # "" or the day (YYYY-MM-DD) for daily resets
    last_value = IntegerField(default=0)

    class Meta:
        table_name = "number_sequences"
        indexes = ((("branch", "name", "period"), True),)


class Language(BaseModel):
    code = CharField(unique=True)
    name = CharField()
    is_active = BooleanField(default=True)
    is_rtl = BooleanField(default=False)

    class Meta:
        table_name = "languages"


class Currency(BaseModel):
    restaurant = FK(Restaurant, backref="currencies")
    currency_code = CharField(max_length=3)
    currency_name = CharField()
    currency_symbol = CharField(max_length=8)
    decimals = IntegerField(default=2)

    class Meta:
        table_name = "currencies"


class PaymentGateway(BaseModel):
    """A payment gateway's name and mode. Credentials are never stored in a
    column that the API serialises; they live in ``secret`` and stay there."""
    restaurant = FK(Restaurant, backref="payment_gateways")
    name = CharField()               # stripe | razorpay | ...
    mode = CharField(default="test")  # test | live
    is_enabled = BooleanField(default=False)
    secret = TextField(default="")

    class Meta:
        table_name = "payment_gateway_credentials"


class Printer(BaseModel):
    branch = FK(Branch, backref="printers")
    name = CharField()
    type = CharField(default="network")
    address = CharField(default="")
    char_per_line = IntegerField(default=48)
    is_default = BooleanField(default=False)

    class Meta:
        table_name = "printers"


class ReceiptSetting(BaseModel):
    branch = FK(Branch, unique=True)
    header = TextField(default="")
    footer = TextField(default="")
    show_tax = BooleanField(default=True)
    show_table = BooleanField(default=True)
    show_customer = BooleanField(default=True)

    class Meta:
        table_name = "receipt_settings"


# --- Floor: areas, tables, locks, reservations (owned by the branch) -------------

class Area(BaseModel):
    branch = FK(Branch, backref="areas")
    area_name = CharField()

    class Meta:
        table_name = "areas"


class Table(BaseModel):
    branch = FK(Branch, backref="tables")
    area = FK(Area, backref="tables")
    table_code = CharField()
    seating_capacity = IntegerField(default=4)
    status = CharField(default="active")           # active | inactive
    available_status = CharField(default="available")  # available | reserved | running

    class Meta:
        table_name = "tables"
        indexes = ((("branch", "table_code"), True),)


class TableLock(BaseModel):
    """Who holds a table; expires after the restaurant's lock timeout."""
    table = FK(Table, unique=True, backref="locks")
    branch = FK(Branch)
    user = FK(User)
    locked_at = DateTimeField(default=utcnow)
    refreshed_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "table_locks"


# --- Customers (shared across the restaurant) -------------------------------------

class SharedModel(BaseModel):
    """A row any node may write: each field written carries a hybrid-logical-clock
    stamp in ``clocks`` ({field: stamp}), so sync merges concurrent edits field
    by field (sync/merge.py). A deleted row stays, as a tombstone: ``deleted_at``
    is set and stamped like any other field, so the delete merges and travels as
    an upsert, and the orders and reservations of every branch that refer to the
    row keep it; protocol/customers.py leaves tombstones out of every lookup."""
    clocks = JSONField(default=dict)
    deleted_at = DateTimeField(null=True)
    UNSTAMPED = ("id", "clocks", "created_at", "updated_at")

    def save(self, *args, **kwargs):
        changed = ({f.name for f in self._meta.sorted_fields} if kwargs.get("force_insert")
                   else set(self._dirty))
        clocks = dict(self.clocks or {})
        now = hlc.stamp()
        for name in changed:
            if name not in self.UNSTAMPED:
                clocks[self._meta.fields[name].column_name] = now
        self.clocks = clocks
        return super().save(*args, **kwargs)


class Customer(SharedModel):
    restaurant = FK(Restaurant, backref="customers")
    name = CharField()
    phone_code = CharField(default="")
    phone = CharField(default="", index=True)
    email = CharField(null=True, index=True)

    class Meta:
        table_name = "customers"


class CustomerAddress(SharedModel):
    customer = FK(Customer, backref="addresses")
    label = CharField(default="")
    address = TextField()
    lat = FixedPointField(7, null=True)
    lng = FixedPointField(7, null=True)

    class Meta:
        table_name = "customer_addresses"


class Reservation(BaseModel):
    branch = FK(Branch, backref="reservations")
    table = FK(Table, null=True, on_delete="SET NULL", backref="reservations")
    customer = FK(Customer, null=True, on_delete="SET NULL")
    reservation_date_time = DateTimeField(index=True)
    party_size = IntegerField()
    status = CharField(default="Pending")   # Pending Confirmed Checked_In Cancelled No_Show
    slot_type = CharField(default="Dinner")  # Breakfast Lunch Dinner
    name = CharField(default="")
    phone = CharField(default="")
    email = CharField(default="")
    special_requests = TextField(default="")
    created_by = FK(User, null=True, on_delete="SET NULL")

    class Meta:
        table_name = "reservations"


# --- Orders, kitchen and payments (owned by the branch) ----------------------------

class Order(BaseModel):
    branch = FK(Branch, backref="orders")
    uuid = CharField(null=True, unique=True)    # a client's own order id, dedupes retries
    order_number = IntegerField()
    formatted_order_number = CharField()
    token_number = IntegerField(null=True)
    status = CharField(default="draft")          # draft kot billed paid canceled payment_due ...
    order_status = CharField(default="placed")   # placed confirmed preparing ... cancelled
    placed_via = CharField(default="pos")
    order_type = FK(OrderType, null=True, on_delete="SET NULL")
    order_type_name = CharField(default="")
    table = FK(Table, null=True, on_delete="SET NULL", backref="orders")
    customer = FK(Customer, null=True, on_delete="SET NULL", backref="orders")
    waiter = FK(User, null=True, on_delete="SET NULL", backref="waited_orders")
    created_by = FK(User, null=True, on_delete="SET NULL")
    pax = IntegerField(default=1)
    date_time = DateTimeField(default=utcnow, index=True)
    delivery_address = TextField(null=True)
    customer_address = FK(CustomerAddress, null=True, on_delete="SET NULL")
    delivery_time = DateTimeField(null=True)
    delivery_executive = FK(DeliveryExecutive, null=True, on_delete="SET NULL")
    delivery_app = FK(DeliveryPlatform, null=True, on_delete="SET NULL")
    discount_type = CharField(null=True)         # percent | fixed
    discount_value = FixedPointField(4, default=0)
    discount_amount = MoneyField()
    sub_total = MoneyField()
    tax_total = MoneyField()
    charges_total = MoneyField()
    delivery_fee = MoneyField()
    tip_amount = MoneyField()
    tip_note = TextField(null=True)
    total = MoneyField()
    amount_paid = MoneyField()
    note = TextField(null=True)

    class Meta:
        table_name = "orders"
        indexes = ((("branch", "order_number", "date_time"), False),)


class OrderItem(BaseModel):
    order = FK(Order, backref="items")
    menu_item = FK(MenuItem, null=True, on_delete="SET NULL")
    variation = FK(MenuItemVariation, null=True, on_delete="SET NULL")
    name = CharField()
    quantity = IntegerField()
    price = MoneyField()             # unit price of the item (or variation) for the order type
    modifiers_total = MoneyField()   # per unit
    amount = MoneyField()            # (price + modifiers_total) * quantity
    tax_amount = MoneyField()
    tax_percentage = PercentField()
    tax_breakup = JSONField(null=True)
    note = TextField(null=True)
    kot_quantity = IntegerField(default=0)   # how much of the line the kitchen has had
    missing_choices = JSONField(null=True)   # ["no variation chosen", ...] (pricing)

    class Meta:
        table_name = "order_items"


class OrderItemModifier(BaseModel):
    order_item = FK(OrderItem, backref="modifiers")
    modifier_option = FK(ModifierOption, null=True, on_delete="SET NULL")
    name = CharField()
    price = MoneyField()

    class Meta:
        table_name = "order_item_modifier_options"


class OrderTax(BaseModel):
    order = FK(Order, backref="taxes")
    tax = FK(Tax, null=True, on_delete="SET NULL")
    name = CharField()
    percent = PercentField()
    amount = MoneyField()

    class Meta:
        table_name = "order_taxes"


class OrderCharge(BaseModel):
    order = FK(Order, backref="charges")
    charge = FK(ExtraCharge, null=True, on_delete="SET NULL")
    name = CharField()
    amount = MoneyField()

    class Meta:
        table_name = "order_charges"


class Kot(BaseModel):
    branch = FK(Branch, backref="kots")
    order = FK(Order, backref="kots")
    kot_number = IntegerField()
    token_number = IntegerField(null=True)
    kitchen_place = FK(KotPlace, null=True, on_delete="SET NULL")
    status = CharField(default="in_kitchen")  # pending_confirmation in_kitchen food_ready served cancelled
    note = TextField(null=True)
    cancel_reason = FK(KotCancelReason, null=True, on_delete="SET NULL")
    cancel_reason_text = TextField(null=True)

    class Meta:
        table_name = "kots"


class KotItem(BaseModel):
    kot = FK(Kot, backref="items")
    order_item = FK(OrderItem, null=True, on_delete="SET NULL", backref="kot_items")
    menu_item = FK(MenuItem, null=True, on_delete="SET NULL")
    quantity = IntegerField()
    status = CharField(default="pending")    # pending cooking ready cancelled
    note = TextField(null=True)
    # A cancelled item: why, by whom and when (the kitchen, or removed from the order).
    cancel_reason_text = TextField(null=True)
    cancelled_by = FK(User, null=True, on_delete="SET NULL")
    cancelled_at = DateTimeField(null=True)

    class Meta:
        table_name = "kot_items"


class SplitOrder(BaseModel):
    order = FK(Order, backref="splits")
    amount = MoneyField()
    payment_method = CharField()
    status = CharField(default="pending")    # pending | paid
    items = JSONField(null=True)             # [{order_item_id, quantity}]

    class Meta:
        table_name = "split_orders"


class Payment(BaseModel):
    branch = FK(Branch, backref="payments")
    order = FK(Order, backref="payments")
    split_order = FK(SplitOrder, null=True, on_delete="SET NULL")
    payment_method = CharField()
    amount = MoneyField()            # what was applied to the order
    tendered = MoneyField()          # what the customer handed over
    change_given = MoneyField()      # cash returned
    created_by = FK(User, null=True, on_delete="SET NULL")

    class Meta:
        table_name = "payments"


class RiderState(BaseModel):
    """A rider's live state at their branch (the branch's, like orders: written by
    dispatch and the rider app where the branch runs, even offline; protocol/dispatch.py):
    available / on_delivery / inactive, the order they carry, their latest position.
    ``delivery_executives`` (head office's) holds the account; this row, when there is
    one, holds the status the branch lists."""
    branch = FK(Branch, backref="rider_states")
    delivery_executive = FK(DeliveryExecutive, unique=True)
    status = CharField(default="available")   # available | on_delivery | inactive
    order = FK(Order, null=True, on_delete="SET NULL")
    lat = FixedPointField(7, null=True, default=None)
    lng = FixedPointField(7, null=True, default=None)
    located_at = DateTimeField(null=True)

    class Meta:
        table_name = "rider_states"


# --- The cash drawer (branch-owned, like orders) ---------------------------------------

class CashRegister(BaseModel):
    """A till's drawer. Never deleted: deactivated (``is_active``)."""
    restaurant = FK(Restaurant)
    branch = FK(Branch, backref="cash_registers")
    name = CharField(max_length=255)
    is_active = BooleanField(default=True)

    class Meta:
        table_name = "cash_registers"


class Denomination(BaseModel):
    """A coin or note the branch counts its drawers in."""
    uuid = CharField(unique=True)
    restaurant = FK(Restaurant)
    branch = FK(Branch, backref="denominations")
    name = CharField(max_length=255)
    value = MoneyField()
    type = CharField(default="note")          # coin | note | bill
    description = TextField(null=True)
    is_active = BooleanField(default=True)

    class Meta:
        table_name = "denominations"


class CashRegisterSession(BaseModel):
    """One user's shift on one drawer, from its opening float to its count. At most
    one open session per register and per user in a branch (partial unique indexes,
    below; protocol/cash_register.py checks first, in the same transaction)."""
    cash_register = FK(CashRegister, backref="sessions")
    restaurant = FK(Restaurant)
    branch = FK(Branch)
    opened_by = FK(User, backref="cash_sessions")
    opened_at = DateTimeField()
    opening_float = MoneyField()
    closed_by = FK(User, null=True, on_delete="SET NULL")
    closed_at = DateTimeField(null=True)
    expected_cash = MoneyField(null=True, default=None)
    counted_cash = MoneyField(null=True, default=None)
    discrepancy = MoneyField(null=True, default=None)
    status = CharField(default="open")        # open | closed
    closing_note = TextField(null=True)

    class Meta:
        table_name = "cash_register_sessions"


CashRegisterSession.add_index(CashRegisterSession.index(
    CashRegisterSession.cash_register, unique=True,
    where=CashRegisterSession.status == "open", name="cash_sessions_one_open_per_register"))
CashRegisterSession.add_index(CashRegisterSession.index(
    CashRegisterSession.branch, CashRegisterSession.opened_by, unique=True,
    where=CashRegisterSession.status == "open", name="cash_sessions_one_open_per_user"))


class CashRegisterTransaction(BaseModel):
    """Money into or out of a drawer during a session: opening_float, cash_sale,
    refund, cash_in, cash_out, safe_drop."""
    session = FK(CashRegisterSession, column_name="cash_register_session_id",
                 backref="transactions")
    restaurant = FK(Restaurant)
    branch = FK(Branch)
    happened_at = DateTimeField()
    type = CharField()
    amount = MoneyField()
    running_amount = MoneyField()
    reason = TextField(null=True)
    reference = CharField(null=True)
    order = FK(Order, null=True, on_delete="SET NULL")
    payment = FK(Payment, null=True, on_delete="SET NULL")
    created_by = FK(User, null=True, on_delete="SET NULL")

    class Meta:
        table_name = "cash_register_transactions"


class CashRegisterCount(BaseModel):
    """How many of one denomination were counted at a session's close."""
    session = FK(CashRegisterSession, column_name="cash_register_session_id",
                 backref="counts")
    denomination = FK(Denomination, column_name="cash_denomination_id")
    count = IntegerField()
    subtotal = MoneyField()

    class Meta:
        table_name = "cash_register_counts"


# --- Notifications and devices ------------------------------------------------------

class Notification(BaseModel):
    user = FK(User, backref="notifications")
    branch = FK(Branch, null=True, on_delete="SET NULL")
    type = CharField()
    title = CharField()
    body = TextField(default="")
    data = JSONField(default=dict)
    read_at = DateTimeField(null=True)

    class Meta:
        table_name = "notifications"


class DeviceToken(BaseModel):
    """A device push goes to: a user's, or a rider's (``delivery_executive``)."""
    user = FK(User, null=True, backref="device_tokens")
    delivery_executive = FK(DeliveryExecutive, null=True)
    restaurant = FK(Restaurant)
    branch = FK(Branch, null=True, on_delete="SET NULL")
    platform = CharField(max_length=20, null=True)
    device_id = CharField(max_length=191, null=True)
    token = TextField()

    class Meta:
        table_name = "ai_device_tokens"


class PushKey(BaseModel):
    """The cloud's VAPID public key, fed to every edge so an app registering there can
    subscribe (the private key stays in the cloud's data dir: cloud/webpush.py)."""
    vapid_public_key = TextField()

    class Meta:
        table_name = "push_keys"


class PushLog(BaseModel):
    """One line of a notification's push delivery log, written at the cloud (which pushes)
    and fed to the branch's edge: sent, retry, failed, expired, token_removed, skipped."""
    notification_id = peewee.BigIntegerField(index=True)
    branch = FK(Branch, null=True, on_delete="SET NULL")
    user_id = peewee.BigIntegerField()
    device_token_id = peewee.BigIntegerField(null=True)
    platform = CharField(max_length=20, null=True)
    outcome = CharField(max_length=20)
    status_code = IntegerField(null=True)
    detail = TextField(default="")

    class Meta:
        table_name = "push_log"


class PushNotice(peewee.Model):
    """A notification the cloud has yet to plan pushes for: a trigger on notifications
    adds it in the transaction that stores the notification (cloud/push_queue.py)."""
    notification_id = peewee.BigIntegerField(primary_key=True)
    created_at = DateTimeField()

    class Meta:
        database = database
        table_name = "push_notices"


class PushDelivery(BaseModel):
    """One notification to one device: the cloud's persistent send queue and its record
    that the pair was pushed (never twice). status: pending, sent, failed, expired,
    removed (the token was unregistered), skipped (the device was connected)."""
    notification_id = peewee.BigIntegerField()
    device_token_id = peewee.BigIntegerField()
    user_id = peewee.BigIntegerField()
    branch_id = peewee.BigIntegerField(null=True)
    platform = CharField(max_length=20)
    token = TextField()
    status = CharField(max_length=20, default="pending")
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(null=True)
    expires_at = DateTimeField()

    class Meta:
        table_name = "push_deliveries"
        indexes = ((("notification_id", "device_token_id"), True),
                   (("status", "next_attempt_at"), False))


class PosMachine(BaseModel):
    """A till device registered with a branch (MultiPOS). Its token is shown once, when
    issued; only its SHA-256 is kept."""
    branch = FK(Branch, backref="pos_machines")
    device_id = CharField(max_length=255)
    alias = CharField(max_length=255)
    platform = CharField(max_length=50, null=True)
    public_id = CharField(unique=True)
    token_hash = CharField()
    status = CharField(default="active")      # active | pending | declined
    created_by = FK(User, null=True, on_delete="SET NULL")
    approved_by = FK(User, null=True, on_delete="SET NULL")
    approved_at = DateTimeField(null=True)
    last_seen_at = DateTimeField(null=True)

    class Meta:
        table_name = "pos_machines"
        indexes = ((("branch", "device_id"), True),)


# --- Idempotency ------------------------------------------------------------------------

class IdempotencyRecord(BaseModel):
    """The first answer to a request carrying an Idempotency-Key."""
    user = FK(User)
    key = CharField()
    method = CharField()
    path = CharField()
    request_hash = CharField()
    status_code = IntegerField()
    response_body = TextField()

    class Meta:
        table_name = "idempotency_keys"
        indexes = ((("user", "key"), True),)


class EdgeLocation(peewee.Model):
    """Where an edge last said it is on its branch's LAN (protocol/locations.py): written by
    the edge itself, and at the cloud from what edges report through sync. Stays on
    its node (not replicated)."""
    node_id = IntegerField(primary_key=True)
    branch_id = BigIntegerField(index=True)
    name = CharField(default="")              # the DNS-SD instance name
    host = CharField(default="")              # <host>.local
    addresses = JSONField(default=list)
    port = IntegerField()
    tls = BooleanField(default=False)
    fingerprint = CharField(null=True)        # SHA-256 of its certificate
    spki = CharField(null=True)               # SHA-256 of its key, base64
    api_path = CharField(default="")
    ws_path = CharField(default="")
    version = CharField(default="")
    reported_at = DateTimeField()

    class Meta:
        database = database
        legacy_table_names = False
        table_name = "edge_locations"


# --- Limits shared by the cloud's processes -------------------------------------------

class RateHit(peewee.Model):
    """An attempt counted by a limit the cloud's processes share (protocol/ratelimit.py
    SharedRateLimiter: login attempts, on PostgreSQL)."""
    id = peewee.BigAutoField()
    key = CharField()
    at = DateTimeField(index=True)

    class Meta:
        database = database
        table_name = "rate_hits"
        indexes = ((("key", "at"), False),)


class ReservedId(peewee.Model):
    """Ids of this node are taken up to this one, though no other table may hold
    them: the allocator resumes after it (protocol/store.py ``highest_id``). A box
    restored from a backup reserves the ids the lost box may have used after the
    backup (sync/restored.py). Never synced."""
    id = peewee.BigIntegerField(primary_key=True)
    reason = CharField(default="")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        database = database
        table_name = "reserved_ids"


ALL_MODELS = [
    Restaurant, Branch, Role, Permission, RolePermission, User, UserRole, UserBranch,
    RevokedToken, OrderType, Menu, ItemCategory, KotPlace, Tax, MenuItem, MenuItemTax,
    MenuItemVariation, MenuItemPrice, ModifierGroup, ItemModifier, ModifierOption,
    ModifierOptionPrice, ExtraCharge, DeliveryPlatform, DeliveryExecutive, DeliverySetting,
    DeliveryFeeTier, KotCancelReason, OrderNumberSetting, NumberSequence, Language, Currency,
    PaymentGateway, Printer, ReceiptSetting, Area, Table, TableLock, Customer,
    CustomerAddress, Reservation, Order, OrderItem, OrderItemModifier, OrderTax,
    OrderCharge, Kot, KotItem, SplitOrder, Payment, RiderState, CashRegister, Denomination,
    CashRegisterSession, CashRegisterTransaction, CashRegisterCount, Notification, DeviceToken,
    PushKey, PushLog, PushNotice, PushDelivery, PosMachine, IdempotencyRecord, EdgeLocation,
    RateHit, ReservedId,
]
