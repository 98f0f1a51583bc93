"""The first schema: every table of protocol.models at version 1.

Frozen copies of the models; money and id columns are plain BIGINT here
(protocol.money and protocol.ids give them their meaning)."""
from peewee import *


def up(migrator, db):
    class Restaurant(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        name = CharField()
        hash = CharField(unique=True)
        currency_code = CharField(max_length=3, default='USD')
        currency_symbol = CharField(max_length=8, default='$')
        currency_decimals = IntegerField(default=2)
        timezone = CharField(default='UTC')
        tax_mode = CharField(default='order')
        tax_inclusive = BooleanField(default=False)
        table_lock_timeout_minutes = IntegerField(default=10)
        default_reservation_status = CharField(default='Pending')
        reservation_sitting_minutes = IntegerField(default=120)
        customer_order_cutoff_minutes = IntegerField(default=5)
        class Meta:
            database = db
            table_name = 'restaurants'
    db.create_tables([Restaurant])

    class Branch(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        restaurant = ForeignKeyField(Restaurant, on_delete='CASCADE')
        name = CharField()
        address = TextField(default='')
        timezone = CharField(default='UTC')
        edge_node_id = IntegerField(null=True)
        is_active = BooleanField(default=True)
        class Meta:
            database = db
            table_name = 'branches'
    db.create_tables([Branch])

    class Area(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        branch = ForeignKeyField(Branch, on_delete='CASCADE')
        area_name = CharField()
        class Meta:
            database = db
            table_name = 'areas'
    db.create_tables([Area])

    class Currency(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        restaurant = ForeignKeyField(Restaurant, on_delete='CASCADE')
        currency_code = CharField(max_length=3)
        currency_name = CharField()
        currency_symbol = CharField(max_length=8)
        decimals = IntegerField(default=2)
        class Meta:
            database = db
            table_name = 'currencies'
    db.create_tables([Currency])

    class Customer(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        restaurant = ForeignKeyField(Restaurant, on_delete='CASCADE')
        name = CharField()
        phone_code = CharField(default='')
        phone = CharField(index=True, default='')
        email = CharField(index=True, null=True)
        class Meta:
            database = db
            table_name = 'customers'
    db.create_tables([Customer])

    class CustomerAddress(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        customer = ForeignKeyField(Customer, on_delete='CASCADE')
        label = CharField(default='')
        address = TextField()
        lat = BigIntegerField(null=True)
        lng = BigIntegerField(null=True)
        class Meta:
            database = db
            table_name = 'customer_addresses'
    db.create_tables([CustomerAddress])

    class DeliveryExecutive(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        branch = ForeignKeyField(Branch, on_delete='CASCADE')
        name = CharField()
        phone_code = CharField(default='')
        phone = CharField(default='')
        status = CharField(default='available')
        class Meta:
            database = db
            table_name = 'delivery_executives'
    db.create_tables([DeliveryExecutive])

    class DeliveryPlatform(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        branch = ForeignKeyField(Branch, on_delete='CASCADE')
        name = CharField()
        logo = CharField(null=True)
        commission_percent = BigIntegerField(default=0)
        is_active = BooleanField(default=True)
        class Meta:
            database = db
            table_name = 'delivery_platforms'
    db.create_tables([DeliveryPlatform])

    class User(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        restaurant = ForeignKeyField(Restaurant, on_delete='CASCADE')
        branch = ForeignKeyField(Branch, null=True, on_delete='SET NULL')
        name = CharField()
        email = CharField(unique=True)
        password_hash = CharField()
        phone_code = CharField(default='')
        phone = CharField(default='')
        locale = CharField(default='en')
        is_active = BooleanField(default=True)
        class Meta:
            database = db
            table_name = 'users'
    db.create_tables([User])

    class DeviceToken(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        user = ForeignKeyField(User, on_delete='CASCADE')
        restaurant = ForeignKeyField(Restaurant, on_delete='CASCADE')
        branch = ForeignKeyField(Branch, null=True, on_delete='SET NULL')
        platform = CharField(null=True, max_length=20)
        device_id = CharField(null=True, max_length=191)
        token = TextField()
        class Meta:
            database = db
            table_name = 'ai_device_tokens'
    db.create_tables([DeviceToken])

    class ExtraCharge(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        restaurant = ForeignKeyField(Restaurant, on_delete='CASCADE')
        charge_name = CharField()
        charge_type = CharField()
        charge_value = BigIntegerField(default=0)
        order_types = TextField()
        is_enabled = BooleanField(default=True)
        class Meta:
            database = db
            table_name = 'restaurant_charges'
    db.create_tables([ExtraCharge])

    class IdempotencyRecord(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        user = ForeignKeyField(User, on_delete='CASCADE')
        key = CharField()
        method = CharField()
        path = CharField()
        request_hash = CharField()
        status_code = IntegerField()
        response_body = TextField()
        class Meta:
            database = db
            table_name = 'idempotency_keys'
            indexes = ((('user', 'key'), True),)
    db.create_tables([IdempotencyRecord])

    class ItemCategory(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        branch = ForeignKeyField(Branch, on_delete='CASCADE')
        category_name = CharField()
        sort_order = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'item_categories'
    db.create_tables([ItemCategory])

    class Menu(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        branch = ForeignKeyField(Branch, on_delete='CASCADE')
        menu_name = CharField()
        sort_order = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'menus'
    db.create_tables([Menu])

    class KotPlace(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        branch = ForeignKeyField(Branch, on_delete='CASCADE')
        name = CharField()
        type = CharField(default='food')
        is_default = BooleanField(default=False)
        printer_id = BigIntegerField(null=True)
        is_active = BooleanField(default=True)
        class Meta:
            database = db
            table_name = 'kot_places'
    db.create_tables([KotPlace])

    class MenuItem(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        branch = ForeignKeyField(Branch, on_delete='CASCADE')
        menu = ForeignKeyField(Menu, on_delete='CASCADE')
        item_category = ForeignKeyField(ItemCategory, on_delete='CASCADE')
        kot_place = ForeignKeyField(KotPlace, null=True, on_delete='SET NULL')
        item_name = CharField()
        description = TextField(default='')
        type = CharField(default='veg')
        price = BigIntegerField(default=0)
        image = CharField(null=True)
        preparation_time = IntegerField(null=True)
        is_available = BooleanField(default=True)
        sort_order = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'menu_items'
    db.create_tables([MenuItem])

    class ModifierGroup(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        branch = ForeignKeyField(Branch, on_delete='CASCADE')
        name = CharField()
        description = TextField(default='')
        class Meta:
            database = db
            table_name = 'modifier_groups'
    db.create_tables([ModifierGroup])

    class ItemModifier(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        menu_item = ForeignKeyField(MenuItem, on_delete='CASCADE')
        modifier_group = ForeignKeyField(ModifierGroup, on_delete='CASCADE')
        is_required = BooleanField(default=False)
        allow_multiple_selection = BooleanField(default=False)
        class Meta:
            database = db
            table_name = 'item_modifiers'
            indexes = ((('menu_item', 'modifier_group'), True),)
    db.create_tables([ItemModifier])

    class OrderType(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        branch = ForeignKeyField(Branch, on_delete='CASCADE')
        slug = CharField()
        order_type_name = CharField()
        type = CharField()
        uses_token_number = BooleanField(default=False)
        is_active = BooleanField(default=True)
        sort_order = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'order_types'
            indexes = ((('branch', 'slug'), True),)
    db.create_tables([OrderType])

    class Table(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        branch = ForeignKeyField(Branch, on_delete='CASCADE')
        area = ForeignKeyField(Area, on_delete='CASCADE')
        table_code = CharField()
        seating_capacity = IntegerField(default=4)
        status = CharField(default='active')
        available_status = CharField(default='available')
        class Meta:
            database = db
            table_name = 'tables'
            indexes = ((('branch', 'table_code'), True),)
    db.create_tables([Table])

    class Order(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        branch = ForeignKeyField(Branch, on_delete='CASCADE')
        uuid = CharField(unique=True, null=True)
        order_number = IntegerField()
        formatted_order_number = CharField()
        token_number = IntegerField(null=True)
        status = CharField(default='draft')
        order_status = CharField(default='placed')
        placed_via = CharField(default='pos')
        order_type = ForeignKeyField(OrderType, null=True, on_delete='SET NULL')
        order_type_name = CharField(default='')
        table = ForeignKeyField(Table, null=True, on_delete='SET NULL')
        customer = ForeignKeyField(Customer, null=True, on_delete='SET NULL')
        waiter = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        pax = IntegerField(default=1)
        date_time = DateTimeField(index=True)
        delivery_address = TextField(null=True)
        customer_address = ForeignKeyField(CustomerAddress, null=True, on_delete='SET NULL')
        delivery_time = DateTimeField(null=True)
        delivery_executive = ForeignKeyField(DeliveryExecutive, null=True, on_delete='SET NULL')
        delivery_app = ForeignKeyField(DeliveryPlatform, null=True, on_delete='SET NULL')
        discount_type = CharField(null=True)
        discount_value = BigIntegerField(default=0)
        discount_amount = BigIntegerField(default=0)
        sub_total = BigIntegerField(default=0)
        tax_total = BigIntegerField(default=0)
        charges_total = BigIntegerField(default=0)
        delivery_fee = BigIntegerField(default=0)
        tip_amount = BigIntegerField(default=0)
        tip_note = TextField(null=True)
        total = BigIntegerField(default=0)
        amount_paid = BigIntegerField(default=0)
        note = TextField(null=True)
        class Meta:
            database = db
            table_name = 'orders'
            indexes = ((('branch', 'order_number', 'date_time'), False),)
    db.create_tables([Order])

    class KotCancelReason(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        restaurant = ForeignKeyField(Restaurant, on_delete='CASCADE')
        reason = CharField()
        cancel_order = BooleanField(default=False)
        cancel_kot = BooleanField(default=True)
        class Meta:
            database = db
            table_name = 'kot_cancel_reasons'
    db.create_tables([KotCancelReason])

    class Kot(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        branch = ForeignKeyField(Branch, on_delete='CASCADE')
        order = ForeignKeyField(Order, on_delete='CASCADE')
        kot_number = IntegerField()
        token_number = IntegerField(null=True)
        kitchen_place = ForeignKeyField(KotPlace, null=True, on_delete='SET NULL')
        status = CharField(default='in_kitchen')
        note = TextField(null=True)
        cancel_reason = ForeignKeyField(KotCancelReason, null=True, on_delete='SET NULL')
        cancel_reason_text = TextField(null=True)
        class Meta:
            database = db
            table_name = 'kots'
    db.create_tables([Kot])

    class MenuItemVariation(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        menu_item = ForeignKeyField(MenuItem, on_delete='CASCADE')
        variation = CharField()
        price = BigIntegerField(default=0)
        sort_order = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'menu_item_variations'
    db.create_tables([MenuItemVariation])

    class OrderItem(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        order = ForeignKeyField(Order, on_delete='CASCADE')
        menu_item = ForeignKeyField(MenuItem, null=True, on_delete='SET NULL')
        variation = ForeignKeyField(MenuItemVariation, null=True, on_delete='SET NULL')
        name = CharField()
        quantity = IntegerField()
        price = BigIntegerField(default=0)
        modifiers_total = BigIntegerField(default=0)
        amount = BigIntegerField(default=0)
        tax_amount = BigIntegerField(default=0)
        tax_percentage = BigIntegerField(default=0)
        tax_breakup = TextField(null=True)
        note = TextField(null=True)
        kot_quantity = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'order_items'
    db.create_tables([OrderItem])

    class KotItem(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        kot = ForeignKeyField(Kot, on_delete='CASCADE')
        order_item = ForeignKeyField(OrderItem, null=True, on_delete='SET NULL')
        menu_item = ForeignKeyField(MenuItem, null=True, on_delete='SET NULL')
        quantity = IntegerField()
        status = CharField(default='pending')
        note = TextField(null=True)
        class Meta:
            database = db
            table_name = 'kot_items'
    db.create_tables([KotItem])

    class Language(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        code = CharField(unique=True)
        name = CharField()
        is_active = BooleanField(default=True)
        is_rtl = BooleanField(default=False)
        class Meta:
            database = db
            table_name = 'languages'
    db.create_tables([Language])

    class MenuItemPrice(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        menu_item = ForeignKeyField(MenuItem, on_delete='CASCADE')
        variation = ForeignKeyField(MenuItemVariation, null=True, on_delete='CASCADE')
        order_type = ForeignKeyField(OrderType, on_delete='CASCADE')
        final_price = BigIntegerField(default=0)
        class Meta:
            database = db
            table_name = 'menu_item_prices'
            indexes = ((('menu_item', 'variation', 'order_type'), True),)
    db.create_tables([MenuItemPrice])

    class Tax(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        restaurant = ForeignKeyField(Restaurant, on_delete='CASCADE')
        tax_name = CharField()
        tax_percent = BigIntegerField(default=0)
        class Meta:
            database = db
            table_name = 'taxes'
    db.create_tables([Tax])

    class MenuItemTax(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        menu_item = ForeignKeyField(MenuItem, on_delete='CASCADE')
        tax = ForeignKeyField(Tax, on_delete='CASCADE')
        class Meta:
            database = db
            table_name = 'menu_item_tax'
            indexes = ((('menu_item', 'tax'), True),)
    db.create_tables([MenuItemTax])

    class ModifierOption(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        modifier_group = ForeignKeyField(ModifierGroup, on_delete='CASCADE')
        name = CharField()
        price = BigIntegerField(default=0)
        is_available = BooleanField(default=True)
        is_preselected = BooleanField(default=False)
        sort_order = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'modifier_options'
    db.create_tables([ModifierOption])

    class ModifierOptionPrice(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        modifier_option = ForeignKeyField(ModifierOption, on_delete='CASCADE')
        order_type = ForeignKeyField(OrderType, on_delete='CASCADE')
        price = BigIntegerField(default=0)
        class Meta:
            database = db
            table_name = 'modifier_option_prices'
            indexes = ((('modifier_option', 'order_type'), True),)
    db.create_tables([ModifierOptionPrice])

    class Notification(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        user = ForeignKeyField(User, on_delete='CASCADE')
        branch = ForeignKeyField(Branch, null=True, on_delete='SET NULL')
        type = CharField()
        title = CharField()
        body = TextField(default='')
        data = TextField()
        read_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'notifications'
    db.create_tables([Notification])

    class NumberSequence(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        branch = ForeignKeyField(Branch, on_delete='CASCADE')
        name = CharField()
        period = CharField(default='')
        last_value = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'number_sequences'
            indexes = ((('branch', 'name', 'period'), True),)
    db.create_tables([NumberSequence])

    class OrderCharge(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        order = ForeignKeyField(Order, on_delete='CASCADE')
        charge = ForeignKeyField(ExtraCharge, null=True, on_delete='SET NULL')
        name = CharField()
        amount = BigIntegerField(default=0)
        class Meta:
            database = db
            table_name = 'order_charges'
    db.create_tables([OrderCharge])

    class OrderItemModifier(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        order_item = ForeignKeyField(OrderItem, on_delete='CASCADE')
        modifier_option = ForeignKeyField(ModifierOption, null=True, on_delete='SET NULL')
        name = CharField()
        price = BigIntegerField(default=0)
        class Meta:
            database = db
            table_name = 'order_item_modifier_options'
    db.create_tables([OrderItemModifier])

    class OrderNumberSetting(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        branch = ForeignKeyField(Branch, unique=True, on_delete='CASCADE')
        enabled = BooleanField(default=True)
        prefix = CharField(default='ORD')
        separator = CharField(default='-')
        include_date = BooleanField(default=True)
        date_format = CharField(default='Ymd')
        digits = IntegerField(default=3)
        reset_daily = BooleanField(default=False)
        class Meta:
            database = db
            table_name = 'order_number_settings'
    db.create_tables([OrderNumberSetting])

    class OrderTax(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        order = ForeignKeyField(Order, on_delete='CASCADE')
        tax = ForeignKeyField(Tax, null=True, on_delete='SET NULL')
        name = CharField()
        percent = BigIntegerField(default=0)
        amount = BigIntegerField(default=0)
        class Meta:
            database = db
            table_name = 'order_taxes'
    db.create_tables([OrderTax])

    class SplitOrder(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        order = ForeignKeyField(Order, on_delete='CASCADE')
        amount = BigIntegerField(default=0)
        payment_method = CharField()
        status = CharField(default='pending')
        items = TextField(null=True)
        class Meta:
            database = db
            table_name = 'split_orders'
    db.create_tables([SplitOrder])

    class Payment(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        branch = ForeignKeyField(Branch, on_delete='CASCADE')
        order = ForeignKeyField(Order, on_delete='CASCADE')
        split_order = ForeignKeyField(SplitOrder, null=True, on_delete='SET NULL')
        payment_method = CharField()
        amount = BigIntegerField(default=0)
        tendered = BigIntegerField(default=0)
        change_given = BigIntegerField(default=0)
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        class Meta:
            database = db
            table_name = 'payments'
    db.create_tables([Payment])

    class PaymentGateway(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        restaurant = ForeignKeyField(Restaurant, on_delete='CASCADE')
        name = CharField()
        mode = CharField(default='test')
        is_enabled = BooleanField(default=False)
        secret = TextField(default='')
        class Meta:
            database = db
            table_name = 'payment_gateway_credentials'
    db.create_tables([PaymentGateway])

    class Permission(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        name = CharField(unique=True)
        module = CharField(default='')
        class Meta:
            database = db
            table_name = 'permissions'
    db.create_tables([Permission])

    class Printer(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        branch = ForeignKeyField(Branch, on_delete='CASCADE')
        name = CharField()
        type = CharField(default='network')
        address = CharField(default='')
        char_per_line = IntegerField(default=48)
        is_default = BooleanField(default=False)
        class Meta:
            database = db
            table_name = 'printers'
    db.create_tables([Printer])

    class ReceiptSetting(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        branch = ForeignKeyField(Branch, unique=True, on_delete='CASCADE')
        header = TextField(default='')
        footer = TextField(default='')
        show_tax = BooleanField(default=True)
        show_table = BooleanField(default=True)
        show_customer = BooleanField(default=True)
        class Meta:
            database = db
            table_name = 'receipt_settings'
    db.create_tables([ReceiptSetting])

    class Reservation(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        branch = ForeignKeyField(Branch, on_delete='CASCADE')
        table = ForeignKeyField(Table, null=True, on_delete='SET NULL')
        customer = ForeignKeyField(Customer, null=True, on_delete='SET NULL')
        reservation_date_time = DateTimeField(index=True)
        party_size = IntegerField()
        status = CharField(default='Pending')
        slot_type = CharField(default='Dinner')
        name = CharField(default='')
        phone = CharField(default='')
        email = CharField(default='')
        special_requests = TextField(default='')
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        class Meta:
            database = db
            table_name = 'reservations'
    db.create_tables([Reservation])

    class RevokedToken(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        jti = CharField(unique=True)
        expires_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'revoked_tokens'
    db.create_tables([RevokedToken])

    class Role(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        restaurant = ForeignKeyField(Restaurant, on_delete='CASCADE')
        name = CharField()
        display_name = CharField()
        class Meta:
            database = db
            table_name = 'roles'
            indexes = ((('restaurant', 'name'), True),)
    db.create_tables([Role])

    class RolePermission(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        role = ForeignKeyField(Role, on_delete='CASCADE')
        permission = ForeignKeyField(Permission, on_delete='CASCADE')
        class Meta:
            database = db
            table_name = 'role_has_permissions'
            indexes = ((('role', 'permission'), True),)
    db.create_tables([RolePermission])

    class TableLock(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        table = ForeignKeyField(Table, unique=True, on_delete='CASCADE')
        branch = ForeignKeyField(Branch, on_delete='CASCADE')
        user = ForeignKeyField(User, on_delete='CASCADE')
        locked_at = DateTimeField()
        refreshed_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'table_locks'
    db.create_tables([TableLock])

    class UserBranch(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        user = ForeignKeyField(User, on_delete='CASCADE')
        branch = ForeignKeyField(Branch, on_delete='CASCADE')
        class Meta:
            database = db
            table_name = 'user_branches'
            indexes = ((('user', 'branch'), True),)
    db.create_tables([UserBranch])

    class UserRole(Model):
        id = BigIntegerField(primary_key=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        user = ForeignKeyField(User, on_delete='CASCADE')
        role = ForeignKeyField(Role, on_delete='CASCADE')
        class Meta:
            database = db
            table_name = 'model_has_roles'
            indexes = ((('user', 'role'), True),)
    db.create_tables([UserRole])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('model_has_roles'))
    migrator.migrate(migrator.drop_table('user_branches'))
    migrator.migrate(migrator.drop_table('table_locks'))
    migrator.migrate(migrator.drop_table('role_has_permissions'))
    migrator.migrate(migrator.drop_table('roles'))
    migrator.migrate(migrator.drop_table('revoked_tokens'))
    migrator.migrate(migrator.drop_table('reservations'))
    migrator.migrate(migrator.drop_table('receipt_settings'))
    migrator.migrate(migrator.drop_table('printers'))
    migrator.migrate(migrator.drop_table('permissions'))
    migrator.migrate(migrator.drop_table('payment_gateway_credentials'))
    migrator.migrate(migrator.drop_table('payments'))
    migrator.migrate(migrator.drop_table('split_orders'))
    migrator.migrate(migrator.drop_table('order_taxes'))
    migrator.migrate(migrator.drop_table('order_number_settings'))
    migrator.migrate(migrator.drop_table('order_item_modifier_options'))
    migrator.migrate(migrator.drop_table('order_charges'))
    migrator.migrate(migrator.drop_table('number_sequences'))
    migrator.migrate(migrator.drop_table('notifications'))
    migrator.migrate(migrator.drop_table('modifier_option_prices'))
    migrator.migrate(migrator.drop_table('modifier_options'))
    migrator.migrate(migrator.drop_table('menu_item_tax'))
    migrator.migrate(migrator.drop_table('taxes'))
    migrator.migrate(migrator.drop_table('menu_item_prices'))
    migrator.migrate(migrator.drop_table('languages'))
    migrator.migrate(migrator.drop_table('kot_items'))
    migrator.migrate(migrator.drop_table('order_items'))
    migrator.migrate(migrator.drop_table('menu_item_variations'))
    migrator.migrate(migrator.drop_table('kots'))
    migrator.migrate(migrator.drop_table('kot_cancel_reasons'))
    migrator.migrate(migrator.drop_table('orders'))
    migrator.migrate(migrator.drop_table('tables'))
    migrator.migrate(migrator.drop_table('order_types'))
    migrator.migrate(migrator.drop_table('item_modifiers'))
    migrator.migrate(migrator.drop_table('modifier_groups'))
    migrator.migrate(migrator.drop_table('menu_items'))
    migrator.migrate(migrator.drop_table('kot_places'))
    migrator.migrate(migrator.drop_table('menus'))
    migrator.migrate(migrator.drop_table('item_categories'))
    migrator.migrate(migrator.drop_table('idempotency_keys'))
    migrator.migrate(migrator.drop_table('restaurant_charges'))
    migrator.migrate(migrator.drop_table('ai_device_tokens'))
    migrator.migrate(migrator.drop_table('users'))
    migrator.migrate(migrator.drop_table('delivery_platforms'))
    migrator.migrate(migrator.drop_table('delivery_executives'))
    migrator.migrate(migrator.drop_table('customer_addresses'))
    migrator.migrate(migrator.drop_table('customers'))
    migrator.migrate(migrator.drop_table('currencies'))
    migrator.migrate(migrator.drop_table('areas'))
    migrator.migrate(migrator.drop_table('branches'))
    migrator.migrate(migrator.drop_table('restaurants'))
