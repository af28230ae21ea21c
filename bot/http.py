"""How the bot speaks HTTP to Telegram: python-telegram-bot's `BaseRequest` on aiohttp.

Why not PTB's own `HTTPXRequest`: every Bot API call is a small POST, and httpx spends
several times aiohttp's CPU on each (`python -m bench.http_request` compares them), a
cost paid on every answer; aiohttp is already a dependency (the live screen's server).
The semantics are HTTPXRequest's, so the rest of the bot cannot tell them apart:

- the same defaults (256 connections, read, write and connect 5 s, pool 1 s, uploads
  20 s to write), overridden per call, where `DEFAULT_NONE` means "this instance's
  default" and None means "no limit";
- the same bodies: parameters form-encoded, or `multipart/form-data` with the files when
  there are any (file names written as they are, not percent-encoded);
- the same errors: a time-out of any kind is `TimedOut`, any other failure of the
  exchange `NetworkError`; HTTP statuses are left to `BaseRequest`, which maps them
  (400 `BadRequest`, 429 `RetryAfter`...);
- the same proxy: the one the environment names (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`
  and their kin, read once per host, where aiohttp would read them again on every call).

Where aiohttp differs, the nearest bound: it has one time-out for waiting for a free
connection and opening one, so a call may wait for the pool up to pool + connect
time-outs; and it has no write time-out, so a request with a body gets a deadline for
the whole exchange, pool + connect + write + read (the read alone is still bounded
between two chunks of the answer, from the moment the request is sent). A GET (a file
download) has no body to write and no overall deadline, so a large file is not cut short
while it keeps arriving.
"""

from __future__ import annotations

from urllib.parse import urlencode

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


class AiohttpRequest(BaseRequest):
    """One aiohttp session, opened in `initialize` (inside the running loop) and closed in
    `shutdown`; a bot needs two, as python-telegram-bot does: one for its calls and one for
    the long poll (`connection_pool_size=1`, whose read time-out `Bot.get_updates` extends
    by the poll's own)."""

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_proxies",
        "_read_timeout",
        "_session",
        "_timeouts",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        # Built once per combination: nearly every call uses the defaults.
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}
        # Per scheme and host: the proxy and its headers, or None to go direct.
        self._proxies: dict[str, tuple[URL, dict[str, str]] | None] = {}

    @property
    def read_timeout(self) -> float | None:
        """The read time-out used when a call does not give one."""
        return self._read_timeout

    @property
    def is_closed(self) -> bool:
        """Whether there is no open session (before `initialize`, after `shutdown`)."""
        return self._session is None or self._session.closed

    async def initialize(self) -> None:
        """Open the session, in the running loop (aiohttp binds it to the loop)."""
        if not self.is_closed:
            return
        connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0)
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": self.USER_AGENT},
            # Telegram sets no cookies: skip the jar's work on every call.
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def shutdown(self) -> None:
        """Close the session and its connections; `initialize` opens a new one."""
        if self._session is None:
            return
        session, self._session = self._session, None
        if not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """See `BaseRequest.do_request`: the status and the raw body of Telegram's answer."""
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data is not None and request_data.contains_files
        if isinstance(read_timeout, DefaultValue):
            read_timeout = self._read_timeout
        if isinstance(connect_timeout, DefaultValue):
            connect_timeout = self._connect_timeout
        if isinstance(pool_timeout, DefaultValue):
            pool_timeout = self._pool_timeout
        if isinstance(write_timeout, DefaultValue):
            write_timeout = self._media_write_timeout if files else self._write_timeout
        body: aiohttp.FormData | bytes | None = None
        headers = None
        if request_data is not None:
            if files:
                body = _multipart(request_data)
            elif parameters := request_data.json_parameters:
                body = urlencode(parameters).encode()
                headers = FORM_HEADERS
        # Only a request with a body has a write to bound (see the module's docstring).
        timeout = self._timeout(
            read_timeout, write_timeout if body is not None else None, connect_timeout, pool_timeout
        )
        proxy, proxy_headers = self._proxy(url) or (None, None)
        try:
            async with session.request(
                method,
                url,
                data=body,
                headers=headers,
                timeout=timeout,
                proxy=proxy,
                proxy_headers=proxy_headers,
            ) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as error:
            raise TimedOut(
                message=(
                    "Pool or connect timeout: no connection to Telegram was free or could be"
                    " opened in time. Request was *not* sent to Telegram."
                )
            ) from error
        except TimeoutError as error:
            # aiohttp's read time-out (a ServerTimeoutError) and the overall deadline.
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{error.__class__.__name__}: {error}") from error

    def _timeout(
        self,
        read: float | None,
        write: float | None,
        connect: float | None,
        pool: float | None,
    ) -> aiohttp.ClientTimeout:
        """aiohttp's time-outs for PTB's four (None: no limit; `write` None: no body)."""
        key = (read, write, connect, pool)
        timeout = self._timeouts.get(key)
        if timeout is None:
            if len(self._timeouts) >= 64:  # calls that each give their own: keep it small
                self._timeouts.clear()
            # aiohttp's `connect` covers waiting for a free connection and opening one.
            acquire = None if pool is None or connect is None else pool + connect
            deadline = (
                None if write is None or read is None or acquire is None else acquire + write + read
            )
            timeout = aiohttp.ClientTimeout(
                total=deadline, connect=acquire, sock_connect=connect, sock_read=read
            )
            self._timeouts[key] = timeout
        return timeout

    def _proxy(self, url: str) -> tuple[URL, dict[str, str]] | None:
        """The environment's proxy for `url`'s host, looked up on its first call."""
        end = url.find("/", url.find("//") + 2)
        origin = url if end < 0 else url[:end]
        if origin in self._proxies:
            return self._proxies[origin]
        try:
            proxy, auth = get_env_proxy_for_url(URL(url))
        except LookupError:
            found = None
        else:
            found = (proxy, {"Proxy-Authorization": auth.encode()} if auth else {})
        self._proxies[origin] = found
        return found


def _multipart(request_data: RequestData) -> aiohttp.FormData:
    """The parameters then the files, as `multipart/form-data`, like HTTPXRequest."""
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (file_name, content, mime_type) in request_data.multipart_data.items():
        form.add_field(name, content, filename=file_name, content_type=mime_type)
    return form
