"""Several processes, one program: ``jax.distributed`` set up for thx, and ``thx run --processes N``.

thx adds no communication of its own.  ``initialize`` starts JAX's
multi-process runtime (choosing CPU collectives, gloo, on the CPU), after
which ``jax.devices()`` lists every process's devices, the mesh of
``config.mesh`` spans them, shared values are global ``jax.Array`` objects
and XLA inserts the collectives between processes.  ``launch`` starts N local
processes of a script on a 127.0.0.1 coordinator (``thx run --processes N``),
each of which calls ``initialize`` from the ``THX_*`` environment variables
it sets.  See docs/distributed.md.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import Any

from thx.config import config

__all__ = ["initialize", "process_index", "process_count", "mesh", "partitioned_text", "launch"]

ENV_COORDINATOR = "THX_COORDINATOR"
ENV_NUM_PROCESSES = "THX_NUM_PROCESSES"
ENV_PROCESS_ID = "THX_PROCESS_ID"

_initialized: list[tuple[str, int, int]] = []


def initialize(coordinator: str | None = None, num_processes: int | None = None,
               process_id: int | None = None) -> None:
    """Join a group of ``num_processes`` processes that run one program together.

    Wraps ``jax.distributed.initialize``; call it first, before any
    computation (JAX's backend must not have started).  On the CPU it selects
    JAX's gloo collectives, so processes on one or several machines exchange
    data over TCP.  Arguments left out are read from ``THX_COORDINATOR``,
    ``THX_NUM_PROCESSES`` and ``THX_PROCESS_ID`` (what ``thx run
    --processes N`` sets).

    Parameters
    ----------
    coordinator : str
        ``host:port`` of process 0, reachable by every process (``127.0.0.1:port`` on one machine).
    num_processes : int
    process_id : int
        This process's rank, ``0 <= process_id < num_processes``.

    Examples
    --------
    >>> import thx
    >>> thx.distributed.initialize  # doctest: +ELLIPSIS
    <function initialize at ...>
    """
    coordinator = coordinator or os.environ.get(ENV_COORDINATOR)
    num_processes = int(num_processes if num_processes is not None
                        else os.environ.get(ENV_NUM_PROCESSES, 1))
    process_id = int(process_id if process_id is not None else os.environ.get(ENV_PROCESS_ID, 0))
    if not coordinator:
        raise ValueError(f"thx.distributed.initialize: no coordinator address (host:port) given "
                         f"and {ENV_COORDINATOR} is not set")
    if not 0 <= process_id < num_processes:
        raise ValueError(f"thx.distributed.initialize: process_id must be in [0, {num_processes}), "
                         f"got {process_id}")
    key = (coordinator, num_processes, process_id)
    if _initialized:
        if _initialized[0] != key:
            raise RuntimeError(f"thx.distributed.initialize: already initialized as "
                               f"{_initialized[0]}, cannot join {key}")
        return
    import thx.lowering  # noqa: F401  (imports JAX keeping numpy.random's state; applies cpu_devices)
    import jax
    if config.device == "cpu":
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes,
                               process_id=process_id)
    _initialized.append(key)
    if num_processes > 1:
        from thx.compile.function import COMPILE_HOOKS
        COMPILE_HOOKS.append(_fetch_outputs)


def _fetch_outputs(f: Any, exprs: Any) -> None:
    """Make ``f`` return outputs spanning several processes as whole arrays (NumPy converts them)."""
    from thx.lowering.sharding import fetch
    fn, n_out = f.jax_fn, f._n_out

    def run(*args: Any) -> tuple:
        outs = fn(*args)
        return tuple(fetch(o) if k < n_out else o for k, o in enumerate(outs))

    run.__dict__.update(getattr(fn, "__dict__", {}))  # trace_counter ...
    if hasattr(fn, "lower"):
        run.lower = fn.lower  # type: ignore[attr-defined]  (f.lower_text, partitioned_text)
    f.jax_fn = run


def process_index() -> int:
    """This process's rank (0 without ``initialize``)."""
    import thx.lowering  # noqa: F401
    import jax
    return jax.process_index()


def process_count() -> int:
    """The number of processes (1 without ``initialize``)."""
    import thx.lowering  # noqa: F401
    import jax
    return jax.process_count()


def mesh() -> Any:
    """The ``jax.sharding.Mesh`` of the flags (``mesh``, or ``data:<all devices>``)."""
    from thx.lowering.sharding import mesh as current
    return current()


def partitioned_text(f: Any, *args: Any) -> str:
    """The HLO of compiled function ``f`` after XLA's SPMD partitioning, for arguments ``args``.

    ``f.lower_text(*args)`` shows the StableHLO thx hands to XLA, with the
    layouts as ``sdy.sharding`` annotations; the collectives (``all-reduce``,
    ``all-gather`` ...) appear only here, once the partitioner has inserted them.
    """
    import jax
    vals = [f._check(k, a) for k, a in enumerate(args)] + [s._value for s in f._shared]
    vals = [int(v) if k in f._static_set else v for k, v in enumerate(vals)]
    with jax.enable_x64(True):
        return f.jax_fn.lower(*vals).compile().as_text()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(script: str, args: Sequence[str] = (), processes: int = 2,
           timeout: float | None = None) -> int:
    """Run ``script`` in ``processes`` local processes joined by ``initialize`` (``thx run --processes N``).

    Each process runs ``python -m thx run script args`` with ``THX_COORDINATOR``
    (127.0.0.1, a free port), ``THX_NUM_PROCESSES`` and ``THX_PROCESS_ID`` set;
    their output lines are relayed whole.  When one fails the others are
    stopped (they would wait for it at the next collective).  Returns the first
    non-zero exit status, or 0.
    """
    if processes < 1:
        raise ValueError(f"thx run: --processes must be >= 1, got {processes}")
    if not os.path.isfile(script):
        raise FileNotFoundError(f"thx run: no such script: {script}")
    base = dict(os.environ, **{ENV_COORDINATOR: f"127.0.0.1:{_free_port()}",
                               ENV_NUM_PROCESSES: str(processes)})
    lock = threading.Lock()
    procs, relays = [], []
    for rank in range(processes):
        p = subprocess.Popen([sys.executable, "-m", "thx", "run", script, *args],
                             env=dict(base, **{ENV_PROCESS_ID: str(rank)}),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(p)
        for src, dst in ((p.stdout, sys.stdout), (p.stderr, sys.stderr)):
            t = threading.Thread(target=_relay, args=(src, dst, lock), daemon=True)
            t.start()
            relays.append(t)
    status = _wait(procs, timeout)
    for t in relays:
        t.join(timeout=5)
    return status


def _relay(src: Any, dst: Any, lock: threading.Lock) -> None:
    for line in src:
        with lock:
            dst.write(line)
            dst.flush()


def _wait(procs: list, timeout: float | None) -> int:
    import time
    deadline = None if timeout is None else time.monotonic() + timeout
    status = 0
    pending = list(procs)
    while pending:
        for p in list(pending):
            rc = p.poll()
            if rc is None:
                continue
            pending.remove(p)
            if rc and not status:
                status = rc
                for q in pending:  # stop the others: they would block at the next collective
                    q.terminate()
        if deadline is not None and time.monotonic() > deadline and pending:
            for q in pending:
                q.kill()
            status = status or 124
        time.sleep(0.05)
    return status
