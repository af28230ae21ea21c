"""The HTTP face of the emulator: a Bot API server on 127.0.0.1 for a real bot to talk to.

Point python-telegram-bot at it with
`ApplicationBuilder().base_url(emulator.base_url).base_file_url(emulator.base_file_url)`.
Every request is decoded (form, multipart, JSON body or query string), checked against
api.json, answered like Telegram, and recorded in `calls` (and in `rejected` when
refused), so a test can assert that the bot never made a call Telegram would refuse.
A test can also make calls time out (`time_out`), as on a bad network, or fail with a
5xx (`fail`), as when Telegram's servers are in trouble. While a webhook is set, updates
are posted to it instead (webhook.py), through `route_webhook`'s stand-in for the load
balancer.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aiohttp import BodyPartReader, hdrs, web

from tgemu.errors import ApiError, CallTimedOut, ServerFailed
from tgemu.methods import RATE_LIMITED, BotMethods
from tgemu.models import ApiCall, UploadedFile
from tgemu.state import DEFAULT_SCOPE, CommandsKey, EmulatorState, PlannedFailure
from tgemu.users import EmulatedUser
from tgemu.webhook import Delivery, WebhookDelivery

log = logging.getLogger(__name__)
# Seconds `wait_idle` waits for a bot to confirm updates it fetched (by its next poll):
# until then it may still be handing them to its queue, slowly on a loaded machine; a bot
# that went away without confirming them is not waited for longer.
UNCONFIRMED_GRACE = 3.0

# How long a superseded long poll waits to see whether its client is really still there
# (a bot that just stopped polling closes its connection a moment later).
_SUPERSEDED_GRACE = 0.1
# How often a held call looks whether its client has given up.
_HOLD_POLL = 0.02
TIMED_OUT = "no answer: the call was held until the client gave up"


class BotApiEmulator:
    """A strict, in-process Telegram Bot API server with emulated users."""

    def __init__(
        self,
        *,
        token: str = "123456:TEST-token",
        bot_username: str = "coopbot_test_bot",
        bot_id: int = 123456,
        host: str = "127.0.0.1",
        port: int = 0,
        chat_rate: tuple[int, float] | None = None,
        global_rate: tuple[int, float] | None = None,
        retry_after: int = 1,
        bot_first_name: str = "Coopbot",
        first_update_id: int | None = None,
        latency: float = 0.0,
        max_hold: float = 30.0,
        webhook_retry_delay: float = 5.0,
        webhook_timeout: float = 10.0,
    ) -> None:
        """`chat_rate=(n, s)`: at most n messages sent or edited per chat within s seconds
        (`global_rate` likewise over all chats); beyond, 429 with `retry_after` seconds.
        `first_update_id` makes update ids reproducible (random-ish by default).
        `latency` delays every answer but getUpdates' by that many seconds, like the
        round trip to Telegram's servers (benchmarks use it).
        `max_hold` bounds how long a call made to time out (`time_out`) waits for its
        client to give up: then the connection is closed unanswered, so no test hangs.
        `webhook_retry_delay`: after a failed webhook delivery, how many seconds pass before
        the next attempt (tests make it short); `webhook_timeout`: how long a delivery
        waits for the bot's answer before it counts as failed."""
        self.state = EmulatorState(
            token=token,
            bot_username=bot_username,
            bot_id=bot_id,
            bot_first_name=bot_first_name,
            chat_rate=chat_rate,
            global_rate=global_rate,
            retry_after=retry_after,
            first_update_id=first_update_id,
        )
        self.host = host
        self._busy_probes: list[Callable[[], bool]] = []
        self.latency = latency
        self.max_hold = max_hold
        self._requested_port = port
        self.port: int | None = None
        self._methods = BotMethods(self.state)
        self._runner: web.AppRunner | None = None
        self._webhook = WebhookDelivery(
            self.state, retry_delay=webhook_retry_delay, timeout=webhook_timeout
        )

    # Identity and addresses.

    @property
    def token(self) -> str:
        return self.state.token

    @property
    def bot_username(self) -> str:
        return self.state.bot_username

    @property
    def bot_id(self) -> int:
        return self.state.bot_id

    @property
    def base_url(self) -> str:
        """The Bot API base URL; python-telegram-bot appends the token and method."""
        return f"{self._origin()}/bot"

    @property
    def base_file_url(self) -> str:
        """The file download base URL; python-telegram-bot appends the token and path."""
        return f"{self._origin()}/file/bot"

    def _origin(self) -> str:
        if self.port is None:
            raise RuntimeError("the emulator is not started: use `async with BotApiEmulator()`")
        return f"http://{self.host}:{self.port}"

    # What tests read.

    @property
    def calls(self) -> list[ApiCall]:
        """Every call received, in the order they were answered."""
        return self.state.calls

    @property
    def rejected(self) -> list[ApiCall]:
        """The calls answered with an error (400, 401, 403, 404, 409, 429...)."""
        return self.state.rejected

    @property
    def timed_out(self) -> list[ApiCall]:
        """The calls held unanswered by `time_out`; not in `rejected`: Telegram refused
        nothing, the network failed."""
        return self.state.timed_out

    @property
    def failed(self) -> list[ApiCall]:
        """The calls answered with a 5xx by `fail`; not in `rejected` either: the call was
        right, Telegram's side failed."""
        return self.state.failed

    @property
    def deliveries(self) -> list[Delivery]:
        """Every webhook delivery attempt, in the order they ended."""
        return self._webhook.deliveries

    @property
    def webhook_in_flight(self) -> int:
        """Webhook deliveries waiting for the bot's answer."""
        return self._webhook.in_flight

    @property
    def commands(self) -> dict[CommandsKey, list[dict[str, str]]]:
        """Command menus by (scope key, language code); see `state.scope_key`."""
        return self.state.commands

    @property
    def users(self) -> dict[int, EmulatedUser]:
        return self.state.users

    def visible_commands(self, user_id: int) -> list[dict[str, str]]:
        """The menu a user sees in their private chat, by Telegram's scope precedence."""
        user = self.state.users.get(user_id)
        language = ((user.language_code if user else None) or "").split("-")[0].lower()
        scopes = [(("chat_id", user_id), ("type", "chat")), (("type", "all_private_chats"),)]
        for scope in [*scopes, DEFAULT_SCOPE]:
            for code in ([language] if language else []) + [""]:
                if (scope, code) in self.state.commands:
                    return list(self.state.commands[(scope, code)])
        return []

    # What tests do.

    def user(
        self,
        user_id: int,
        *,
        first_name: str = "Test",
        language_code: str | None = "fr",
        username: str | None = None,
    ) -> EmulatedUser:
        """The emulated user with this id (the same object on every call)."""
        return self.state.user(
            user_id, first_name=first_name, language_code=language_code, username=username
        )

    def block(self, user_id: int, *, notify: bool = False) -> None:
        """The user blocks the bot: sends to their chat now fail with 403.

        With `notify`, the bot also gets the my_chat_member update Telegram sends.
        """
        self.state.blocked.add(self.user(user_id).id)
        if notify:
            self._member_update(user_id, old="member", new="kicked")

    def unblock(self, user_id: int, *, notify: bool = False) -> None:
        self.state.blocked.discard(user_id)
        if notify:
            self._member_update(user_id, old="kicked", new="member")

    def time_out(self, user_id: int, *, times: int = 1, method: str | None = None) -> None:
        """The next `times` calls that send or edit a message in this user's chat (of
        `method` only, if given) get no answer, as on a failing network: each is checked as
        usual (a call Telegram would refuse is still refused), then held until the client
        gives up waiting (its read timeout; at most `max_hold` seconds), and delivers
        nothing. They are recorded in `calls` and `timed_out`, never in `rejected`. Adds to
        any time-outs or failures still due."""
        if times < 1:
            raise ValueError("times must be at least 1")
        if method is not None and method not in RATE_LIMITED:
            raise ValueError(f"only calls that send or edit a message time out, not {method}")
        uid = self.user(user_id).id
        self.state.failures.append(PlannedFailure(times, method, uid, None))

    def fail(
        self,
        *,
        times: int = 1,
        method: str | None = None,
        user_id: int | None = None,
        status: int = 502,
    ) -> None:
        """The next `times` calls (of `method`, if given; in `user_id`'s chat, if given;
        getUpdates only when named) are answered with HTTP `status`, a 5xx, as Telegram
        does when its servers fail (502 "Bad Gateway"), and have no effect. A call that
        sends or edits a message is checked in full first, any other call its parameters
        (a call Telegram would refuse is still refused, and the failure stays due). They
        are recorded in `calls` and `failed`, never in `rejected`. Adds to any time-outs or
        failures still due."""
        if times < 1:
            raise ValueError("times must be at least 1")
        if not 500 <= status <= 599:
            raise ValueError("a server failure is a 5xx status")
        if method is not None and method not in self.state.spec.methods:
            raise ValueError(f"{method} is not a Bot API method")
        uid = self.user(user_id).id if user_id is not None else None
        self.state.failures.append(PlannedFailure(times, method, uid, status))

    def _member_update(self, user_id: int, *, old: str, new: str) -> None:
        user = self.user(user_id)
        bot = self.state.bot_user()

        def member(status: str) -> dict[str, Any]:
            # A banned member ("kicked") always carries until_date (0: for ever).
            return {
                "user": bot,
                "status": status,
                **({"until_date": 0} if status == "kicked" else {}),
            }

        self.push_update(
            {
                "my_chat_member": {
                    "chat": user.as_chat(),
                    "from": user.as_user(),
                    "date": int(time.time()),
                    "old_chat_member": member(old),
                    "new_chat_member": member(new),
                }
            }
        )

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue a raw update (numbered unless it has an update_id); returns its update_id."""
        return self.state.push_update(copy.deepcopy(update))

    def redeliver(self, update_id: int) -> None:
        """Deliver an already delivered update again, same update_id, as after a crash."""
        self.state.updates.redeliver(update_id)
        self.state.touch()

    def route_webhook(self, origin: str, targets: list[str]) -> None:
        """Stand in for the TLS reverse proxy or load balancer in front of the bot: webhook
        deliveries to the public `origin` (such as https://bot.example.org) go to the local
        http `targets` in turn (round robin), with the same path. A target that refuses
        the connection is a failed delivery, retried (on the next target). Replaces any
        route of that origin."""
        self._webhook.route(origin, targets)

    def watch(self, busy: Callable[[], bool]) -> Callable[[], None]:
        """Make `wait_idle` also wait while `busy()` is true (say, while the bot is still
        handling an update, between two calls). Returns a function that stops watching."""
        self._busy_probes.append(busy)
        return lambda: self._busy_probes.remove(busy)

    async def wait_idle(self, quiet: float = 0.15, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Return once the bot has fetched every queued update (with a webhook: every one
        was delivered and answered), every watched probe says it is not busy, and it made
        no call for `quiet` seconds: it is done reacting.
        Raises TimeoutError after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            updates = self.state.updates
            # Fetched but not yet confirmed by the next poll's offset: the bot may still be
            # handing them to its queue, where a probe would see them. A bot that went away
            # without confirming them is not waited for long.
            unconfirmed = updates.pending - updates.undelivered
            busy = (
                updates.undelivered
                or (unconfirmed and now - updates.last_delivery < UNCONFIRMED_GRACE)
                or self.state.in_flight
                or self._webhook.in_flight
                or any(probe() for probe in self._busy_probes)
            )
            since = now - max(self.state.last_activity, self.state.updates.last_delivery)
            if not busy and since >= quiet:
                return
            if now >= deadline:
                raise TimeoutError(
                    f"the bot was not idle within {timeout}s: "
                    f"{self.state.updates.undelivered} update(s) not fetched, "
                    f"{self.state.in_flight} call(s) in progress, "
                    f"{self._webhook.in_flight} webhook delivery(ies) unanswered"
                )
            pause = 0.01 if busy else quiet - since
            await asyncio.sleep(min(max(pause, 0.005), deadline - now))

    async def wait_polling(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Return once the bot is in a long poll, i.e. ready for the next update."""
        async with asyncio.timeout(timeout):
            await self.state.updates.until_polled()

    # Serving.

    async def start(self) -> None:
        """Bind (port 0 picks a free port) and serve until `stop`."""
        if self._runner is not None:
            raise RuntimeError("the emulator is already started")
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        # Cancelling handlers whose client went away stops a stale long poll from
        # taking updates meant for the next one.
        runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        self._webhook.start()

    async def stop(self) -> None:
        """Answer waiting polls, close connections, release the port."""
        if self._runner is None:
            return
        self.state.updates.close()
        await self._webhook.stop()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        polling = method == "getUpdates"
        if not polling:
            self.state.in_flight += 1
            self.state.touch()
        raw: dict[str, Any] = {}
        uploads: dict[str, UploadedFile] = {}
        params: dict[str, Any] = {}
        try:
            if request.match_info["token"] != self.state.token:
                raise ApiError(401, "Unauthorized")
            if method not in self.state.spec.methods:
                raise ApiError(404, "Not Found")
            if not self._methods.supports(method):
                raise ApiError.bad_request("method not supported by the emulator")
            raw, uploads = await _read_params(request)
            if self.latency and not polling:
                await asyncio.sleep(self.latency)
            self.state.spec.decode(method, raw, uploads, params)
            if method not in RATE_LIMITED:  # a message call meets its failure once checked
                chat_id = params.get("chat_id")
                self.state.admit_call(method, chat_id if isinstance(chat_id, int) else None)
            result = await self._methods.call(method, params)
        except CallTimedOut:
            return await self._hold(request, method, params)
        except ServerFailed as server_failure:
            call = ApiCall(
                method=method,
                params=params,
                ok=False,
                error=server_failure.description,
                error_code=server_failure.code,
                at=time.monotonic(),
            )
            self.state.calls.append(call)
            self.state.failed.append(call)
            return web.json_response(server_failure.payload(), status=server_failure.code)
        except ApiError as error:
            if error.code == 409 and polling and await _client_gone(request):
                return web.Response(status=409)  # a stale poll: nobody is listening
            self._record(method, {**raw, **uploads, **params}, error=error)
            return web.json_response(error.payload(), status=error.code)
        except Exception:
            log.exception("emulator bug while answering %s", method)
            failure = ApiError(500, "Internal Server Error: emulator bug, see the log")
            self._record(method, {**raw, **uploads, **params}, error=failure)
            return web.json_response(failure.payload(), status=500)
        finally:
            if not polling:
                self.state.in_flight -= 1
                self.state.touch()
        self._record(method, params, result=result)
        return web.json_response({"ok": True, "result": result})

    async def _hold(
        self, request: web.Request, method: str, params: dict[str, Any]
    ) -> web.StreamResponse:
        """Answer nothing until the client gives up (or `max_hold` passes, then hang up),
        and record the call as timed out. The method checked it and stopped short of its
        effect (`CallTimedOut`), so nothing is delivered, as when Telegram never got it."""
        deadline = time.monotonic() + self.max_hold
        try:
            # The server cancels this handler when the client disconnects; the loop also
            # sees a closing transport, in case the cancellation has not landed yet.
            while time.monotonic() < deadline:
                transport = request.transport
                if transport is None or transport.is_closing():
                    break
                await asyncio.sleep(_HOLD_POLL)
            else:
                log.warning(
                    "%s held %ss and its client still waits: hanging up", method, self.max_hold
                )
                if request.transport is not None:
                    request.transport.close()
        finally:
            call = ApiCall(
                method=method,
                params=params,
                ok=False,
                error=TIMED_OUT,
                at=time.monotonic(),
                timed_out=True,
            )
            self.state.calls.append(call)
            self.state.timed_out.append(call)
        return web.Response(status=504)  # nobody reads it: the connection is gone

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        *,
        result: Any = None,
        error: ApiError | None = None,
    ) -> None:
        call = ApiCall(
            method=method,
            params=params,
            ok=error is None,
            error=error.description if error else None,
            error_code=error.code if error else None,
            result=result,
            at=time.monotonic(),
        )
        self.state.calls.append(call)
        if error is not None:
            self.state.rejected.append(call)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.state.token:
            return web.json_response(ApiError(401, "Unauthorized").payload(), status=401)
        stored = self.state.file_by_path(request.match_info["path"])
        if stored is None or stored.data is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    async def _handle_unknown(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(ApiError(404, "Not Found").payload(), status=404)


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """The call's parameters from the query string and the body, whatever its encoding."""
    raw: dict[str, Any] = dict(request.query)
    uploads: dict[str, UploadedFile] = {}
    if not request.body_exists:
        return raw, uploads
    if request.content_type == "application/json":
        try:
            body = json.loads(await request.text())
        except ValueError:
            raise ApiError.bad_request("can't parse JSON request body") from None
        if not isinstance(body, dict):
            raise ApiError.bad_request("the JSON request body must be an object")
        raw.update(body)
    elif request.content_type == "multipart/form-data":
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise ApiError.bad_request("nested multipart bodies are not supported")
            name = part.name or ""
            if part.filename is None:
                raw[name] = await part.text()
            else:
                content_type = part.headers.get(hdrs.CONTENT_TYPE, "application/octet-stream")
                data = bytes(await part.read())
                uploads[name] = UploadedFile(name, part.filename, content_type, data)
    else:
        form = await request.post()
        raw.update({key: value for key, value in form.items() if isinstance(value, str)})
    return raw, uploads


async def _client_gone(request: web.Request) -> bool:
    """Whether the client of a superseded long poll has gone (so no 409 is owed)."""
    await asyncio.sleep(_SUPERSEDED_GRACE)
    transport = request.transport
    return transport is None or transport.is_closing()
