"""Small maths runs on one thread.

A stream's matrix products are small (so are a sentence's MiniLM pass and the text
branch); spread over the BLAS/OpenMP and torch threads of a
busy machine, they spend their time waiting on each other. Measured here (2 cores,
shared): 1.5 s of audio through the neural stream left 30 s late with the default threads,
0.28 s late with one; the server's streams ran about 10x slower. A MiniLM sentence took
0.8 s on two threads and 0.05 s on one, the text branch 0.6 s and 0.025 s, under load.
The server's worker pool gives the parallelism instead.
"""
from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def one_maths_thread(load_torch: bool = False) -> Iterator[None]:
    """One BLAS/OpenMP thread and one torch thread while inside (restored after). torch is
    limited when it is loaded already, or loaded here with ``load_torch`` (a server whose
    engines load it later, on their first session)."""
    if load_torch:
        import torch  # noqa: F401  (registers in sys.modules)
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch else None
    if torch:
        torch.set_num_threads(1)
    try:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            limits = contextlib.nullcontext()
        else:
            limits = threadpool_limits(1)
        with limits:
            yield
    finally:
        if torch:
            torch.set_num_threads(before)
