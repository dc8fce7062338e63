"""Several processes, one spectrum: `jax.distributed.initialize` from the usual environment variables.

Launch the same command once per process (`inrdict analyse … --distributed`, or any script that calls
`initialize()` before it touches a device). Each process reads

    JAX_COORDINATOR_ADDRESS       host:port of process 0 (JAX's own variable)
    JAX_NUM_PROCESSES             how many processes
    JAX_PROCESS_ID                this process's index, 0 … JAX_NUM_PROCESSES − 1
    INRDICT_DISTRIBUTED_TIMEOUT   seconds to wait for the others to join (default 60); then the process exits
                                  with one line naming the address and what to check

or, where the JAX_* are unset, lets JAX detect the cluster (Slurm's `srun`, Open MPI, …; `jax.distributed`). On CPU
the processes exchange through Gloo (JAX's default CPU collectives). `inrdict.ntk.NTKOperator` then splits the points
over every process's devices and `top_eigenpairs` the Krylov basis with them (see `inrdict.ntk.operator`).

Example, two CPU processes on one machine:

    export JAX_COORDINATOR_ADDRESS=127.0.0.1:12355 JAX_NUM_PROCESSES=2
    JAX_PROCESS_ID=0 inrdict analyse siren --distributed & JAX_PROCESS_ID=1 inrdict analyse siren --distributed
"""

from __future__ import annotations

import math
import os
import socket
import sys
import threading

from inrdict.errors import InrdictError

DEFAULT_TIMEOUT_S = 60.0
_JAX_BACKSTOP_S = 10  # JAX's own deadline, later than ours: when it passes, JAX aborts the process (LOG(FATAL))


def timeout_seconds() -> float:
    """INRDICT_DISTRIBUTED_TIMEOUT: how long `initialize` waits for the other processes."""
    text = os.environ.get("INRDICT_DISTRIBUTED_TIMEOUT", "").strip()
    if not text:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise InrdictError(f"INRDICT_DISTRIBUTED_TIMEOUT={text!r} is not a number of seconds: give one above 0")
    return value


def _in_use(port: int) -> bool:
    """Whether a program here listens on `port` already (JAX's coordinator crashes when it cannot bind it)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("", port))
        except OSError:
            return True
    return False


def _exit_after(timeout: float, message: str) -> threading.Timer:
    """A started timer that, unless cancelled, writes `message` on stderr and ends the process (status 2)."""

    def give_up() -> None:
        sys.stderr.write(f"inrdict: error: {message} (INRDICT_DISTRIBUTED_TIMEOUT sets the wait)\n")
        sys.stderr.flush()
        os._exit(2)

    timer = threading.Timer(timeout, give_up)
    timer.daemon = True
    timer.start()
    return timer


def _join(
    timeout: float,
    start: str,
    message: str,
    address: str | None = None,
    count: int | None = None,
    index: int | None = None,
) -> None:
    """`jax.distributed.initialize`, saying `start` first and ending the process with `message` after `timeout` s."""
    import jax

    print(f"inrdict: {start} (waiting up to {timeout:g} s; INRDICT_DISTRIBUTED_TIMEOUT)", file=sys.stderr, flush=True)
    timer = _exit_after(timeout, message)
    try:
        jax.distributed.initialize(address, count, index, initialization_timeout=math.ceil(timeout) + _JAX_BACKSTOP_S)
    finally:
        timer.cancel()


def initialize() -> tuple[int, int]:
    """Join the processes (once; later calls return the same) and return (process index, process count).

    When the others have not joined within `timeout_seconds()`, ends the process with one line on stderr."""
    timeout = timeout_seconds()
    import jax

    if jax.distributed.is_initialized():
        return jax.process_index(), jax.process_count()
    address = os.environ.get("JAX_COORDINATOR_ADDRESS")
    count, index = os.environ.get("JAX_NUM_PROCESSES"), os.environ.get("JAX_PROCESS_ID")
    if (count is None) != (index is None):
        raise InrdictError("set both JAX_NUM_PROCESSES and JAX_PROCESS_ID (or neither, under Slurm)")
    wait = f"{timeout:g} s"
    try:
        if count is None:
            _join(timeout, "joining the processes of the cluster JAX detects",
                  f"waited {wait} for the cluster's processes to join: check that every process of the job is running "
                  "and can reach process 0's host")  # fmt: skip
        else:
            if address is None:
                raise InrdictError("set JAX_COORDINATOR_ADDRESS=host:port of process 0 for a distributed run")
            host, _, port = address.rpartition(":")
            if not (host and port.isdigit() and 0 < int(port) < 65536):
                raise InrdictError(f"JAX_COORDINATOR_ADDRESS={address!r} is not host:port (e.g. 10.0.0.1:12355)")
            n, i = int(count), int(index or 0)
            if i == 0:
                if "JAX_COORDINATOR_BIND_ADDRESS" not in os.environ and _in_use(int(port)):
                    raise InrdictError(f"process 0 cannot start the coordinator: port {port} is in use here (an "
                                       "earlier run's process 0?): stop that program or give every process another "
                                       "port in JAX_COORDINATOR_ADDRESS")  # fmt: skip
                others, running, where = (("process 1", "it is", "its machine") if n == 2 else
                                          (f"the other {n - 1} processes", "they are", "their machines"))  # fmt: skip
                start = f"process 0 of {n}: starting the coordinator at {address} for {others}"
                waited = f"at {address} for {others}"
            else:
                start = f"process {i} of {n}: joining the coordinator at {address}"
                waited, running, where = f"for the coordinator at {address}", "process 0 is", "this machine"
            message = (f"process {i} of {n} waited {wait} {waited}: check that {running} running, that {address} is "
                       f"reachable from {where}, and that every process has the same JAX_COORDINATOR_ADDRESS and "
                       "JAX_NUM_PROCESSES")  # fmt: skip
            _join(timeout, start, message, address, n, i)
    except (ValueError, RuntimeError) as error:
        raise InrdictError(
            f"could not start the distributed run ({str(error).splitlines()[0]}): set JAX_COORDINATOR_ADDRESS, "
            "JAX_NUM_PROCESSES and JAX_PROCESS_ID, or launch under Slurm"
        ) from None
    return jax.process_index(), jax.process_count()


def is_main_process() -> bool:
    """Whether this process writes the results (process 0, or the only one)."""
    import jax

    return jax.process_index() == 0
