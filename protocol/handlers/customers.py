"""Customers, their addresses and the phone calling codes (POS and /customer)."""

from decimal import Decimal
from typing import Annotated, Optional

import pydantic

from .. import customers, floor_shapes, shapes
from ..validation import NOT_BLANK, Body, Email, Id, Retryable
from .base import APIHandler, path_id


class FormBody(Body):
    """A body as Laravel sees a form: a blank string is no value (so a required field
    is "required" and an optional one is absent)."""

    @pydantic.model_validator(mode="before")
    @classmethod
    def _drop_blanks(cls, data):
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data




def _number_as_text(value):
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


# A phone or calling code: a string, or a number sent for one.
PhoneText = Annotated[str, pydantic.BeforeValidator(_number_as_text)]
Latitude = Annotated[Decimal, pydantic.Field(ge=-90, le=90)]
Longitude = Annotated[Decimal, pydantic.Field(ge=-180, le=180)]


class CustomerBody(FormBody, Retryable):
    name: str = pydantic.Field(max_length=255, json_schema_extra=NOT_BLANK)
    phone_code: PhoneText = pydantic.Field(max_length=8, json_schema_extra=NOT_BLANK)
    phone: PhoneText = pydantic.Field(max_length=32, json_schema_extra=NOT_BLANK)
    email: Optional[Email] = None
    address: Optional[str] = pydantic.Field(None, max_length=500)


class AddressBody(FormBody, Retryable):
    customer_id: Id
    address: str = pydantic.Field(max_length=500, json_schema_extra=NOT_BLANK)
    label: Optional[str] = pydantic.Field(None, max_length=255)
    lat: Optional[Latitude] = None
    lng: Optional[Longitude] = None


class AddressUpdateBody(FormBody):
    address: Optional[str] = pydantic.Field(None, max_length=500)
    label: Optional[str] = pydantic.Field(None, max_length=255)
    lat: Optional[Latitude] = None
    lng: Optional[Longitude] = None


class SearchQuery(Body):
    search: Optional[str] = pydantic.Field(None, max_length=255)


class AddressesQuery(Body):
    customer_id: Id


class CustomersHandler(APIHandler):
    responses = {"get": list[floor_shapes.Customer], "post": floor_shapes.CustomerSaved}
    once = ("post",)
    bodies = {"post": CustomerBody}
    queries = {"get": SearchQuery}
    tags = ("customers",)

    async def get(self):
        """Up to 10 customers of the restaurant matching search (2+ characters over name,
        phone and email; 422 when shorter), or the 10 newest: [{id, name, phone_code,
        phone, email, addresses_count, orders_count, created_at}]."""
        self.write_json(await self.actor_run(customers.search, self.query().search))

    async def post(self):
        """Create or update a customer, matched by email, then phone; an address given
        is added when the customer does not have it yet. Honours Idempotency-Key."""
        body = self.body()
        await self.write_once(customers.save, body, self.now())


class CustomerAppCustomersHandler(CustomersHandler):
    """The same customers under the contract's /customer namespace."""


class CustomerHandler(APIHandler):
    responses = {"delete": shapes.Done}
    once = ("delete",)
    statuses = {"delete": (409,)}
    tags = ("customers",)

    async def delete(self, customer_id):
        """Delete a customer and their addresses; 409 while they have orders."""
        await self.write_once(customers.delete, int(customer_id), self.now())


class PhoneCodesHandler(APIHandler):
    responses = {"get": list[str]}
    queries = {"get": SearchQuery}
    tags = ("customers",)

    async def get(self):
        """Calling codes ["+1", "+7", ...] from the phonenumbers metadata; search by digits
        ("44"), region code ("GB") or region name ("united")."""
        self.write_json(customers.phone_codes(self.query().search))


class AddressesHandler(APIHandler):
    responses = {"get": list[floor_shapes.Address], "post": {201: floor_shapes.AddressSaved}}
    once = ("post",)
    bodies = {"post": AddressBody}
    queries = {"get": AddressesQuery}
    tags = ("customers",)

    async def get(self):
        """A customer's addresses: [{id, customer_id, label, address, lat, lng}];
        customer_id is required; another restaurant's customer is not found."""
        customer_id = self.query().customer_id
        self.write_json(await self.actor_run(customers.addresses, customer_id))

    async def post(self):
        """Add an address (max 500 characters; lat −90..90, lng −180..180) to a customer:
        {success, data}."""
        body = self.body()
        await self.write_once(customers.add_address, body, self.now(), status=201)


class AddressHandler(APIHandler):
    responses = {"put": floor_shapes.AddressSaved, "delete": shapes.Done}
    once = ("put", "delete")
    bodies = {"put": AddressUpdateBody}
    tags = ("customers",)

    async def put(self, address_id):
        """Change an address's text, label or coordinates (null clears lat or lng):
        {success, data}."""
        body = self.body()
        await self.write_once(customers.update_address, int(address_id), body, self.now())

    async def delete(self, address_id):
        """Delete an address: {success, message}."""
        await self.write_once(customers.delete_address, int(address_id), self.now())


default_handlers = [
    (r"/pos/customers", CustomersHandler),
    (r"/customer/customers", CustomerAppCustomersHandler),
    (r"/pos/customers/%s" % path_id("customer_id"), CustomerHandler),
    (r"/pos/phone-codes", PhoneCodesHandler),
    (r"/customer-addresses", AddressesHandler),
    (r"/customer-addresses/%s" % path_id("address_id"), AddressHandler),
]
