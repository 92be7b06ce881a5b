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
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ParamSpec, TypeVar

from parlez.exceptions import ParlezError

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


#: where cgroup v2 puts a container's CPU limit ("<quota> <period>", or "max <period>")
CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


class ThreadsError(ParlezError):
    code = "P333"


def usable_cpus(cpu_max: Path = CPU_MAX) -> int:
    """The CPUs this process may use: its affinity, capped by a container's CPU limit
    (cgroup v2's `cpu.max`), which torch does not read: in a pod limited to 1 CPU on a
    16-core node it would start 16 threads a message."""
    affinity = getattr(os, "sched_getaffinity", None)  # Linux; elsewhere, every CPU
    count = len(affinity(0)) if affinity is not None else os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text().split()[:2]
        if quota != "max":
            count = min(count, max(1, int(quota) // int(period)))
    except (OSError, ValueError):
        pass
    return count


def torch_threads() -> int | None:
    """How many threads torch may use for one message: `PARLEZ_TORCH_THREADS` when set;
    None when `OMP_NUM_THREADS` is (torch follows it itself); else `usable_cpus()`.

    Replicas sharing one machine must share its cores: two replicas on 2 cores, each with
    2 threads, served 7.6 messages/s together, and 62.8 with 1 thread each (bench/README.md
    "Server"); one replica alone serves the same either way."""
    given = os.environ.get("PARLEZ_TORCH_THREADS", "").strip()
    if given:
        if not given.isdigit() or int(given) < 1:
            raise ThreadsError(
                f"PARLEZ_TORCH_THREADS is '{given}'; it must be a whole number of at least 1",
                hint="with several replicas on one machine: its cores divided by the replicas",
            )
        return int(given)
    if os.environ.get("OMP_NUM_THREADS"):
        return None
    return usable_cpus()


def model_threads() -> int:
    """How many threads a model may use for one message in runtimes other than torch (ONNX
    Runtime): what torch is given, `OMP_NUM_THREADS` included."""
    count = torch_threads()
    if count is None:
        given = os.environ.get("OMP_NUM_THREADS", "").strip()
        count = int(given) if given.isdigit() and int(given) > 0 else usable_cpus()
    return count


def limit_torch_threads() -> int | None:
    """Apply `torch_threads()` on the inference thread (OpenMP's count is per thread that
    starts parallel work); the number set, or None when left to OMP_NUM_THREADS."""
    count = torch_threads()
    if count is not None:
        import torch

        run_on_inference_thread(torch.set_num_threads, count)
    return count
