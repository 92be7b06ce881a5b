"""How many threads torch gets for a message: the CPUs a process may really use (a
container's limit included), or what the operator says."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from parlez.inference import (
    ThreadsError,
    model_threads,
    on_inference_thread,
    run_on_inference_thread,
    start_on_inference_thread,
    torch_threads,
    usable_cpus,
)


def test_a_containers_cpu_limit_caps_the_cpus_a_process_uses(tmp_path: Path) -> None:
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("100000 100000\n")
    assert usable_cpus(cpu_max) == 1
    cpu_max.write_text("50000 100000\n")  # half a CPU still runs one thread
    assert usable_cpus(cpu_max) == 1


def test_no_limit_means_the_cpus_the_process_may_run_on(tmp_path: Path) -> None:
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("max 100000\n")
    assert usable_cpus(cpu_max) == len(os.sched_getaffinity(0))
    assert usable_cpus(tmp_path / "missing") == len(os.sched_getaffinity(0))


def test_the_operator_sets_the_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARLEZ_TORCH_THREADS", "3")
    assert torch_threads() == 3
    monkeypatch.setenv("PARLEZ_TORCH_THREADS", "0")
    with pytest.raises(ThreadsError) as refused:
        torch_threads()
    assert refused.value.code == "P333"


def test_omp_num_threads_is_left_to_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARLEZ_TORCH_THREADS", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert torch_threads() is None
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert torch_threads() == usable_cpus()


def test_the_encoders_runtime_takes_the_threads_torch_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ONNX Runtime does not read OMP_NUM_THREADS; replicas sharing cores need it to."""
    monkeypatch.setenv("PARLEZ_TORCH_THREADS", "3")
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert model_threads() == 3
    monkeypatch.delenv("PARLEZ_TORCH_THREADS")
    assert model_threads() == 2
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert model_threads() == usable_cpus()


def test_torchs_threads_are_limited_only_where_torch_was_loaded() -> None:
    """A server whose models run in ONNX Runtime must not import torch to limit it."""
    script = (
        "import sys\n"
        "from parlez.inference import limit_torch_threads, run_on_inference_thread\n"
        "print(limit_torch_threads(), 'torch' in sys.modules)\n"
        "import torch\n"
        "print(limit_torch_threads(), run_on_inference_thread(torch.get_num_threads))\n"
    )
    env = {**os.environ, "PARLEZ_TORCH_THREADS": "1"}
    env.pop("OMP_NUM_THREADS", None)
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split("\n")[:2] == ["None False", "1 1"]


def test_work_started_on_the_inference_thread_runs_there_while_the_caller_goes_on() -> None:
    release = threading.Event()
    started = start_on_inference_thread(lambda: release.wait(60) and on_inference_thread())
    assert not started.done()  # the caller was not made to wait
    release.set()
    assert started.result(timeout=60) is True


def test_work_started_from_the_inference_thread_itself_runs_at_once() -> None:
    """A model loaded on the inference thread warms up there: waiting on a second task of
    the one thread would never end."""

    def nested() -> bool:
        inner = start_on_inference_thread(on_inference_thread)
        return inner.done() and inner.result()

    assert run_on_inference_thread(nested) is True
    failing = run_on_inference_thread(lambda: start_on_inference_thread(lambda: 1 / 0))
    with pytest.raises(ZeroDivisionError):
        failing.result()
