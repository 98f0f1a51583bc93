"""The cloud's PostgreSQL out of reach (down, refusing connections, or every
connection cut mid-request): each request is answered 503 in the contract's shape
with Retry-After, never a 500, and the cloud serves again by itself once the
database is back (the pooled connections that died are replaced)."""

import asyncio
import time

import pytest


@pytest.fixture
def database(postgres, postgres_cloud_database):
    name = postgres.name_of(postgres_cloud_database)

    def sql(statement, *args):
        with postgres.admin.cursor() as cursor:
            cursor.execute(statement, args)

    def cut():
        sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()", name)

    def refuse(refused):
        sql('ALTER DATABASE "%s" WITH ALLOW_CONNECTIONS %s' % (name, "false" if refused
                                                                else "true"))
        if refused:
            cut()
    yield cut, refuse
    refuse(False)


def unavailable(answer):
    return (answer.status == 503 and int(answer.headers["Retry-After"]) > 0
            and answer.body["success"] is False and answer.body["message"])


async def test_a_database_outage_is_a_503_and_passes_by_itself(
        start_node, demo, database, postgres_cloud_database):
    cut, refuse = database
    cloud = await start_node("cloud", database_url=postgres_cloud_database)
    token = await cloud.login("manager@demo.test")
    order = {"order_type": "pickup", "items": [
        {"id": demo["items"]["Downtown"]["Espresso"], "quantity": 1}]}
    # Every connection cut (a restart, a failover): at most a 503, then served.
    cut()
    answers = [await cloud.fetch("GET", "/pos/orders", token=token) for _ in range(3)]
    assert all(a.status == 200 or unavailable(a) for a in answers), answers
    assert answers[-1].status == 200, answers
    # Cut again and again while requests are in flight: 200 or 503, nothing else.
    async def cuts():
        for _ in range(5):
            await asyncio.sleep(0.05)
            await asyncio.to_thread(cut)
    busy = await asyncio.gather(cuts(), *[cloud.fetch("POST", "/pos/orders", order, token=token)
                                          for _ in range(20)],
                                *[cloud.fetch("GET", "/pos/orders", token=token)
                                  for _ in range(20)])
    assert all(a.status in (200, 201) or unavailable(a) for a in busy[1:]), busy[1:]
    # The server down (refusing connections): reads, writes and logins are 503s.
    refuse(True)
    for answer in [await cloud.fetch("GET", "/pos/orders", token=token),
                   await cloud.fetch("POST", "/pos/orders", order, token=token),
                   await cloud.fetch("POST", "/auth/login", {"email": "waiter@demo.test",
                                                             "password": "demo12345"})]:
        assert unavailable(answer), answer
    # Back: served again, with no restart.
    refuse(False)
    deadline = time.monotonic() + 5
    while (made := await cloud.fetch("POST", "/pos/orders", order, token=token)).status != 201:
        assert unavailable(made) and time.monotonic() < deadline, made
        await asyncio.sleep(0.2)
    assert (await cloud.fetch("GET", "/pos/orders", token=token)).status == 200
