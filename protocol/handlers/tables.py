"""Tables, their locks and the branch's areas (POS)."""

from typing import Optional

import pydantic

from .. import floor, floor_shapes, tables
from ..validation import Body, one_of
from .base import APIHandler, path_id


class TablesQuery(Body):
    status: Optional[one_of(floor.FILTERS)] = pydantic.Field(None, max_length=50)


class TablesHandler(APIHandler):
    responses = {"get": floor_shapes.Tables}
    queries = {"get": TablesQuery}
    tags = ("tables",)

    async def get(self):
        """The branch's tables with lock, running state and open order, a summary and
        is_admin; status filters all, available, running, locked, locked_by_me,
        locked_by_other (422 with allowed otherwise). Expired locks show as unlocked."""
        status = self.query().status
        self.write_json(await self.actor_run(floor.list_tables, status, self.now()))


class UnlockHandler(APIHandler):
    responses = {"post": floor_shapes.Unlocked}
    once = ("post",)
    tags = ("tables",)

    async def post(self, table_id):
        """Unlock a table (no body): its holder, or a manager or cashier; 403 otherwise."""
        await self.write_once(tables.unlock, int(table_id), self.now())


class AreasHandler(APIHandler):
    responses = {"get": list[floor_shapes.Area]}
    tags = ("tables",)

    async def get(self):
        """The branch's areas with how many tables each has."""
        self.write_json(await self.actor_run(floor.list_areas))


default_handlers = [
    (r"/pos/tables", TablesHandler),
    (r"/pos/tables/%s/unlock" % path_id("table_id"), UnlockHandler),
    (r"/areas", AreasHandler),
]
