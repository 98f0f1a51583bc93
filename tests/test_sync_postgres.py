"""Sync with the cloud on PostgreSQL: the edge<->cloud tests of tests/test_sync.py
and chaos tests of tests/test_sync_chaos.py, run again over the real server
(tests/pgserver.py; skipped with the reason when there is none)."""

import asyncio
import time

import pytest

from protocol import models
from test_sync import *  # noqa: F401,F403
from test_sync import enrolled, eventually, pusher  # noqa: F401
from test_sync_chaos import cluster  # noqa: F401


@pytest.fixture
def cloud_database(postgres_cloud_database):
    return postgres_cloud_database
from test_sync_chaos import (test_a_refusal_whose_answer_was_lost_is_still_parked_at_the_edge,  # noqa: F401,E402
                             test_an_outage_of_the_cloud_then_reconnection,
                             test_kill_9_of_the_edge_and_the_cloud_during_2000_orders)


async def test_a_change_behind_an_open_transaction_reaches_the_edge_once_it_ends(
        enrolled, demo, cloud_database):
    """A price change commits at the cloud while another connection's transaction,
    begun before it, is still open: the feed holds it back (it sits above the
    watermark) and hands it to the waiting long poll as soon as that transaction
    ends, though no commit of the cloud's own says so."""
    import psycopg2
    cloud, edge = enrolled
    salmon = demo["items"]["Downtown"]["Grilled Salmon"]
    waiter = await edge.login("waiter@demo.test")
    blocker = psycopg2.connect(cloud_database)
    try:
        with blocker.cursor() as cursor:     # takes a transaction id, and keeps it open
            cursor.execute("INSERT INTO sync_state (key, value) VALUES ('blocker', '1')")

        def raise_price():
            models.MenuItemPrice.update(final_price=27).where(
                models.MenuItemPrice.menu_item == salmon).execute()
            models.MenuItem.update(price=27).where(models.MenuItem.id == salmon).execute()
        cloud.node.store.call(raise_price)

        async def price():
            return (await edge.fetch("GET", "/pos/items/%d" % salmon, token=waiter)).body["price"]
        await asyncio.sleep(1.5)
        assert await price() != 27                  # held back behind the open transaction
        blocker.commit()
        ended = time.monotonic()
        # well before the long poll's own end (25 s) would have brought it
        await eventually(lambda: price_is(price, 27), timeout=6.0)
        assert time.monotonic() - ended < 6.0
    finally:
        blocker.close()


async def price_is(price, value):
    return await price() == value
