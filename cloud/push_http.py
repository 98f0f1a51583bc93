"""The HTTP client the cloud's push services share: aiohttp, keeping connections to each
push service open (a push is one POST; opening a connection for each would cost more than
encrypting it), at most ``limit`` requests at once."""

import asyncio
import dataclasses

import aiohttp

TIMEOUT = 30


@dataclasses.dataclass
class Answer:
    code: int           # 599: no answer (refused, reset, timed out)
    headers: dict
    text: str


class PushHttp:
    def __init__(self, limit):
        self.limit = limit
        self._session = None

    def _open(self):
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.limit, limit_per_host=self.limit),
                timeout=aiohttp.ClientTimeout(total=TIMEOUT), auto_decompress=True)
        return self._session

    async def post(self, url, body, headers):
        try:
            async with self._open().post(url, data=body, headers=headers,
                                         allow_redirects=False) as resp:
                text = (await resp.read()).decode("utf-8", "replace")
                return Answer(resp.status, dict(resp.headers), text.strip())
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            return Answer(599, {}, "no answer: %s" % (str(exc) or type(exc).__name__))

    async def close(self):
        if self._session is not None:
            await self._session.close()
            self._session = None
