"""Webhook delivery: while a webhook is set, queued updates are POSTed to it, as Telegram does.

Updates leave in update_id order, at most `max_connections` at once, each as a JSON body
with the `X-Telegram-Bot-Api-Secret-Token` header when a secret was set. A 2xx answer
confirms the update; anything else (another status, a refused connection, no answer in
time) leaves it queued, and delivery resumes after `retry_delay` seconds, starting again
from the oldest update. getWebhookInfo reports the last failure (`EmulatorState.webhook_error`).

Telegram only posts to https URLs; the tests' bots listen on plain http on 127.0.0.1.
`route_webhook` stands in for the TLS reverse proxy or load balancer between them: a
request to a public origin goes to its local targets in turn. Nothing else is reached: a
URL without a route fails as a host that cannot be resolved, so no test touches the
network.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from tgemu.state import DEFAULT_MAX_CONNECTIONS, EmulatorState

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(frozen=True)
class Delivery:
    """One POST of an update to the webhook, as `BotApiEmulator.deliveries` records it."""

    update_id: int
    url: str  # the registered URL
    target: str | None  # where the request went (None: no route to the URL)
    status: int | None  # the HTTP status answered, None when there was no answer
    error: str | None  # getWebhookInfo's last_error_message for a failed delivery, else None
    started: float  # time.monotonic()
    ended: float

    @property
    def ok(self) -> bool:
        return self.error is None


class _Route:
    """A public origin's local targets, taken in turn."""

    def __init__(self, targets: list[str]) -> None:
        self.targets = targets
        self._turn: Iterator[str] = itertools.cycle(targets)

    def next_target(self) -> str:
        return next(self._turn)


class WebhookDelivery:
    """The task that posts queued updates to the registered webhook."""

    def __init__(self, state: EmulatorState, *, retry_delay: float, timeout: float) -> None:
        self.state = state
        self.retry_delay = retry_delay
        self.timeout = timeout
        self.routes: dict[str, _Route] = {}
        self.deliveries: list[Delivery] = []
        self.in_flight = 0
        self._resume_at = 0.0
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._posts: set[asyncio.Task[None]] = set()

    def route(self, origin: str, targets: list[str]) -> None:
        """Requests to `origin` (scheme://host[:port]) go to `targets` in turn, with the same
        path and query."""
        if not targets:
            raise ValueError("a route needs at least one target")
        for target in targets:
            parts = urlsplit(target)
            if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost", "::1"):
                raise ValueError(f"a route's targets are local http origins, not {target!r}")
        self.routes[_origin(origin)] = _Route([t.rstrip("/") for t in targets])
        self.state.updates.wake()

    def start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            connector=aiohttp.TCPConnector(limit=0, force_close=True),
        )
        self._task = asyncio.create_task(self._run(), name="webhook delivery")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for post in list(self._posts):
            post.cancel()
        await asyncio.gather(*self._posts, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        updates = self.state.updates
        while True:
            webhook = self.state.webhook
            wait = 3600.0
            if webhook is not None:
                limit = int(webhook.get("max_connections", DEFAULT_MAX_CONNECTIONS))
                now = time.monotonic()
                if now < self._resume_at:
                    wait = self._resume_at - now
                elif self.in_flight < limit:
                    item = updates.take_next()
                    if item is not None:
                        self._post(item, dict(webhook))
                        continue
            await updates.until_changed(wait)

    def _post(self, item: Any, webhook: dict[str, Any]) -> None:
        self.in_flight += 1
        task = asyncio.create_task(self._deliver(item, webhook))
        self._posts.add(task)
        task.add_done_callback(self._posts.discard)

    async def _deliver(self, item: Any, webhook: dict[str, Any]) -> None:
        url = str(webhook["url"])
        started = time.monotonic()
        target, status, error = None, None, None
        try:
            target, status, error = await self._send(url, item.update, webhook.get("secret_token"))
        except asyncio.CancelledError:
            error = "the emulator stopped"
            raise
        except Exception as unexpected:  # a delivery that did not happen is never confirmed
            error = f"{type(unexpected).__name__}: {unexpected}"
        finally:
            self.in_flight -= 1
            self.deliveries.append(
                Delivery(item.update_id, url, target, status, error, started, time.monotonic())
            )
            if error is None:
                self.state.updates.confirm(item)
            else:
                self.state.webhook_error = (int(time.time()), error)
                self._resume_at = time.monotonic() + self.retry_delay
                self.state.updates.release(item)
            self.state.touch()

    async def _send(
        self, url: str, update: dict[str, Any], secret: str | None
    ) -> tuple[str | None, int | None, str | None]:
        """POST `update`: (where it went, the status, the error message or None if 2xx)."""
        parts = urlsplit(url)
        route = self.routes.get(_origin(url))
        if route is None:
            return None, None, "Failed to resolve host: Name or service not known"
        target = route.next_target()
        local = target + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {SECRET_HEADER: secret} if secret else {}
        assert self._session is not None
        try:
            async with self._session.post(local, json=update, headers=headers) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return target, response.status, None
                reason = f" {response.reason}" if response.reason else ""
                return (
                    target,
                    response.status,
                    f"Wrong response from the webhook: {response.status}{reason}",
                )
        except TimeoutError:
            return target, None, "Read timeout expired"
        except aiohttp.ClientConnectorError:
            return target, None, "Connection refused"
        except aiohttp.ClientError as error:
            return target, None, f"Connection failed: {type(error).__name__}"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        raise ValueError(f"not an absolute URL: {url!r}")
    default = {"https": 443, "http": 80}.get(parts.scheme)
    port = parts.port if parts.port is not None else default
    return f"{parts.scheme}://{parts.hostname.lower()}:{port}"
