"""A wake-up that any thread can ring and coroutines on one loop can wait for."""

import asyncio


class Signal:
    def __init__(self, loop=None):
        self._loop = loop or asyncio.get_event_loop()
        self._waiters = set()

    def ring(self):
        """Wake every current waiter (safe from any thread)."""
        try:
            self._loop.call_soon_threadsafe(self._wake)
        except RuntimeError:        # the loop has closed: nobody is waiting
            pass

    def _wake(self):
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(True)
        self._waiters.clear()

    async def wait(self, timeout=None):
        """True if rung within timeout seconds (None: until rung). (Not
        asyncio.wait_for: on Python 3.11 it can swallow a cancellation that races
        with the ring.)"""
        waiter = self._loop.create_future()
        timer = None if timeout is None else self._loop.call_later(
            timeout, lambda: waiter.done() or waiter.set_result(False))
        self._waiters.add(waiter)
        try:
            return await waiter
        finally:
            if timer is not None:
                timer.cancel()
            self._waiters.discard(waiter)
