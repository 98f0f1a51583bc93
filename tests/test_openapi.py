"""The OpenAPI document is generated from the route table both servers mount."""

import re
from typing import Optional

import pytest

from protocol import shapes
from protocol.handlers.base import APIHandler
from protocol.routes import PREFIX, api_routes


async def test_both_servers_serve_a_document_of_every_route(edge, cloud):
    for node in (edge, cloud):
        resp = await node.fetch("GET", "/openapi.json")
        assert resp.status == 200, resp
        doc = resp.body
        assert doc["openapi"].startswith("3.1")
        for pattern, handler in api_routes():
            path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)
            assert path in doc["paths"], path
            for method in ("get", "post", "put", "delete"):
                if callable(getattr(handler, method, None)) and \
                        getattr(handler, method) is not getattr(APIHandler, method):
                    assert method in doc["paths"][path], (path, method)
        login = doc["paths"]["/api/application-integration/auth/login"]["post"]
        assert login["security"] == []
        schema = doc["components"]["schemas"]["LoginBody"]
        assert set(schema["required"]) == {"email", "password"}
        me = doc["paths"]["/api/application-integration/auth/me"]["get"]
        assert "401" in me["responses"]


def _document():
    from protocol import openapi
    return openapi.document(api_routes())


def test_required_query_parameters_are_declared_required():
    paths = _document()["paths"]
    for path in ("/customer-addresses", "/customer/orders"):
        params = {p["name"]: p for p in paths[PREFIX + path]["get"]["parameters"]}
        assert params["customer_id"]["required"] is True, path


def test_status_vocabularies_are_the_domain_lists():
    from protocol import floor, orders, reservations, staff, tickets
    doc = _document()
    paths, schemas = doc["paths"], doc["components"]["schemas"]

    def query_enum(path, name="status"):
        param = next(p for p in paths[PREFIX + path]["get"]["parameters"] if p["name"] == name)
        return next(s["enum"] for s in param["schema"]["anyOf"] if "enum" in s)
    assert query_enum("/pos/orders") == orders.STATUSES
    assert query_enum("/pos/tables") == list(floor.FILTERS)
    assert query_enum("/pos/reservations") == list(reservations.STATUSES)
    assert query_enum("/pos/kots") == tickets.KOT_STATUSES
    assert schemas["StatusBody"]["properties"]["status"]["enum"] == orders.ORDER_STATUSES
    assert (schemas["ReservationStatusBody"]["properties"]["status"]["enum"]
            == list(reservations.STATUSES))
    assert schemas["KotStatusBody"]["properties"]["status"]["enum"] == tickets.KOT_STATUSES
    assert schemas["RiderStatusBody"]["properties"]["status"]["enum"] == staff.EXECUTIVE_STATUSES
    assert schemas["Order"]["properties"]["status"]["enum"] == orders.STATUSES
    assert schemas["Order"]["properties"]["order_status"]["enum"] == (
        orders.ORDER_STATUSES + [orders.DELIVERY_FAILED])      # a delivery that failed
    assert schemas["Kot"]["properties"]["status"]["enum"] == tickets.KOT_STATUSES


def test_every_operation_documents_its_success_and_its_errors():
    for path, item in _document()["paths"].items():
        for method, op in item.items():
            codes = set(op["responses"])
            assert any(c.startswith("2") and op["responses"][c]["content"]["application/json"]
                       ["schema"] for c in codes), (method, path)
            assert {"413", "414"} <= codes, (method, path)
            if op.get("security") != []:
                assert op["responses"]["401"]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Unauthenticated"}, (method, path)
            if "requestBody" in op:
                assert {"400", "415", "422"} <= codes, (method, path)
    pay = _document()["paths"][PREFIX + "/pos/orders/{order_id}/pay"]["post"]["responses"]
    assert {"202", "409", "503"} <= set(pay)
    assert len(pay["422"]["content"]["application/json"]["schema"]["oneOf"]) == 2
    login = _document()["paths"][PREFIX + "/auth/login"]["post"]["responses"]
    assert "Retry-After" in login["429"]["headers"]


class Loop(shapes.Shape):
    """A shape naming itself, which no answer's shape may do."""
    again: Optional["Loop"] = None


def test_a_shape_that_names_itself_is_refused_each_time_and_leaves_nothing_behind():
    for _ in range(2):
        with pytest.raises(TypeError, match="Loop names itself"):
            shapes.model(Loop)
    assert Loop not in shapes._MODELS
