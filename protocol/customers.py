"""Customers and their addresses, shared by every branch of a restaurant.

A customer is found by email, then by phone (``upsert``): the POS and the
customer app add to the same person instead of making duplicates. Everything
here is scoped to the caller's restaurant; another restaurant's customer or
address does not exist for them. Also here: the calling codes a phone field
offers, from the ``phonenumbers`` package's metadata.

Deleting is a tombstone, never a row gone (``delete``, ``delete_address``): the
row gets ``deleted_at``, stamped and merged like any field (sync/merge.py), so
another branch's orders and reservations that refer to the customer keep them
and show them as before. Every lookup here (``_customers``, ``_addresses``) leaves
tombstones out: search, find, get, the address lists. A tombstone revives only by
a write of ``deleted_at`` itself: an upsert (the POS's save, a new order by phone
or email) that matches no live customer but a deleted one clears it, stamped after
the delete, so the revival wins the merge everywhere; an edit made elsewhere
without knowing of the delete does not revive the row. Addresses deleted with
the customer stay deleted.
"""

import functools
import re

import peewee

from . import models, permissions
from .database import Prepared, database, slot
from .errors import Conflict, NotFound, ValidationFailed

SEARCH_MIN_LENGTH = 2
LIST_SIZE = 10


def _customers(restaurant_id):
    """The restaurant's customers that are not deleted. Every lookup of customers
    starts here, but an upsert's match (``_match``: one query reads the deleted ones
    too, and tells them apart)."""
    c = models.Customer
    return c.select().where((c.restaurant == restaurant_id) & c.deleted_at.is_null())


def _addresses():
    """Addresses that are not deleted, of customers that are not."""
    a, c = models.CustomerAddress, models.Customer
    return a.select().join(c).where(a.deleted_at.is_null() & c.deleted_at.is_null())


def _match_values(email, phone):
    return {"email": email.lower() if email else None, "phone": phone or None}


# Every customer of a restaurant, live or deleted, with an email or a phone: the one
# query of an upsert (an order's customer), built once (database.Prepared).
_BY_EMAIL_OR_PHONE = Prepared(lambda: models.Customer.select().where(
    (models.Customer.restaurant == slot("restaurant")) &
    ((models.Customer.email == slot("email")) | (models.Customer.phone == slot("phone"))))
    .order_by(models.Customer.id))


def _match(restaurant_id, match, email, phone):
    """(live, deleted): the restaurant's customer found by ``match`` ("email",
    "phone"; in that order), else None and the deleted one so found, else None twice."""
    values = _match_values(email, phone)
    if not any(values[key] for key in match):
        return None, None
    rows = _BY_EMAIL_OR_PHONE.rows(models.Customer, restaurant=restaurant_id,
                                   email=values["email"] if "email" in match else None,
                                   phone=values["phone"] if "phone" in match else None)
    for deleted in (False, True):
        for key in match:
            for row in rows:
                if values[key] and (row.deleted_at is not None) == deleted \
                        and getattr(row, key) == values[key]:
                    return (None, row) if deleted else (row, None)
    return None, None


def find(restaurant_id, *, email=None, phone=None):
    """The restaurant's customer with this email, else with this phone."""
    return _match(restaurant_id, ("email", "phone"), email, phone)[0]


def _upsert(restaurant_id, name, phone, phone_code, email, match, now):
    """(customer, created): update the customer found by ``match`` (in that order),
    revive a deleted one so found, or create one; ``created`` also for a revival."""
    customer, revived = _match(restaurant_id, match, email, phone)
    stamps = {"created_at": now, "updated_at": now} if now else {}
    if revived:
        customer = revived
        customer.deleted_at = None
    elif customer is None:
        return models.Customer.create(restaurant=restaurant_id, name=name or phone or email or "",
                                      phone=phone or "", phone_code=phone_code or "",
                                      email=email.lower() if email else None, **stamps), True
    changed = bool(revived)
    for field, value in (("name", name), ("phone", phone), ("phone_code", phone_code),
                         ("email", email.lower() if email else None)):
        if value and getattr(customer, field) != value:
            setattr(customer, field, value)
            changed = True
    if changed:
        if now:
            customer.updated_at = now
        customer.save()
    return customer, bool(revived)


def upsert(restaurant_id, *, name=None, phone=None, phone_code=None, email=None,
           match=("email", "phone"), now=None):
    """Update the customer found by ``match`` (in that order) or create one."""
    return _upsert(restaurant_id, name, phone, phone_code, email, match, now)[0]


def shape(customer):
    if customer is None:
        return None
    return {"id": customer.id, "name": customer.name, "phone": customer.phone,
            "phone_code": customer.phone_code, "email": customer.email,
            "restaurant_id": customer.restaurant_id}


# --- Lookups and rows --------------------------------------------------------------------

def _get(model, query, row_id, message):
    found = query.where(model.id == row_id).first() if 0 < row_id < 2 ** 63 else None
    if found is None:
        raise NotFound(message)
    return found


def get_customer(actor, customer_id, field=None):
    """The restaurant's customer, or 404 (422 on ``field`` when the id came in a body)."""
    try:
        return _get(models.Customer, _customers(actor.restaurant_id), customer_id,
                    "Customer not found.")
    except NotFound:
        if field:
            raise ValidationFailed.field(field, "The selected customer id is invalid.") from None
        raise


def get_address(actor, address_id):
    """An address of one of the restaurant's customers, or 404."""
    query = _addresses().where(models.Customer.restaurant == actor.restaurant_id)
    return _get(models.CustomerAddress, query, address_id, "Customer address not found.")


def address_of(customer, address_id):
    """The customer's address with this id, or None (also for no customer)."""
    a = models.CustomerAddress
    if customer is None:
        return None
    return _addresses().where((a.id == address_id) & (a.customer == customer.id)).first()


def _tombstone(row, now):
    """Delete a shared row the way every node can merge: mark it, stamped."""
    row.deleted_at = row.updated_at = now
    row.save()


def _with_counts(restaurant_id):
    c, a, o = models.Customer, models.CustomerAddress, models.Order
    addresses = a.select(peewee.fn.COUNT(a.id)).where((a.customer == c.id) &
                                                      a.deleted_at.is_null())
    orders = o.select(peewee.fn.COUNT(o.id)).where(o.customer == c.id)
    return _customers(restaurant_id).select(c, addresses.alias("addresses_count"),
                                            orders.alias("orders_count"))


def row(customer):
    """A customer row of the POS lists: who, how to reach them, how often they came."""
    return {"id": customer.id, "name": customer.name, "phone_code": customer.phone_code,
            "phone": customer.phone, "email": customer.email,
            "addresses_count": customer.addresses_count, "orders_count": customer.orders_count,
            "created_at": customer.created_at}


def address_shape(address):
    return {"id": address.id, "customer_id": address.customer_id, "label": address.label,
            "address": address.address, "lat": address.lat, "lng": address.lng}


# --- Customers ---------------------------------------------------------------------------

def search(actor, term):
    """GET /pos/customers: up to 10 matches of 2+ characters over name, phone and email
    (a phone matches on its digits too); without a term, the 10 newest."""
    term = (term or "").strip()
    c = models.Customer
    query = _with_counts(actor.restaurant_id)
    if term:
        if len(term) < SEARCH_MIN_LENGTH:
            raise ValidationFailed.field("search", "The search field must be at least %d "
                                                   "characters." % SEARCH_MIN_LENGTH)
        matches = c.name.contains(term) | c.phone.contains(term) | c.email.contains(term)
        digits = re.sub(r"\D", "", term)
        if len(digits) >= SEARCH_MIN_LENGTH:
            matches |= c.phone.contains(digits)
        query = query.where(matches)
    return [row(found) for found in query.order_by(c.created_at.desc(), c.id.desc())
            .limit(LIST_SIZE)]


def save(actor, body, now):
    """POST /pos/customers: create or update (matched by email, then phone); an
    address the customer does not have yet is added."""
    permissions.require(actor, "customer.manage")
    with database.atomic():
        customer, created = _upsert(actor.restaurant_id, body.name, body.phone,
                                    body.phone_code, body.email, ("email", "phone"), now)
        if body.address and not any(a.address.strip().lower() == body.address.lower()
                                    for a in _addresses().where(
                                        models.CustomerAddress.customer == customer.id)):
            models.CustomerAddress.create(customer=customer.id, address=body.address,
                                          created_at=now, updated_at=now)
        found = _with_counts(actor.restaurant_id).where(models.Customer.id == customer.id).get()
        return {"success": True, "message": "Customer created." if created else
                "Customer updated.", "customer": row(found)}


def delete(actor, customer_id, now):
    """DELETE /pos/customers/{id}: 409 while orders here refer to the customer; else the
    customer and their addresses become tombstones (orders elsewhere keep them)."""
    permissions.require(actor, "customer.manage")
    with database.atomic():
        customer = get_customer(actor, customer_id)
        count = models.Order.select().where(models.Order.customer == customer.id).count()
        if count:
            raise Conflict("%s has %d order%s and cannot be deleted."
                           % (customer.name, count, "" if count == 1 else "s"),
                           orders_count=count)
        for address in _addresses().where(models.CustomerAddress.customer == customer.id):
            _tombstone(address, now)
        _tombstone(customer, now)
        return {"success": True, "message": "Customer %s deleted." % customer.name}


# --- Addresses -----------------------------------------------------------------------------

def addresses(actor, customer_id):
    """GET /customer-addresses?customer_id=: the customer's addresses, oldest first."""
    customer = get_customer(actor, customer_id)
    return [address_shape(a) for a in _addresses()
            .where(models.CustomerAddress.customer == customer.id)
            .order_by(models.CustomerAddress.id)]


def add_address(actor, body, now):
    permissions.require(actor, "customer.manage")
    with database.atomic():
        customer = get_customer(actor, body.customer_id, "customer_id")
        address = models.CustomerAddress.create(
            customer=customer.id, address=body.address, label=body.label or "",
            lat=body.lat, lng=body.lng, created_at=now, updated_at=now)
        return {"success": True, "message": "Address added.", "data": address_shape(address)}


def update_address(actor, address_id, body, now):
    """Change the fields sent; lat or lng sent as null clears it."""
    permissions.require(actor, "customer.manage")
    with database.atomic():
        address = get_address(actor, address_id)
        for field in ("address", "label"):
            if getattr(body, field) is not None:
                setattr(address, field, getattr(body, field))
        for field in ("lat", "lng"):
            if field in body.model_fields_set:
                setattr(address, field, getattr(body, field))
        address.updated_at = now
        address.save()
        return {"success": True, "message": "Address updated.", "data": address_shape(address)}


def delete_address(actor, address_id, now):
    """A tombstone, as for a customer: orders that were sent there keep the address."""
    permissions.require(actor, "customer.manage")
    with database.atomic():
        _tombstone(get_address(actor, address_id), now)
        return {"success": True, "message": "Address deleted."}


# --- Calling codes ----------------------------------------------------------------------

@functools.cache
def _calling_codes():
    """[(code, region codes, region names)] sorted by code: codes and regions from
    phonenumbers, English names from pycountry (phonenumbers' own names come with every
    language's, about 100 MB held for as long as the node runs). Both are loaded here,
    on the first search of calling codes, not with the module: they cost a node about
    1 MB each (phonenumbers brings its whole parsing library) that nothing else needs."""
    import phonenumbers
    import pycountry

    def name(region):
        country = pycountry.countries.get(alpha_2=region)
        return country.name if country else ""
    return [(code, [r.lower() for r in regions], [name(r).lower() for r in regions])
            for code, regions in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items())]


def phone_codes(search=None):
    """GET /pos/phone-codes: "+1", "+7", ... ; search by digits ("44", "+44": codes
    starting so), region code ("GB") or the start of a word in a region's name
    ("united", "kingdom")."""
    term = (search or "").strip().lower()
    digits = term.lstrip("+")
    at_word = re.compile(r"(^|\W)" + re.escape(term))

    def wanted(code, regions, names):
        if not term:
            return True
        if digits.isdigit():
            return str(code).startswith(digits)
        return term in regions or any(at_word.search(n) for n in names)
    return ["+%d" % code for code, regions, names in _calling_codes()
            if wanted(code, regions, names)]
