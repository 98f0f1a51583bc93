"""What the cloud's processes over one PostgreSQL database must agree on at once,
whichever of them a request lands on: the rider-code limit counted by all of
them, an edge enrolled (or replaced) through one known to every other, and
revocations a process's listener missed while it was reconnecting caught up."""

import asyncio
import time



async def test_rider_code_failures_count_across_processes(start_node, postgres_cloud_database):
    one, two = [await start_node("cloud", name=name, database_url=postgres_cloud_database)
                for name in ("cloud-one", "cloud-two")]
    # Five failures a minute per code and client, whichever process takes them.
    for server in (one, two, one, two, one):
        bad = await server.fetch("POST", "/partner/auth/login", {"unique_code": "WRONG12345"})
        assert bad.status == 401, bad
    for server in (two, one):
        throttled = await server.fetch("POST", "/partner/auth/login",
                                       {"unique_code": "WRONG12345"})
        assert throttled.status == 429 and int(throttled.headers["Retry-After"]) > 0, throttled
        header = await server.fetch("GET", "/partner/profile",
                                    headers={"X-PARTNER-CODE": "wrong12345"})
        assert header.status == 429, header
    # Another code is still tried.
    other = await two.fetch("POST", "/partner/auth/login", {"unique_code": "OTHER12345"})
    assert other.status == 401, other
