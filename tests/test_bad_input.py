"""Bad input gets a clear 4xx in the contract's shape, never a 500 or a trace."""

import asyncio

import pytest


async def test_malformed_json_is_a_400_with_a_message(edge):
    resp = await edge.fetch("POST", "/auth/login", raw=b'{"email": "waiter@demo.test", ')
    assert resp.status == 400
    assert resp.body == {"success": False, "message": "The request body is not valid JSON."}


async def test_non_utf8_body_is_a_400(edge):
    resp = await edge.fetch("POST", "/auth/login", raw=b'\xff\xfe{"a":1}')
    assert resp.status == 400


async def test_wrong_content_type_is_a_415(edge):
    resp = await edge.fetch("POST", "/auth/login", raw=b"email=waiter",
                            content_type="text/plain")
    assert resp.status == 415
    assert resp.body["success"] is False and "application/json" in resp.body["message"]


async def test_a_form_body_is_read_like_json(edge):
    resp = await edge.fetch("POST", "/auth/login",
                            raw=b"email=waiter%40demo.test&password=demo12345",
                            content_type="application/x-www-form-urlencoded")
    assert resp.status == 200, resp


async def test_oversize_body_is_a_413(edge):
    big = b'{"email": "' + b"a" * (1100 * 1024) + b'"}'
    resp = await edge.fetch("POST", "/auth/login", raw=big)
    assert resp.status == 413
    assert resp.body["success"] is False and "KiB" in resp.body["message"]


async def test_body_that_is_not_an_object_is_a_422(edge):
    for raw in (b"[1, 2]", b'"text"', b"12", b"null"):
        resp = await edge.fetch("POST", "/auth/login", raw=raw)
        assert resp.status == 422, (raw, resp)
        assert "errors" in resp.body


async def test_known_fields_of_the_wrong_type_are_422_per_field(edge):
    resp = await edge.fetch("POST", "/auth/login",
                            {"email": ["a@b.c"], "password": {"x": 1}, "unknown": 1})
    assert resp.status == 422
    assert set(resp.body["errors"]) == {"email", "password"}


async def test_deeply_nested_json_is_refused_cleanly(edge):
    raw = b"[" * 100000 + b"]" * 100000
    resp = await edge.fetch("POST", "/auth/login", raw=raw)
    assert resp.status in (400, 413, 422), resp


async def test_unknown_route_and_wrong_method_answer_json(edge):
    resp = await edge.fetch("GET", "/no/such/route")
    assert resp.status == 404 and resp.body == {"success": False, "message": "Not found."}
    resp = await edge.fetch("DELETE", "/auth/login")
    assert resp.status == 405 and resp.body["success"] is False
    assert "Traceback" not in resp.text


async def _timed(edge, *args, **kwargs):
    loop = asyncio.get_running_loop()
    started = loop.time()
    resp = await edge.fetch(*args, **kwargs)
    return resp, loop.time() - started


@pytest.mark.parametrize("number", [b"1e999999999", b"-1e999999999", b"1e-999999999",
                                    b"12345678901234567890.5", b"1" + b"0" * 30])
async def test_a_number_out_of_range_is_a_quick_422(edge, waiter, demo, number):
    garlic = str(demo["items"]["Downtown"]["Garlic Bread"]).encode()
    raw = b'{"order_type": "pickup", "items": [{"id": ' + garlic + b', "quantity": ' + \
        number + b'}]}'
    resp, took = await _timed(edge, "POST", "/pos/orders", raw=raw, token=waiter)
    assert resp.status == 422, resp
    assert "errors" in resp.body and "Traceback" not in resp.text
    assert took < 0.5
    assert (await edge.fetch("GET", "/pos/orders", token=waiter)).body["total"] == 0


@pytest.mark.parametrize("field, value", [("customer_id", 1e19), ("customer_id", 2 ** 63),
                                          ("waiter_id", 9.3e18), ("table_id", 2 ** 53 + 1),
                                          ("customer_id", 0)])
async def test_an_id_beyond_every_id_is_a_422(edge, waiter, demo, field, value):
    garlic = demo["items"]["Downtown"]["Garlic Bread"]
    resp = await edge.fetch("POST", "/pos/orders", {"order_type": "pickup", field: value,
                                                    "items": [{"id": garlic}]}, token=waiter)
    assert resp.status == 422, resp
    # beyond 64 bits or 10**19 the number itself is refused where the body is read
    assert list(resp.body["errors"]) in ([field], ["body"])


async def test_a_body_far_over_the_limit_gets_the_json_413_before_it_is_read(edge):
    big = b'{"email": "' + b"a" * (16 * 1024 * 1024) + b'"}'
    resp, took = await _timed(edge, "POST", "/auth/login", raw=big)
    assert resp.status == 413, resp
    assert resp.body["success"] is False and "KiB" in resp.body["message"]


async def test_a_long_query_string_gets_a_json_414(edge, waiter):
    resp = await edge.fetch("GET", "/pos/orders?search=" + "a" * 80_000, token=waiter)
    assert resp.status == 414, resp
    assert resp.body["success"] is False


async def test_a_method_no_route_answers_is_a_405_with_allow(edge):
    for method in ("TRACE", "DELETE"):
        resp = await edge.fetch(method, "/auth/login")
        assert resp.status == 405, resp
        assert resp.headers["Allow"] == "POST" and resp.body["success"] is False
    resp = await edge.fetch("TRACE", "/pos/orders")
    assert resp.status == 405 and resp.headers["Allow"] == "GET, POST"


async def test_a_kitchen_display_offset_beyond_any_page_is_a_422(edge, waiter):
    for offset in ("9" * 19, "9223372036854775808", "1000001"):
        resp = await edge.fetch("GET", "/pos/kots?offset=" + offset, token=waiter)
        assert resp.status == 422 and list(resp.body["errors"]) == ["offset"], resp
