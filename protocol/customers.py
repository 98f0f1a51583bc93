"""Customers, shared by every branch of a restaurant."""

from . import models


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


def upsert(restaurant_id, *, name=None, phone=None, phone_code=None, email=None,
           match=("email", "phone")):
    """Update the customer found by ``match`` (in that order) or create one."""
    customer = None
    for key in match:
        value = {"email": email, "phone": phone}[key]
        if value:
            customer = find(restaurant_id, **{key: value})
            if customer is not None:
                break
    if customer is None:
        return models.Customer.create(restaurant=restaurant_id, name=name or phone or email or "",
                                      phone=phone or "", phone_code=phone_code or "",
                                      email=email.lower() if email else None)
    changed = False
    for field, value in (("name", name), ("phone", phone), ("phone_code", phone_code),
                         ("email", email.lower() if email else None)):
        if value and getattr(customer, field) != value:
            setattr(customer, field, value)
            changed = True
    if changed:
        customer.save()
    return customer


def shape(customer):
    if customer is None:
        return None
    return {"id": customer.id, "name": customer.name, "phone": customer.phone,
            "phone_code": customer.phone_code, "email": customer.email,
            "restaurant_id": customer.restaurant_id}
