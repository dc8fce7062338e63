"""Several processes, one spectrum: `jax.distributed.initialize` from the usual environment variables.

Launch the same command once per process (`inrdict analyse … --distributed`, or any script that calls
`initialize()` before it touches a device). Each process reads

    JAX_COORDINATOR_ADDRESS   host:port of process 0 (JAX's own variable)
    JAX_NUM_PROCESSES         how many processes
    JAX_PROCESS_ID            this process's index, 0 … JAX_NUM_PROCESSES − 1

or, where those are unset, lets JAX detect the cluster (Slurm's `srun`, Open MPI, …; `jax.distributed`). On CPU the
processes exchange through Gloo (JAX's default CPU collectives). `inrdict.ntk.NTKOperator` then splits the points
over every process's devices and `top_eigenpairs` the Krylov basis with them (see `inrdict.ntk.operator`).

Example, two CPU processes on one machine:

    export JAX_COORDINATOR_ADDRESS=127.0.0.1:12355 JAX_NUM_PROCESSES=2
    JAX_PROCESS_ID=0 inrdict analyse siren --distributed & JAX_PROCESS_ID=1 inrdict analyse siren --distributed
"""

from __future__ import annotations

import os

from inrdict.errors import InrdictError


def initialize() -> tuple[int, int]:
    """Join the processes (once; later calls return the same) and return (process index, process count)."""
    import jax

    if jax.distributed.is_initialized():
        return jax.process_index(), jax.process_count()
    address = os.environ.get("JAX_COORDINATOR_ADDRESS")
    count, index = os.environ.get("JAX_NUM_PROCESSES"), os.environ.get("JAX_PROCESS_ID")
    if (count is None) != (index is None):
        raise InrdictError("set both JAX_NUM_PROCESSES and JAX_PROCESS_ID (or neither, under Slurm)")
    try:
        if count is not None:
            if address is None:
                raise InrdictError("set JAX_COORDINATOR_ADDRESS=host:port of process 0 for a distributed run")
            jax.distributed.initialize(address, num_processes=int(count), process_id=int(index or 0))
        else:
            jax.distributed.initialize()  # a cluster JAX detects (Slurm, Open MPI, …)
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
