"""Where synthesis jobs run, decided in this one place.

A run has at most one executor of its own: the one a caller passes in (a batch's shared pool, a
cluster's), else the configured Dask cluster's, else, when the voice's engine runs in processes,
a pool whose workers load the engine while the script is written. `JobPlaces` then places each
preset's jobs: a network engine's on threads of this machine (a process or a cluster's worker
would only wait on the network), an engine that runs in processes on the run's executor, else in
this process for a handful of segments, else on a pool of processes made for them.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .engines import Engine, EngineSettings

T = TypeVar("T")


@dataclass
class JobPlaces:
    """Where each preset's jobs run (see the module's docstring)."""

    workers: int = 0  # processes for an engine that runs in processes (0: one per core)
    connections: int = 4  # threads for a network engine
    executor: Executor | None = None  # the run's own, for engines that run in processes
    lost: str = ""  # why the run's own executor was given up (a cluster that went away)

    def lose_executor(self, why: str) -> None:
        """The run's executor is gone (its cluster was lost): the rest of the jobs run on this machine."""
        self.executor, self.lost = None, why

    @contextmanager
    def for_jobs(self, engine: type[Engine], jobs: int) -> Iterator[Executor]:
        """The executor for `jobs` jobs of `engine`, shut down on leaving unless it is the run's own."""
        if engine.parallel == "threads":
            with ThreadPoolExecutor(max_workers=max(1, self.connections)) as threads:
                yield threads
        elif self.executor is not None:
            yield self.executor
        elif jobs <= 2 or self.workers == 1:
            yield InThisProcess()
        else:
            with process_pool(min(self.workers or os.cpu_count() or 1, jobs)) as pool:
                yield pool


@contextmanager
def run_executor(
    engine: type[Engine] | None, engine_settings: EngineSettings, workers: int, cluster: str = "", given: Executor | None = None
) -> Iterator[Executor | None]:
    """The run's own executor while open: `given`; else the Dask cluster at `cluster`; else, when
    `engine` runs in processes, a local pool whose workers start loading it at once; else None."""
    from .cluster import cluster_executor

    if given is not None:
        yield given
        return
    if cluster:
        with cluster_executor(cluster) as executor:
            yield executor
        return
    workers = workers or os.cpu_count() or 1
    if engine is None or engine.parallel != "processes" or workers == 1:
        yield None
        return
    pool = process_pool(workers)
    try:
        for _ in range(workers):
            pool.submit(preload_engine, engine.name, engine.__module__, engine_settings)
        yield pool
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # the workers exit while the feed is written


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of engine processes that exit with this one."""
    # 'spawn': the engines hold native threads that do not survive a fork.
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=exit_with_parent, initargs=(os.getpid(),)
    )


class InThisProcess(Executor):
    """Runs each job at submit time: no pool start-up cost for a handful of segments."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # handed to the caller through the future, as a pool does
            future.set_exception(exc)
        return future


def exit_with_parent(parent: int, every: float = 0.5) -> None:
    """In a pool worker: exit as soon as the process that started it is gone. A parent killed with
    SIGKILL cannot shut its pool down, and its workers would otherwise wait on a pipe forever."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


_loaded: dict[tuple[str, EngineSettings], Engine] = {}
_loading = threading.Lock()


def load_engine(name: str, module: str, settings: EngineSettings) -> Engine:
    """Engine `name` in this process, made on first use (importing `module` registers it) and kept."""
    import importlib

    from .engines import create_engine

    key = (name, settings)
    with _loading:
        if key not in _loaded:
            importlib.import_module(module)
            _loaded[key] = create_engine(name, settings)
    return _loaded[key]


def preload_engine(name: str, module: str, settings: EngineSettings) -> None:
    load_engine(name, module, settings)  # returns nothing: the engine stays in the worker
