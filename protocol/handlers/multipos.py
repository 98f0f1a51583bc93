"""MultiPOS devices: register a till with its branch, check whether it must
(protocol/multipos.py)."""

from typing import Optional

import pydantic

from .. import multipos
from ..validation import Body, Id
from ..cash_shapes import MachineCheck, MachineRegistered
from .base import APIHandler


class RegisterDeviceBody(Body):
    branch_id: Optional[Id] = None
    alias: Optional[str] = pydantic.Field(None, max_length=255)
    device_id: Optional[str] = pydantic.Field(None, min_length=1, max_length=255)
    platform: Optional[str] = pydantic.Field(None, max_length=50)


class CheckDeviceQuery(Body):
    device_id: str = pydantic.Field(min_length=1, max_length=255)
    branch_id: Optional[Id] = None


class RegisterDeviceHandler(APIHandler):
    bodies = {"post": RegisterDeviceBody}
    responses = {"post": MachineRegistered}
    once = ("post",)
    tags = ("multipos",)

    async def post(self):
        """Register this device (device_id; default a random one) with the caller's
        branch: 200 {success, message "Device registered" | "Device already registered",
        data: {id, branch_id, alias, public_id, token, status, device_id, approved_at,
        last_seen_at}}. The token is issued now and shown only in this answer; a known
        device gets a fresh one. Another restaurant's branch is 404."""
        await self.write_once(multipos.register, self.body(), self.now())


class CheckDeviceHandler(APIHandler):
    queries = {"get": CheckDeviceQuery}
    responses = {"get": MachineCheck}
    tags = ("multipos",)

    async def get(self):
        """Whether device_id is registered with the branch (default the caller's):
        {success, needs_registration[, data: the device, without its token]}."""
        self.write_json(await self.actor_run(multipos.check, self.query()))


default_handlers = [
    ("/pos/multi-pos/register", RegisterDeviceHandler),
    ("/pos/multi-pos/check", CheckDeviceHandler),
]
