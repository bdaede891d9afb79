"""Cluster: synthesis on a Dask distributed cluster, through the Dask client's executor.

Each segment is a `SegmentJob` that carries everything it needs, so it runs on any worker; a worker
loads an engine once and reuses it; the audio comes back to this process, which writes the cache.
Dask retries a job whose worker was lost (twice), and a segment that still fails takes the preset's
fallback voice as on one machine. Dask is an optional extra: pip install 'briefing[cluster]'.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager

from .errors import SynthesisError, UsageError

RETRIES = 2  # for a job whose worker died under it
CONNECT_SECONDS = 10


@contextmanager
def cluster_executor(address: str) -> Iterator[Executor | None]:
    """An executor on the Dask scheduler at `address` (tcp://host:8786) while open; None when empty."""
    if not address:
        yield None
        return
    try:
        from distributed import Client
    except ImportError:
        raise UsageError("--cluster needs Dask: pip install 'briefing[cluster]' (on this machine and the workers)") from None
    try:
        client = Client(address, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError) as exc:
        raise SynthesisError(f"cannot reach the Dask scheduler at {address} ({exc}); is `dask scheduler` running there?") from None
    except (MemoryError, ValueError, TypeError, EOFError) as exc:  # another protocol answered: a bogus frame length, say
        raise SynthesisError(f"{address} is not a Dask scheduler ({type(exc).__name__}); check the address and port") from None
    try:
        yield client.get_executor(retries=RETRIES, pure=False)
    finally:
        client.close()
