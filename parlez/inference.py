"""One thread for the models: loading them and running them (NLU, dialogue policies, the
knowledge base's encoder).

torch gives each thread that runs parallel work its own OpenMP team. A model loaded on one
thread and run on another, or parsing on a worker thread while the event loop's thread
predicts the next action, was measured 2-2.5x slower than all of it on one thread (a
moodbot parse: 5.6 ms on the loading thread, 13-15 ms on another, 2 cores). So everything
torch does for a served assistant happens on this thread, and the event loop stays free
for other conversations meanwhile.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_NAME = "parlez-inference"
_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix=_NAME)


def on_inference_thread() -> bool:
    return threading.current_thread().name.startswith(_NAME)


def run_on_inference_thread(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`function(*args, **kwargs)` on the inference thread, waited for (from sync code)."""
    if on_inference_thread():
        return function(*args, **kwargs)
    return _EXECUTOR.submit(function, *args, **kwargs).result()


async def infer(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`function(*args, **kwargs)` on the inference thread, awaited."""
    if on_inference_thread():
        return function(*args, **kwargs)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_EXECUTOR, functools.partial(function, *args, **kwargs))
