# -*- coding: utf-8 -*-
"""Python 3 only: a task whose coroutine awaits a coroutine that iterates an
async generator that awaits a coroutine that blocks the whole thread."""
import asyncio

import sstarget


async def innermost():
    sstarget.park()  # @coro-innermost


async def agen():
    await innermost()  # @agen
    yield 1


async def middle():
    async for _ in agen():  # @coro-middle
        pass


async def outer():
    await middle()  # @coro-outer


def run():
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    task = loop.create_task(outer())
    loop.run_until_complete(task)  # @run-until-complete
