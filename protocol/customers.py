"""Customers and their addresses, shared by every branch of a restaurant.

A customer is found by email, then by phone (``upsert``): the POS and the
customer app add to the same person instead of making duplicates. Everything
here is scoped to the caller's restaurant; another restaurant's customer or
address does not exist for them. Also here: the calling codes a phone field
offers, from the ``phonenumbers`` package's metadata.
"""

import functools
import re

import peewee
import phonenumbers

from . import models, permissions
from .database import database
from .errors import Conflict, NotFound, ValidationFailed

SEARCH_MIN_LENGTH = 2
LIST_SIZE = 10


def find(restaurant_id, *, email=None, phone=None):
    """The restaurant's customer with this email, else with this phone."""
    query = models.Customer.select().where(models.Customer.restaurant == restaurant_id)
    if email:
        found = query.where(models.Customer.email == email.lower()).first()
        if found is not None:
            return found
    if phone:
        return query.where(models.Customer.phone == phone).first()
    return None


def _upsert(restaurant_id, name, phone, phone_code, email, match, now):
    """(customer, created): update the customer found by ``match`` (in that order)
    or create one."""
    customer = None
    for key in match:
        value = {"email": email, "phone": phone}[key]
        if value:
            customer = find(restaurant_id, **{key: value})
            if customer is not None:
                break
    stamps = {"created_at": now, "updated_at": now} if now else {}
    if customer is None:
        return models.Customer.create(restaurant=restaurant_id, name=name or phone or email or "",
                                      phone=phone or "", phone_code=phone_code or "",
                                      email=email.lower() if email else None, **stamps), True
    changed = False
    for field, value in (("name", name), ("phone", phone), ("phone_code", phone_code),
                         ("email", email.lower() if email else None)):
        if value and getattr(customer, field) != value:
            setattr(customer, field, value)
            changed = True
    if changed:
        if now:
            customer.updated_at = now
        customer.save()
    return customer, False


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
    query = models.Customer.select().where(models.Customer.restaurant == actor.restaurant_id)
    try:
        return _get(models.Customer, query, customer_id, "Customer not found.")
    except NotFound:
        if field:
            raise ValidationFailed.field(field, "The selected customer id is invalid.") from None
        raise


def get_address(actor, address_id):
    """An address of one of the restaurant's customers, or 404."""
    query = (models.CustomerAddress.select().join(models.Customer)
             .where(models.Customer.restaurant == actor.restaurant_id))
    return _get(models.CustomerAddress, query, address_id, "Customer address not found.")


def _with_counts(restaurant_id):
    c, a, o = models.Customer, models.CustomerAddress, models.Order
    addresses = a.select(peewee.fn.COUNT(a.id)).where(a.customer == c.id)
    orders = o.select(peewee.fn.COUNT(o.id)).where(o.customer == c.id)
    return c.select(c, addresses.alias("addresses_count"), orders.alias("orders_count")) \
        .where(c.restaurant == restaurant_id)


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
                                    for a in customer.addresses):
            models.CustomerAddress.create(customer=customer.id, address=body.address,
                                          created_at=now, updated_at=now)
        found = _with_counts(actor.restaurant_id).where(models.Customer.id == customer.id).get()
        return {"success": True, "message": "Customer created." if created else
                "Customer updated.", "customer": row(found)}


def delete(actor, customer_id):
    """DELETE /pos/customers/{id}: 409 while orders refer to the customer."""
    permissions.require(actor, "customer.manage")
    with database.atomic():
        customer = get_customer(actor, customer_id)
        count = models.Order.select().where(models.Order.customer == customer.id).count()
        if count:
            raise Conflict("%s has %d order%s and cannot be deleted."
                           % (customer.name, count, "" if count == 1 else "s"),
                           orders_count=count)
        models.CustomerAddress.delete().where(
            models.CustomerAddress.customer == customer.id).execute()
        customer.delete_instance()
        return {"success": True, "message": "Customer %s deleted." % customer.name}


# --- Addresses -----------------------------------------------------------------------------

def addresses(actor, customer_id):
    """GET /customer-addresses?customer_id=: the customer's addresses, oldest first."""
    customer = get_customer(actor, customer_id)
    return [address_shape(a) for a in models.CustomerAddress.select()
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


def delete_address(actor, address_id):
    permissions.require(actor, "customer.manage")
    with database.atomic():
        get_address(actor, address_id).delete_instance()
        return {"success": True, "message": "Address deleted."}


# --- Calling codes ----------------------------------------------------------------------

@functools.cache
def _calling_codes():
    """[(code, region codes, region names)] sorted by code, from phonenumbers."""
    from phonenumbers import geocoder

    def name(region):
        example = phonenumbers.example_number(region)
        return geocoder.country_name_for_number(example, "en") if example else ""
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
