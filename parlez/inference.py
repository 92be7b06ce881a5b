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
import logging
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from parlez.exceptions import ParlezError

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

_NAME = "parlez-inference"
_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix=_NAME)


def on_inference_thread() -> bool:
    return threading.current_thread().name.startswith(_NAME)


def run_on_inference_thread(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`function(*args, **kwargs)` on the inference thread, waited for (from sync code)."""
    return start_on_inference_thread(function, *args, **kwargs).result()


def start_on_inference_thread(
    function: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> Future[T]:
    """`function(*args, **kwargs)` started on the inference thread, not waited for (on it
    already: run now, its future done)."""
    if not on_inference_thread():
        return _EXECUTOR.submit(function, *args, **kwargs)
    done: Future[T] = Future()
    try:
        done.set_result(function(*args, **kwargs))
    except BaseException as error:
        done.set_exception(error)
    return done


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


#: the ONNX operator set models are exported with (ONNX Runtime reads it and every later one)
ONNX_OPSET = 17


def open_session(model: bytes | Path) -> Any:
    """An ONNX Runtime session for an exported model (the language model, DIET's network) on
    `model_threads()` threads.

    Its threads sleep between runs instead of spinning as ONNX Runtime's do by default:
    spinning, the encoder's took the cores from DIET's step right after it (a SNIPS parse's
    p99 15 ms -> 61-65 ms, its p50 no better). The graph is optimised up to ONNX Runtime's
    "extended" level (the attention, layer norm and GELU fusions): the last level, memory
    layouts for convolutions, changes no number here and made the encoder's session open in
    0.26 s instead of 0.12, and run no faster (4.9 against 4.5-4.8 ms a SNIPS message).
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = model_threads()
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # its notes on unused initializers are not the user's
    source = str(model) if isinstance(model, Path) else model
    return onnxruntime.InferenceSession(source, options, providers=["CPUExecutionProvider"])


#: the file a network trained in torch is exported to, beside its weights (DIET's, TED's)
EXPORTED = "model.onnx"


def open_exported(folder: Path, owner: str) -> Any | None:
    """The session of the graph a network exported beside its weights in `folder`, or None
    where there is none (a model trained before networks were exported) or it does not open
    (a damaged archive: logged, and its weights serve in torch)."""
    if not (folder / EXPORTED).is_file():
        return None
    try:
        return open_session((folder / EXPORTED).read_bytes())
    except Exception as error:  # ONNX Runtime raises its own types for a bad graph
        logger.warning("%s's %s does not load, it runs in torch: %s", owner, EXPORTED, error)
        return None


def limit_torch_threads() -> int | None:
    """Apply `torch_threads()` on the inference thread (OpenMP's count is per thread that
    starts parallel work) once the models are loaded; the number set, or None when left to
    OMP_NUM_THREADS or when torch was not loaded (models served from ONNX Runtime)."""
    count = torch_threads()
    torch = sys.modules.get("torch")
    if count is None or torch is None:
        return None
    run_on_inference_thread(torch.set_num_threads, count)
    return count
