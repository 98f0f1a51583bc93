"""Reservations of the branch's tables (POS)."""

import datetime
from typing import Optional

import pydantic

from .. import floor_shapes, reservations
from ..validation import Body, Email, Id, LocalDate, Retryable, one_of
from .base import APIHandler, path_id
from .customers import FormBody, PhoneText



class ReservationBody(FormBody, Retryable):
    table_id: Id
    reservation_date_time: datetime.datetime
    party_size: int = pydantic.Field(ge=1, le=1000)
    name: Optional[str] = pydantic.Field(None, max_length=255)
    phone: Optional[PhoneText] = pydantic.Field(None, max_length=32)
    email: Optional[Email] = None
    special_requests: Optional[str] = pydantic.Field(None, max_length=2000)
    slot_type: Optional[one_of(reservations.SLOT_TYPES)] = pydantic.Field(None, max_length=32)

    @pydantic.field_validator("reservation_date_time")
    @classmethod
    def _plausible(cls, value):
        if not 2000 <= value.year <= 2999:
            raise ValueError("The reservation date time field must be a date between the "
                             "years 2000 and 2999.")
        return value


class ReservationStatusBody(Body):
    status: one_of(reservations.STATUSES) = pydantic.Field(max_length=32)


class TodayHandler(APIHandler):
    responses = {"get": list[floor_shapes.Reservation]}
    tags = ("reservations",)

    async def get(self):
        """Today's reservations (the branch's local day), earliest first: [{id, table_code,
        time "h:i A", datetime, date, party_size, status, name, phone, table_id, ...}]."""
        self.write_json(await self.actor_run(reservations.today, self.now()))


class ReservationsQuery(Body):
    status: Optional[one_of(reservations.STATUSES)] = pydantic.Field(None, max_length=50)
    date: Optional[LocalDate] = None       # the branch's local day
    page: int = pydantic.Field(1, ge=1, le=1_000_000)


class ReservationsHandler(APIHandler):
    responses = {"get": floor_shapes.ReservationPage, "post": {201: floor_shapes.Reservation}}
    once = ("post",)
    statuses = {"post": (409,)}
    bodies = {"post": ReservationBody}
    queries = {"get": ReservationsQuery}
    tags = ("reservations",)

    async def get(self):
        """The branch's reservations with their table, latest first, 20 a page (Laravel
        paginator); filters status (any case; 422 with allowed otherwise), date (local
        YYYY-MM-DD), page."""
        filters = self.query().model_dump()
        self.write_json(await self.actor_run(reservations.list_reservations, filters,
                                             self.page_path()))

    async def post(self):
        """Reserve a table: reservation_date_time is the branch's local time unless it
        carries an offset; party_size at most the table's seats; 409 when the table is
        already reserved within a sitting; status is the restaurant's default (Pending).
        Answers the reservation. Honours Idempotency-Key."""
        body = self.body()
        await self.write_once(reservations.create, body, self.now(), status=201)


class ReservationStatusHandler(APIHandler):
    responses = {"post": floor_shapes.ReservationStatusSet}
    once = ("post",)
    statuses = {"post": (422,)}
    bodies = {"post": ReservationStatusBody}
    tags = ("reservations",)

    async def post(self, reservation_id):
        """Set the status: Pending, Confirmed, Checked_In, Cancelled, No_Show in any case
        (422 with allowed otherwise; 422 for a move the status cannot make). Checking in
        opens the table."""
        body = self.body()
        await self.write_once(reservations.set_status, int(reservation_id), body.status,
                              self.now())


default_handlers = [
    (r"/pos/reservations/today", TodayHandler),
    (r"/pos/reservations", ReservationsHandler),
    (r"/pos/reservations/%s/status" % path_id("reservation_id"), ReservationStatusHandler),
]
