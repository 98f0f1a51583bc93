"""Bad input gets a clear 4xx in the contract's shape, never a 500 or a trace."""


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
