"""Demo data: one restaurant, "Branchline Bistro", with two branches.

``seed()`` runs in a Store thread (``store.call(demo_data.seed)``) and fills an
empty, migrated database in one transaction: the catalog head office would
publish (copied to both branches, as catalog rows carry their branch), the
floor of each branch, roles and permissions, staff logins and a few customers.
Everything is described by the tables below; the functions only walk them.

Money is written as strings and stored as Decimal; no float touches it.
"""

import functools
import secrets
from decimal import Decimal

from protocol import models, rider_accounts
from protocol import riders as riders_module
from protocol.money import to_money
from protocol.passwords import hash_password

DEMO_PASSWORD = "demo12345"

RESTAURANT = dict(
    name="Branchline Bistro", currency_code="USD", currency_symbol="$", currency_decimals=2,
    timezone="America/New_York", tax_mode="order", tax_inclusive=False,
    table_lock_timeout_minutes=10,
)

# name, address, timezone, printers' LAN prefix, delivery executives (name, phone)
BRANCHES = [
    ("Downtown", "120 Greenwich Street, New York, NY 10006", "America/New_York", "192.168.10",
     [("Marcus Reed", "2125550141"), ("Priya Nair", "2125550142")]),
    ("Airport", "JFK Airport, Terminal 4, Jamaica, NY 11430", "America/New_York", "192.168.20",
     [("Luis Ortega", "7185550171"), ("Hannah Cole", "7185550172")]),
]

# Delivery settings by branch (head office's); distances in the unit, money exact.
# Downtown delivers within 6 km at tiered fees, free over 75.00; Airport does not.
DELIVERY = {
    "Downtown": dict(is_enabled=True, unit="km", max_radius=Decimal("6"), fee_type="tiered",
                     free_delivery_over_amount=Decimal("75.00"), prep_time_minutes=20,
                     additional_eta_buffer_time=10, avg_delivery_speed_kmh=25,
                     branch_lat=Decimal("40.7087000"), branch_lng=Decimal("-74.0128000")),
}
# branch name -> (min km, max km, fee)
DELIVERY_TIERS = {
    "Downtown": [("0", "2", "2.99"), ("2", "4", "4.99"), ("4", "6", "6.99")],
}

# --- Restaurant-wide settings -------------------------------------------------

TAXES = [("State Tax", "8.875"), ("City Tax", "2.5")]

# name, type, value, order-type slugs
EXTRA_CHARGES = [
    ("Service Charge", "percent", "10", ["dine_in"]),
    ("Packaging Fee", "fixed", "1.50", ["delivery", "pickup"]),
]

# reason, cancel_order, cancel_kot
KOT_CANCEL_REASONS = [
    ("Customer changed mind", False, True),
    ("Out of stock", False, True),
    ("Prepared incorrectly", False, True),
    ("Order cancelled by customer", True, True),
]

# code, name, right-to-left
LANGUAGES = [("en", "English", False), ("es", "Español", False), ("ar", "العربية", True)]

CURRENCY = dict(currency_code="USD", currency_name="US Dollar", currency_symbol="$", decimals=2)

# name, mode, enabled, secret (fake; the API never serves it)
PAYMENT_GATEWAYS = [
    ("stripe", "test", True, '{"secret_key": "sk_test_demo_not_a_real_key"}'),
    ("razorpay", "test", False, '{"key_id": "rzp_test_demo", "key_secret": "demo_not_real"}'),
]

# module -> permission names
PERMISSIONS = {
    "Order": ["Create Order", "Show Order", "Update Order", "Delete Order", "Cancel Order"],
    "Payment": ["Create Payment", "Refund Payment"],
    "KOT": ["Manage KOT"],
    "Table": ["Manage Tables", "Unlock Table"],
    "Reservation": ["Show Reservation", "Create Reservation"],
    "Customer": ["Manage Customers"],
    "Menu": ["Show Menu Item", "Update Menu Item"],
    "Staff": ["Manage Staff"],
    "Report": ["Show Reports"],
    "Settings": ["Manage Settings"],
    "Cash Register": ["Open Cash Register", "Close Cash Register", "Approve Cash Register",
                      "View Cash Register Reports", "Manage Cash Register"],
    "Delivery": ["Manage Delivery", "Manage Delivery Settings"],
}
ALL = "*"

# name, display name, permissions (ALL: every one)
ROLES = [
    ("owner", "Owner", ALL),
    ("admin", "Admin", ALL),
    ("manager", "Branch Manager",
     [p for names in PERMISSIONS.values() for p in names if p != "Manage Settings"]),
    # the till: takes orders and payments, voids and refunds, unlocks tables
    ("cashier", "Cashier",
     ["Create Order", "Show Order", "Update Order", "Cancel Order", "Create Payment",
      "Refund Payment", "Manage KOT", "Unlock Table", "Manage Customers", "Show Menu Item",
      "Show Reservation", "Create Reservation", "Open Cash Register", "Close Cash Register"]),
    # takes orders, sends them to the kitchen, splits the bill, takes cash and card;
    # cancelling an order or unlocking another's table is for the till or a manager
    ("waiter", "Waiter",
     ["Create Order", "Show Order", "Update Order", "Create Payment", "Manage KOT",
      "Manage Tables", "Show Reservation", "Create Reservation", "Manage Customers",
      "Show Menu Item"]),
    ("chef", "Chef", ["Show Order", "Manage KOT", "Show Menu Item", "Update Menu Item"]),
    ("delivery", "Delivery Executive", ["Show Order", "Manage Delivery"]),
]

# email, name, role, branches (the first is the current one), phone
USERS = [
    ("owner@demo.test", "Olivia Bennett", "owner", ["Downtown", "Airport"], "2125550101"),
    ("manager@demo.test", "Daniel Kim", "manager", ["Downtown"], "2125550102"),
    ("waiter@demo.test", "Sofia Martinez", "waiter", ["Downtown"], "2125550103"),
    ("waiter2@demo.test", "James Wilson", "waiter", ["Downtown"], "2125550104"),
    ("chef@demo.test", "Marco Rossi", "chef", ["Downtown"], "2125550105"),
    ("rider@demo.test", "Andre Jackson", "delivery", ["Downtown"], "2125550106"),
    ("airport.manager@demo.test", "Grace Liu", "manager", ["Airport"], "7185550107"),
    ("airport.waiter@demo.test", "Omar Haddad", "waiter", ["Airport"], "7185550108"),
]

# name, phone, email, addresses (label, address, lat, lng)
CUSTOMERS = [
    ("Emily Carter", "2125550198", "emily.carter@example.com", [
        ("Home", "22 W 34th Street, Apt 5B, New York, NY 10001", "40.7489620", "-73.9864470"),
        ("Work", "1 Liberty Plaza, New York, NY 10006", "40.7094560", "-74.0108540"),
    ]),
    ("Rahul Mehta", "6465550123", "rahul.mehta@example.com", [
        ("Home", "350 Broadway, Apt 12, New York, NY 10013", "40.7170420", "-74.0036910"),
    ]),
    ("Fatima Al-Sayed", "7185550177", "fatima.alsayed@example.com", [
        ("Home", "87-40 Queens Blvd, Elmhurst, NY 11373", "40.7362040", "-73.8775190"),
    ]),
    ("Tom Becker", "9175550150", None, []),
]

# --- Per branch: order types, floor, kitchen, delivery ----------------------

# slug, name, type, uses_token_number, price factor over the base price
ORDER_TYPES = [
    ("dine_in", "Dine In", "dine_in", False, Decimal("1.00")),
    ("delivery", "Delivery", "delivery", False, Decimal("1.10")),
    ("pickup", "Pickup", "pickup", True, Decimal("0.95")),
]

# Modifier options cost more on these order types (ModifierOptionPrice rows).
OPTION_PRICE_FACTORS = {"delivery": Decimal("1.10")}

AREAS = [
    ("Main Hall", [("T1", 2), ("T2", 2), ("T3", 4), ("T4", 4), ("T5", 4), ("T6", 6),
                   ("T7", 6), ("T8", 8)]),
    ("Terrace", [("P1", 2), ("P2", 2), ("P3", 4), ("P4", 4)]),
]

# name, type, default, printer
KOT_PLACES = [("Kitchen", "food", True, "Kitchen Printer"),
              ("Bar", "drink", False, "Counter Printer")]

# name, last part of the LAN address, default
PRINTERS = [("Counter Printer", "50", True), ("Kitchen Printer", "51", False)]

# name, logo, commission percent
DELIVERY_PLATFORMS = [("UberEats", "ubereats.png", "30"), ("DoorDash", "doordash.png", "25")]

ORDER_NUMBER_SETTING = dict(enabled=True, prefix="ORD", separator="-", include_date=True,
                            date_format="Ymd", digits=3, reset_daily=False)

# --- The catalog (copied to every branch) -----------------------------------

MENUS = ["All-Day Menu", "Bar & Beverages", "Desserts"]

# variation set -> (label, price over the item's base price)
VARIATIONS = {
    "pizza": [('Small 10"', "0"), ('Medium 12"', "3.00"), ('Large 14"', "6.00")],
    "wings": [("6 pieces", "0"), ("12 pieces", "9.00")],
    "fries": [("Regular", "0"), ("Large", "2.00")],
    "cup": [("Small 12 oz", "0"), ("Large 20 oz", "1.50")],
    "wine": [("Glass", "0"), ("Bottle", "27.00")],
}

# key -> name, description, required, multiple, options (name, price, preselected)
MODIFIER_GROUPS = {
    "toppings": ("Extra toppings", "Add as many as you like.", False, True, [
        ("Extra cheese", "1.50", False), ("Mushrooms", "1.00", False),
        ("Jalapeños", "0.75", False), ("Black olives", "0.75", False),
        ("Pepperoni", "2.00", False)]),
    "spice": ("Spice level", "How hot would you like it?", True, False, [
        ("Mild", "0", False), ("Medium", "0", True), ("Hot", "0", False),
        ("Extra hot", "0", False)]),
    "burger": ("Burger add-ons", "Make it your own.", False, True, [
        ("Bacon", "2.00", False), ("Fried egg", "1.25", False), ("Avocado", "1.75", False),
        ("Extra patty", "3.50", False)]),
    "doneness": ("Cooking preference", "", True, False, [
        ("Rare", "0", False), ("Medium rare", "0", True), ("Medium", "0", False),
        ("Well done", "0", False)]),
    "sauce": ("Dipping sauces", "", False, True, [
        ("Ranch", "0.75", False), ("Blue cheese", "0.75", False),
        ("Chipotle mayo", "0.75", False)]),
    "dressing": ("Dressing", "", True, False, [
        ("Balsamic vinaigrette", "0", True), ("Ranch", "0", False),
        ("Lemon olive oil", "0", False)]),
    "milk": ("Milk", "", True, False, [
        ("Whole milk", "0", True), ("Skim milk", "0", False), ("Oat milk", "0.75", False),
        ("Almond milk", "0.75", False)]),
}


def item(name, type_, price, description, variations=None, modifiers=()):
    return dict(name=name, type=type_, price=price, description=description,
                variations=variations, modifiers=modifiers)


# category -> menu, preparation minutes, items
CATALOG = {
    "Starters": ("All-Day Menu", 10, [
        item("Garlic Bread", "veg", "6.50", "Toasted sourdough with garlic butter and parsley."),
        item("Buffalo Wings", "non-veg", "11.00", "Crispy wings tossed in buffalo sauce.",
             "wings", ("spice", "sauce")),
        item("Crispy Calamari", "non-veg", "12.50", "Lightly fried squid with lemon aioli."),
        item("Tomato Bruschetta", "veg", "8.00", "Grilled bread, vine tomatoes, basil."),
        item("Deviled Eggs", "egg", "7.00", "Four halves with smoked paprika and chives."),
        item("Loaded Nachos", "veg", "10.50", "Tortilla chips, cheddar, pico de gallo.",
             modifiers=("toppings", "spice")),
    ]),
    "Mains": ("All-Day Menu", 20, [
        item("Classic Cheeseburger", "non-veg", "14.50",
             "Angus beef patty, cheddar, lettuce, tomato, brioche bun.",
             modifiers=("burger", "doneness")),
        item("Veggie Burger", "veg", "13.00", "Black bean and quinoa patty with chipotle mayo.",
             modifiers=("burger",)),
        item("Grilled Salmon", "non-veg", "22.00", "Atlantic salmon, lemon butter, greens."),
        item("Ribeye Steak", "non-veg", "32.00", "12 oz ribeye with peppercorn sauce and fries.",
             modifiers=("doneness",)),
        item("Chicken Tikka Masala", "halal", "17.50",
             "Halal chicken in a creamy tomato curry, basmati rice.", modifiers=("spice",)),
        item("Lamb Kofta Plate", "halal", "18.00", "Spiced halal lamb skewers, hummus, pita.",
             modifiers=("spice",)),
        item("Shakshuka", "egg", "12.00", "Eggs poached in spiced tomato and pepper sauce."),
        item("Kids Meal Box", "other", "8.50", "Mini burger or nuggets, fries, juice and a toy."),
    ]),
    "Pizza & Pasta": ("All-Day Menu", 15, [
        item("Margherita Pizza", "veg", "12.00", "San Marzano tomato, fior di latte, basil.",
             "pizza", ("toppings",)),
        item("Pepperoni Pizza", "non-veg", "14.00", "Tomato, mozzarella, spicy pepperoni.",
             "pizza", ("toppings",)),
        item("Veggie Supreme Pizza", "veg", "13.50", "Peppers, onions, mushrooms, olives.",
             "pizza", ("toppings",)),
        item("Spaghetti Carbonara", "egg", "15.00", "Guanciale, egg yolk, pecorino, pepper."),
        item("Penne Arrabbiata", "veg", "13.00", "Penne in a fiery tomato and garlic sauce.",
             modifiers=("spice",)),
        item("Mushroom Risotto", "veg", "16.00", "Arborio rice, wild mushrooms, parmesan."),
    ]),
    "Salads & Sides": ("All-Day Menu", 8, [
        item("Caesar Salad", "egg", "10.00", "Romaine, parmesan, croutons, Caesar dressing."),
        item("Garden Salad", "veg", "9.00", "Mixed greens, cucumber, cherry tomatoes.",
             modifiers=("dressing",)),
        item("French Fries", "veg", "4.50", "Hand-cut fries with sea salt.", "fries", ("sauce",)),
        item("Sweet Potato Fries", "veg", "5.50", "With chipotle mayo.", "fries", ("sauce",)),
        item("Onion Rings", "veg", "5.00", "Beer-battered onion rings."),
    ]),
    "Desserts": ("Desserts", 5, [
        item("New York Cheesecake", "veg", "8.50", "Classic baked cheesecake, berry compote."),
        item("Chocolate Lava Cake", "egg", "9.00", "Warm molten centre, vanilla ice cream."),
        item("Tiramisu", "egg", "8.50", "Espresso-soaked ladyfingers, mascarpone, cocoa."),
        item("Apple Pie à la Mode", "veg", "7.50", "Warm apple pie with vanilla ice cream."),
        item("Gelato Trio", "veg", "7.00", "Three scoops: pistachio, chocolate, strawberry."),
    ]),
    "Drinks": ("Bar & Beverages", 3, [
        item("Fresh Lemonade", "drink", "4.00", "Squeezed to order, lightly sweetened.", "cup"),
        item("Iced Tea", "drink", "3.50", "Black tea brewed in house.", "cup"),
        item("Cappuccino", "drink", "4.50", "Double espresso with steamed milk foam.",
             modifiers=("milk",)),
        item("Caffè Latte", "drink", "4.75", "Espresso with plenty of steamed milk.", "cup",
             ("milk",)),
        item("Espresso", "drink", "3.00", "A single origin double shot."),
        item("Coca-Cola", "drink", "3.00", "12 oz can."),
        item("Sparkling Water", "drink", "3.50", "750 ml bottle."),
        item("House Red Wine", "drink", "9.00", "Californian cabernet sauvignon.", "wine"),
        item("Craft IPA", "drink", "7.50", "Local India pale ale on draught."),
        item("Mango Smoothie", "drink", "6.00", "Mango, yoghurt and a hint of cardamom."),
    ]),
}


@functools.lru_cache(maxsize=4)
def _hash(password):
    """scrypt is slow on purpose: hash each demo password once per process."""
    return hash_password(password)


def _money(value):
    return to_money(Decimal(value))


def seed(password=DEMO_PASSWORD, password_hash=None):
    """Fill an empty, migrated database with the demo restaurant; answers the ids:
    ``{"restaurant_id", "restaurant_hash", "branches": {name: id}, "users": {email: id},
    "roles", "permissions", "taxes", "extra_charges", "customers": {name: id},
    "order_types" | "menus" | "categories" | "items" | "modifier_groups" | "areas" |
    "tables" | "kot_places" | "printers" | "delivery_platforms" |
    "delivery_executives": {branch name: {name: id}}, "rider_codes": {branch name: {rider
    name: login code}}}``. The riders' login codes are random, made here and kept only
    hashed: the summary is the one place they are seen (the demo prints them)."""
    password_hash = password_hash or _hash(password)
    with models.database.atomic():
        restaurant = models.Restaurant.create(hash=secrets.token_hex(16), **RESTAURANT)
        summary = {"restaurant_id": restaurant.id, "restaurant_hash": restaurant.hash,
                   "branches": {}, "users": {}}
        _seed_restaurant_settings(restaurant)
        taxes = [models.Tax.create(restaurant=restaurant, tax_name=name,
                                   tax_percent=Decimal(percent)) for name, percent in TAXES]
        summary["taxes"] = {t.tax_name: t.id for t in taxes}
        summary["extra_charges"] = {
            name: models.ExtraCharge.create(
                restaurant=restaurant, charge_name=name, charge_type=kind,
                charge_value=Decimal(value), order_types=slugs).id
            for name, kind, value, slugs in EXTRA_CHARGES}
        permissions = _seed_permissions()
        summary["permissions"] = {name: p.id for name, p in permissions.items()}
        roles = _seed_roles(restaurant, permissions)
        summary["roles"] = {name: r.id for name, r in roles.items()}

        branches = {}
        for name, address, timezone, lan, executives in BRANCHES:
            branch = models.Branch.create(restaurant=restaurant, name=name, address=address,
                                          timezone=timezone)
            branches[name] = branch
            for key, ids in _seed_branch(branch, lan, executives, taxes).items():
                summary.setdefault(key, {})[name] = ids
        summary["branches"] = {name: b.id for name, b in branches.items()}
        summary["users"] = _seed_users(restaurant, branches, roles, password_hash)
        summary["customers"] = _seed_customers(restaurant)
    return summary


def _seed_restaurant_settings(restaurant):
    for code, name, rtl in LANGUAGES:
        models.Language.create(code=code, name=name, is_rtl=rtl)
    models.Currency.create(restaurant=restaurant, **CURRENCY)
    for name, mode, enabled, secret in PAYMENT_GATEWAYS:
        models.PaymentGateway.create(restaurant=restaurant, name=name, mode=mode,
                                     is_enabled=enabled, secret=secret)
    for reason, cancel_order, cancel_kot in KOT_CANCEL_REASONS:
        models.KotCancelReason.create(restaurant=restaurant, reason=reason,
                                      cancel_order=cancel_order, cancel_kot=cancel_kot)


def _seed_permissions():
    return {name: models.Permission.create(name=name, module=module)
            for module, names in PERMISSIONS.items() for name in names}


def _seed_roles(restaurant, permissions):
    roles = {}
    for name, display_name, granted in ROLES:
        role = models.Role.create(restaurant=restaurant, name=name, display_name=display_name)
        for permission in (permissions if granted == ALL else granted):
            models.RolePermission.create(role=role, permission=permissions[permission])
        roles[name] = role
    return roles


def _seed_users(restaurant, branches, roles, password_hash):
    users = {}
    for email, name, role, branch_names, phone in USERS:
        user = models.User.create(restaurant=restaurant, branch=branches[branch_names[0]],
                                  name=name, email=email.lower(), password_hash=password_hash,
                                  phone_code="1", phone=phone)
        models.UserRole.create(user=user, role=roles[role])
        for branch_name in branch_names:
            models.UserBranch.create(user=user, branch=branches[branch_name])
        users[user.email] = user.id
    return users


def _seed_customers(restaurant):
    customers = {}
    for name, phone, email, addresses in CUSTOMERS:
        customer = models.Customer.create(restaurant=restaurant, name=name, phone_code="1",
                                          phone=phone, email=email)
        for label, address, lat, lng in addresses:
            models.CustomerAddress.create(customer=customer, label=label, address=address,
                                          lat=Decimal(lat), lng=Decimal(lng))
        customers[name] = customer.id
    return customers


def _ids(rows, attr="name"):
    return {getattr(row, attr): row.id for row in rows}


def _seed_branch(branch, lan, executives, taxes):
    """One branch's settings, floor and catalog; answers {kind: {name: id}}."""
    models.OrderNumberSetting.create(branch=branch, **ORDER_NUMBER_SETTING)
    models.ReceiptSetting.create(
        branch=branch, header="%s - %s\n%s" % (RESTAURANT["name"], branch.name, branch.address),
        footer="Thank you for dining with us! Tips are appreciated.")
    order_types = [models.OrderType.create(branch=branch, slug=slug, order_type_name=name,
                                           type=kind, uses_token_number=token, sort_order=i)
                   for i, (slug, name, kind, token, _) in enumerate(ORDER_TYPES)]
    printers = {name: models.Printer.create(branch=branch, name=name, address="%s.%s:9100"
                                            % (lan, host), is_default=default)
                for name, host, default in PRINTERS}
    kot_places = {name: models.KotPlace.create(branch=branch, name=name, type=kind,
                                               is_default=default, printer_id=printers[printer].id)
                  for name, kind, default, printer in KOT_PLACES}
    platforms = [models.DeliveryPlatform.create(branch=branch, name=name, logo=logo,
                                                commission_percent=Decimal(commission))
                 for name, logo, commission in DELIVERY_PLATFORMS]
    codes = {name: riders_module.new_login_code() for name, _ in executives}
    riders = [models.DeliveryExecutive.create(
        branch=branch, name=name, phone_code="1", phone=phone,
        login_code_hash=hash_password(codes[name]),
        login_code_hint=codes[name][:rider_accounts.HINT_LENGTH]) for name, phone in executives]
    if branch.name in DELIVERY:
        models.DeliverySetting.create(branch=branch, **DELIVERY[branch.name])
        for low, high, fee in DELIVERY_TIERS[branch.name]:
            models.DeliveryFeeTier.create(branch=branch, min_distance=Decimal(low),
                                          max_distance=Decimal(high), fee=Decimal(fee))
    areas, tables = {}, []
    for area_name, area_tables in AREAS:
        area = models.Area.create(branch=branch, area_name=area_name)
        areas[area_name] = area.id
        tables += [models.Table.create(branch=branch, area=area, table_code=code,
                                       seating_capacity=seats) for code, seats in area_tables]
    return {
        "order_types": _ids(order_types, "slug"),
        "printers": _ids(printers.values()),
        "kot_places": _ids(kot_places.values()),
        "delivery_platforms": _ids(platforms),
        "delivery_executives": _ids(riders),
        "rider_codes": codes,
        "areas": areas,
        "tables": _ids(tables, "table_code"),
        **_seed_catalog(branch, order_types, kot_places, taxes),
    }


def _seed_prices(menu_item, variation, base, order_types):
    for order_type, (_, _, _, _, factor) in zip(order_types, ORDER_TYPES):
        models.MenuItemPrice.create(menu_item=menu_item, variation=variation,
                                    order_type=order_type, final_price=to_money(base * factor))


def _seed_modifier_groups(branch, order_types):
    groups = {}
    for key, (name, description, required, multiple, options) in MODIFIER_GROUPS.items():
        group = models.ModifierGroup.create(branch=branch, name=name, description=description)
        for i, (option_name, price, preselected) in enumerate(options):
            option = models.ModifierOption.create(modifier_group=group, name=option_name,
                                                  price=_money(price), sort_order=i,
                                                  is_preselected=preselected)
            for order_type in order_types:
                factor = OPTION_PRICE_FACTORS.get(order_type.slug)
                if factor and option.price:
                    models.ModifierOptionPrice.create(modifier_option=option,
                                                      order_type=order_type,
                                                      price=to_money(option.price * factor))
        groups[key] = (group, required, multiple)
    return groups


def _seed_catalog(branch, order_types, kot_places, taxes):
    menus = {name: models.Menu.create(branch=branch, menu_name=name, sort_order=i)
             for i, name in enumerate(MENUS)}
    groups = _seed_modifier_groups(branch, order_types)
    categories, items = {}, {}
    for c, (category_name, (menu_name, minutes, entries)) in enumerate(CATALOG.items()):
        category = models.ItemCategory.create(branch=branch, category_name=category_name,
                                              sort_order=c)
        categories[category_name] = category.id
        for i, entry in enumerate(entries):
            menu_item = models.MenuItem.create(
                branch=branch, menu=menus[menu_name], item_category=category,
                kot_place=kot_places["Bar" if entry["type"] == "drink" else "Kitchen"],
                item_name=entry["name"], description=entry["description"], type=entry["type"],
                price=_money(entry["price"]), preparation_time=minutes, sort_order=i)
            items[entry["name"]] = menu_item.id
            for tax in taxes:
                models.MenuItemTax.create(menu_item=menu_item, tax=tax)
            _seed_prices(menu_item, None, menu_item.price, order_types)
            for v, (label, extra) in enumerate(VARIATIONS.get(entry["variations"], ())):
                variation = models.MenuItemVariation.create(
                    menu_item=menu_item, variation=label,
                    price=menu_item.price + _money(extra), sort_order=v)
                _seed_prices(menu_item, variation, variation.price, order_types)
            for key in entry["modifiers"]:
                group, required, multiple = groups[key]
                models.ItemModifier.create(menu_item=menu_item, modifier_group=group,
                                           is_required=required,
                                           allow_multiple_selection=multiple)
    return {
        "menus": {name: m.id for name, m in menus.items()},
        "categories": categories,
        "items": items,
        "modifier_groups": {group.name: group.id for group, _, _ in groups.values()},
    }
