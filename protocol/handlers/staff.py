"""Staff and platform settings (waiters by role, delivery executives, roles, staff,
permissions, languages, currencies, payment gateways, printers, receipt settings)."""

from typing import Optional, Union

import pydantic

from .. import floor_shapes, staff
from ..validation import Body, one_of
from .base import APIHandler


class WaitersQuery(Body):
    role: str = pydantic.Field("waiter", max_length=50)
    include_permissions: bool = False


class ExecutivesQuery(Body):
    status: Optional[one_of(staff.EXECUTIVE_STATUSES)] = pydantic.Field(None, max_length=50)
    search: Optional[str] = pydantic.Field(None, max_length=100)


class StaffHandler(APIHandler):
    tags = ("staff",)

    async def answer(self, fn, *args):
        self.write_json(await self.actor_run(fn, *args))


class WaitersHandler(StaffHandler):
    responses = {"get": list[Union[floor_shapes.Waiter, floor_shapes.Executive]]}
    queries = {"get": WaitersQuery}

    async def get(self):
        """The branch's users with a role (?role=, default waiter; 422 with allowed for a
        role the restaurant does not have): [{id, name, email, phone, phone_code, roles,
        branch_id}], plus permissions with ?include_permissions=true; role=delivery also
        lists the branch's delivery executives (is_delivery_staff: true)."""
        query = self.query()
        await self.answer(staff.waiters, query.role, query.include_permissions)


class DeliveryExecutivesHandler(StaffHandler):
    responses = {"get": list[floor_shapes.Executive]}
    queries = {"get": ExecutivesQuery}

    async def get(self):
        """The branch's delivery executives: [{id, branch_id, name, phone, phone_code,
        status, is_delivery_staff}]; filters status (available, on_delivery, inactive) and
        search (name, phone)."""
        query = self.query()
        await self.answer(staff.delivery_executives, query.status, query.search)


class RolesHandler(StaffHandler):
    responses = {"get": list[floor_shapes.Role]}
    async def get(self):
        """The restaurant's roles: [{id, name, display_name, permissions_count}]."""
        await self.answer(staff.roles)


class PlatformRolesHandler(RolesHandler):
    """/platform/roles: the same list as /roles."""


class StaffListHandler(StaffHandler):
    responses = {"get": list[floor_shapes.Person]}
    async def get(self):
        """The restaurant's staff: [{id, name, email, phone, phone_code, roles,
        branches[{id, name}]}]."""
        await self.answer(staff.staff)


class PlatformStaffHandler(StaffListHandler):
    """/platform/staff: the same list as /staff."""


class PermissionsHandler(StaffHandler):
    responses = {"get": floor_shapes.Permissions}
    async def get(self):
        """The restaurant's roles (each with its permissions' names); the permission
        names the caller holds, as TableTrack names them (permissions: [names]); their
        permission_map (permission and capability names such as orders.create ->
        bool); and every permission: all_permissions[{id, name, module}]."""
        await self.answer(staff.permissions)


class LanguagesHandler(StaffHandler):
    responses = {"get": list[floor_shapes.Language]}
    tags = ("platform",)

    async def get(self):
        """The languages: [{id, code, name, is_active, is_rtl}]."""
        await self.answer(staff.languages)


class CurrenciesHandler(StaffHandler):
    responses = {"get": list[floor_shapes.CurrencyRow]}
    tags = ("platform",)

    async def get(self):
        """The restaurant's currencies: [{id, currency_code, currency_name, currency_symbol,
        decimals}]."""
        await self.answer(staff.currencies)


class PaymentGatewaysHandler(StaffHandler):
    responses = {"get": list[floor_shapes.PaymentGateway]}
    tags = ("platform",)

    async def get(self):
        """The restaurant's payment gateways, names and modes only (never a credential):
        [{id, name, mode, is_enabled}]."""
        await self.answer(staff.payment_gateways)


class PrintersHandler(StaffHandler):
    responses = {"get": list[floor_shapes.Printer]}
    tags = ("platform",)

    async def get(self):
        """The branch's printers: [{id, name, type, address, char_per_line, is_default}]."""
        await self.answer(staff.printers)


class ReceiptSettingsHandler(StaffHandler):
    responses = {"get": floor_shapes.ReceiptSettings}
    tags = ("platform",)

    async def get(self):
        """The branch's receipt settings: {id, branch_id, header, footer, show_tax,
        show_table, show_customer}."""
        await self.answer(staff.receipt_settings)


default_handlers = [
    (r"/pos/waiters", WaitersHandler),
    (r"/roles", RolesHandler),
    (r"/platform/roles", PlatformRolesHandler),
    (r"/staff", StaffListHandler),
    (r"/platform/staff", PlatformStaffHandler),
    (r"/platform/permissions", PermissionsHandler),
    (r"/languages", LanguagesHandler),
    (r"/currencies", CurrenciesHandler),
    (r"/payment-gateways", PaymentGatewaysHandler),
    (r"/platform/printers", PrintersHandler),
    (r"/platform/receipt-settings", ReceiptSettingsHandler),
]
