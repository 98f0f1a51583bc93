"""Login, tokens, logout, branch switching and the platform config, over HTTP."""

import json

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from conftest import PASSWORD, trust
from protocol import ed25519, tokens
from protocol.clock import FakeClock


async def test_login_answers_the_contract_shape(edge, demo):
    resp = await edge.fetch("POST", "/auth/login",
                            {"email": "waiter@demo.test", "password": PASSWORD})
    assert resp.status == 200, resp
    body = resp.body
    assert body["status"] is True and body["message"] == "success"
    assert body["timestamp"].endswith("Z")
    data = body["data"]
    assert data["token_type"] == "Bearer" and data["access_token"].count(".") == 2
    user = data["user"]
    assert user["email"] == "waiter@demo.test"
    assert user["branch_id"] == demo["branches"]["Downtown"]
    assert user["restaurant_id"] == demo["restaurant_id"]
    assert user["roles"] == ["waiter"]
    assert data["permission_map"]["Create Order"] is True
    assert data["permission_map"]["Manage Settings"] is False


async def test_me_answers_the_user_the_token_belongs_to(edge):
    token = await edge.login("waiter@demo.test")
    resp = await edge.fetch("GET", "/auth/me", token=token)
    assert resp.status == 200, resp
    assert resp.body["user"]["email"] == "waiter@demo.test"
    assert "Order" in resp.body["modules"]


async def test_wrong_password_is_a_422_on_email(edge):
    resp = await edge.fetch("POST", "/auth/login",
                            {"email": "waiter@demo.test", "password": "nope"})
    assert resp.status == 422
    assert resp.body == {"message": "These credentials do not match our records.",
                         "errors": {"email": ["These credentials do not match our records."]}}
    unknown = await edge.fetch("POST", "/auth/login",
                               {"email": "nobody@demo.test", "password": "nope"})
    assert unknown.status == 422 and unknown.body == resp.body


async def test_login_validation_names_every_field(edge):
    resp = await edge.fetch("POST", "/auth/login", {"email": "not-an-email"})
    assert resp.status == 422
    assert resp.body["errors"] == {
        "email": ["The email field must be a valid email address."],
        "password": ["The password field is required."]}
    assert resp.body["message"] == ("The email field must be a valid email address. "
                                    "(and 1 more error)")


async def test_sixth_login_attempt_in_a_minute_is_throttled(start_node):
    clock = FakeClock()
    edge = await start_node("edge", clock=clock)
    wrong = {"email": "waiter@demo.test", "password": "wrong"}
    for _ in range(5):
        assert (await edge.fetch("POST", "/auth/login", wrong)).status == 422
    resp = await edge.fetch("POST", "/auth/login", {"email": "waiter@demo.test",
                                                    "password": PASSWORD})
    assert resp.status == 429
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    assert "Too many login attempts" in resp.body["message"]
    # Another email from the same client is counted on its own.
    other = await edge.fetch("POST", "/auth/login", {"email": "chef@demo.test",
                                                     "password": PASSWORD})
    assert other.status == 200
    clock.advance(61)
    assert await edge.login("waiter@demo.test")


async def test_logout_revokes_the_token_and_only_that_token(edge):
    token = await edge.login("waiter@demo.test")
    other = await edge.login("waiter@demo.test")
    resp = await edge.fetch("POST", "/auth/logout", token=token)
    assert resp.status == 200 and resp.body["success"] is True
    gone = await edge.fetch("GET", "/auth/me", token=token)
    assert gone.status == 401 and gone.body == {"message": "Unauthenticated."}
    assert (await edge.fetch("GET", "/auth/me", token=other)).status == 200


async def test_logout_survives_a_restart(start_node, tmp_path):
    edge = await start_node("edge", name="restart")
    token = await edge.login("waiter@demo.test")
    assert (await edge.fetch("POST", "/auth/logout", token=token)).status == 200
    await edge.close()
    again = await start_node("edge", name="restart")
    assert (await again.fetch("GET", "/auth/me", token=token)).status == 401


async def test_missing_malformed_and_foreign_tokens_are_401(edge, start_node):
    stranger = await start_node("cloud", name="stranger-cloud")
    foreign = await stranger.login("waiter@demo.test")   # signed by a node the edge does not trust
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Bearer abc.def.ghi"},
                    {"Authorization": "Basic d2FpdGVyOnB3"},
                    {"Authorization": "Bearer " + foreign}):
        resp = await edge.fetch("GET", "/auth/me", headers=headers)
        assert resp.status == 401, (headers, resp)
        assert resp.body == {"message": "Unauthenticated."}


async def test_edge_switch_to_a_branch_served_elsewhere_is_refused_saying_where(edge, demo):
    token = await edge.login("owner@demo.test")
    resp = await edge.fetch("POST", "/platform/switch-branch",
                            {"branch_id": demo["branches"]["Airport"]}, token=token)
    assert resp.status == 403
    assert resp.body["success"] is False
    assert "Airport" in resp.body["message"] and "Downtown" in resp.body["message"]


async def test_waiter_cannot_switch_to_a_branch_they_do_not_work_in(edge, cloud, demo):
    for node in (edge, cloud):
        token = await node.login("waiter@demo.test")
        resp = await node.fetch("POST", "/platform/switch-branch",
                                {"branch_id": demo["branches"]["Airport"]}, token=token)
        assert resp.status == 403, resp
        assert "Airport" in resp.body["message"]


async def test_cloud_switches_any_branch_the_user_may_use(cloud, demo):
    token = await cloud.login("owner@demo.test")
    airport = demo["branches"]["Airport"]
    resp = await cloud.fetch("POST", "/platform/switch-branch", {"branch_id": airport},
                             token=token)
    assert resp.status == 200, resp
    assert resp.body["success"] is True
    assert resp.body["branch"] == {"id": airport, "name": "Airport"}
    config = await cloud.fetch("GET", "/platform/config", token=resp.body["token"])
    assert config.body["branch"]["id"] == airport
    me = await cloud.fetch("GET", "/auth/me", token=resp.body["token"])
    assert me.body["user"]["branch_id"] == airport


async def test_switch_branch_validates_its_body(cloud):
    token = await cloud.login("owner@demo.test")
    for body, message in (({}, "The branch id field is required."),
                          ({"branch_id": "x"}, "The branch id field must be an integer."),
                          ({"branch_id": 999}, "The selected branch id is invalid.")):
        resp = await cloud.fetch("POST", "/platform/switch-branch", body, token=token)
        assert resp.status == 422, resp
        assert resp.body["errors"]["branch_id"] == [message]


async def test_tokens_fail_over_between_cloud_and_edge(edge, cloud, start_node, demo):
    airport = await start_node("edge", "Airport")
    trust(edge, cloud, airport)
    cloud_token = await cloud.login("waiter@demo.test")   # scoped to Downtown
    assert (await edge.fetch("GET", "/auth/me", token=cloud_token)).status == 200
    refused = await airport.fetch("GET", "/auth/me", token=cloud_token)
    assert refused.status == 403 and "Airport" in refused.body["message"]
    edge_token = await edge.login("waiter@demo.test")
    assert (await cloud.fetch("GET", "/auth/me", token=edge_token)).status == 200


async def test_platform_config_shape(edge, demo):
    token = await edge.login("manager@demo.test")
    resp = await edge.fetch("GET", "/platform/config", token=token)
    assert resp.status == 200, resp
    body = resp.body
    assert set(body) >= {"user", "restaurant", "branch", "features", "modules"}
    assert body["restaurant"]["currency"] == {"code": "USD", "symbol": "$", "decimals": 2}
    assert body["branch"]["id"] == demo["branches"]["Downtown"]
    assert body["branch"]["name"] == "Downtown"
    assert set(body["branch"]) >= {"address", "timezone"}
    assert body["features"]["edge"] is True



def test_keys_and_tokens_are_the_standard_formats_other_tools_read(tmp_path):
    """A node's key written by an earlier release (``cryptography``'s PKCS #8 PEM) still
    loads; a key written now loads in ``cryptography``; tokens are EdDSA JWTs that PyJWT's
    own EdDSA verifies with the public key the node gives out."""
    earlier = Ed25519PrivateKey.generate()
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "node-7.key").write_bytes(earlier.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    ring = tokens.KeyRing.from_dir(str(keys), 7)
    token = ring.issue(user_id=3, restaurant_id=1, branch_id=2, ttl_seconds=60, now=1000)
    public = serialization.load_pem_public_key(ring.public_pem().encode())
    raw = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert public.public_bytes(*raw) == earlier.public_key().public_bytes(*raw)
    claims = jwt.decode(token, public, algorithms=["EdDSA"], options={"verify_exp": False})
    assert (claims["sub"], claims["bid"]) == ("3", 2)
    assert ring.verify(token, now=1001)["sub"] == 3
    for claims in ({"sub": "3", "rid": 1, "bid": 2, "exp": 1060},        # no jti
                   ["not", "an", "object"]):
        unsigned = ed25519.JWS.encode(json.dumps(claims).encode(), ring.private_key,
                                      algorithm="EdDSA", headers={"kid": "7"})
        with pytest.raises(tokens.InvalidToken):
            ring.verify(unsigned, now=1001)

    made = ed25519.generate()
    loaded = serialization.load_pem_private_key(ed25519.private_pem(made), password=None)
    spki = loaded.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    assert spki == ed25519.public_pem(made)
    assert ed25519.verify(ed25519.load_public_pem(spki), loaded.sign(b"order 42"), b"order 42")
    assert not ed25519.verify(ed25519.load_public_pem(spki), loaded.sign(b"order 42"), b"43")
    for bad in (b"", "-----BEGIN PUBLIC KEY-----\nnonsense\n-----END PUBLIC KEY-----",
                b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
                ed25519.private_pem(made), b"\xff" * 40):
        with pytest.raises(ValueError):
            ed25519.load_public_pem(bad)
