"""What one Bot API call costs the bot in CPU: python-telegram-bot's `HTTPXRequest`
against the bot's `AiohttpRequest` (`bot/http.py`), side by side.

The Bot API emulator runs in a process of its own (its CPU is not counted); this
process sends `--calls` sendMessage to one chat, one at a time and then `--concurrency`
at once, through each client in turn, in `--rounds` alternating rounds (so that a busy
neighbour on the machine weighs on both alike), and reports the median round: calls a
second (wall time, which includes the emulator's share) and this process's CPU per call.
Two levels: `Bot.send_message` (what the bot pays: the request built, sent, the answer
parsed into a `Message`) and the client's `do_request` alone (the HTTP exchange).

    .venv/bin/python -m bench.http_request --calls 2000 --concurrency 32 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import platform
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection

import telegram
from telegram.request import BaseRequest, HTTPXRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bench.journey import _cpu
from bot.http import AiohttpRequest
from tgemu import BotApiEmulator

CHAT = 1001
TEXT = "Question 3 sur 12 — « Quelle confiance accordez-vous aux autres acteurs ? »"
CLIENTS: dict[str, Callable[[], BaseRequest]] = {
    "httpx": HTTPXRequest,
    "aiohttp": AiohttpRequest,
}


@dataclass
class Figure:
    client: str
    level: str
    mode: str
    calls: int
    wall: float
    cpu: float

    @property
    def per_second(self) -> float:
        return self.calls / self.wall

    @property
    def cpu_us(self) -> float:
        return self.cpu / self.calls * 1e6


def serve(pipe: Connection) -> None:
    """The emulator's process: serve until the parent says stop."""

    async def main() -> None:
        async with BotApiEmulator() as emulator:
            await emulator.user(CHAT).send("bonjour")
            pipe.send((emulator.base_url, emulator.token))
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, pipe.recv)
            pipe.send(len(emulator.calls))

    asyncio.run(main())


async def timed(client: str, level: str, mode: str, calls: int, work: Awaitable[None]) -> Figure:
    wall, cpu = time.perf_counter(), time.process_time()
    await work
    return Figure(client, level, mode, calls, time.perf_counter() - wall, time.process_time() - cpu)


async def measure(
    client: str, base_url: str, token: str, *, calls: int, concurrency: int
) -> list[Figure]:
    request = CLIENTS[client]()
    bot = telegram.Bot(token, base_url=base_url, request=request)
    url = f"{base_url}{token}/sendMessage"
    data = RequestData(
        [RequestParameter.from_input("chat_id", CHAT), RequestParameter.from_input("text", TEXT)]
    )

    async def send(count: int) -> None:
        for _ in range(count):
            await bot.send_message(CHAT, TEXT)

    async def exchange(count: int) -> None:
        for _ in range(count):
            status, _body = await request.do_request(url, "POST", data)
            assert status == 200

    async def at_once(one: Callable[[int], Awaitable[None]]) -> None:
        share, rest = divmod(calls, concurrency)
        await asyncio.gather(*(one(share + (i < rest)) for i in range(concurrency)))

    figures = []
    async with bot:
        await send(50)  # warm: connections open, code paths taken
        await exchange(50)
        for level, one in (("send_message", send), ("do_request", exchange)):
            figures.append(await timed(client, level, "1 at a time", calls, one(calls)))
            figures.append(
                await timed(client, level, f"{concurrency} at once", calls, at_once(one))
            )
    return figures


async def run(base_url: str, token: str, args: argparse.Namespace) -> list[Figure]:
    rounds: list[Figure] = []
    for _ in range(args.rounds):
        for client in CLIENTS:
            rounds += await measure(
                client, base_url, token, calls=args.calls, concurrency=args.concurrency
            )
    return rounds


def median(figures: list[Figure]) -> Figure:
    """The round with the median CPU per call."""
    ordered = sorted(figures, key=lambda f: f.cpu_us)
    return ordered[len(ordered) // 2]


def report(figures: list[Figure], args: argparse.Namespace) -> None:
    print(
        f"{args.calls} sendMessage per measure, median of {args.rounds} rounds;"
        f" {_cpu()}, Python {platform.python_version()}"
    )
    print(f"{'level':<13} {'mode':<12} {'client':<8} {'calls/s':>8} {'CPU µs/call':>12}")
    keys = dict.fromkeys((f.level, f.mode) for f in figures)
    for level, mode in keys:
        by_client = {
            client: median(
                [f for f in figures if (f.level, f.mode, f.client) == (level, mode, client)]
            )
            for client in CLIENTS
        }
        for client, figure in by_client.items():
            print(
                f"{level:<13} {mode:<12} {client:<8} {figure.per_second:>8.0f}"
                f" {figure.cpu_us:>12.0f}"
            )
        ratio = by_client["httpx"].cpu_us / by_client["aiohttp"].cpu_us
        print(f"{'':<13} {'':<12} {'httpx/aiohttp CPU':>21} {ratio:>8.2f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    parent, child = multiprocessing.Pipe()
    emulator = multiprocessing.get_context("spawn").Process(target=serve, args=(child,))
    emulator.start()
    try:
        base_url, token = parent.recv()
        figures = asyncio.run(run(base_url, token, args))
        parent.send("stop")
        answered = parent.recv()
    finally:
        emulator.join(timeout=10)
        if emulator.is_alive():
            emulator.terminate()
    report(figures, args)
    print(f"the emulator answered {answered} calls")


if __name__ == "__main__":
    main()
