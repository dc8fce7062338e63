"""Compilation paid once (`inrdict._compilation`): a program compiled by one process is read back by the next from
inrdict's cache folder, `INRDICT_COMPILATION_CACHE=0` turns that off, and the meter counts what happened."""

import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp

from inrdict._compilation import CompileMeter

SCRIPT = """
import json, jax, jax.numpy as jnp
from inrdict._compilation import CompileMeter, enable_compilation_cache
folder = enable_compilation_cache()
with CompileMeter() as meter:
    jax.block_until_ready(jax.jit(lambda x: jnp.sin(x) @ x.T + 17.0)(jnp.ones((8, 8))))
print(json.dumps({"folder": None if folder is None else str(folder), **meter.as_dict()}))
"""


def _run(tmp_path, **env) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith("JAX_PERSISTENT") and k != "JAX_COMPILATION_CACHE_DIR"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env={**base, "INRDICT_CACHE_DIR": str(tmp_path), **env},
                          capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_second_process_reads_the_program_back_instead_of_compiling_it(tmp_path):
    first = _run(tmp_path)
    assert first["folder"] == str(tmp_path / "xla") and any((tmp_path / "xla").iterdir())
    assert first["compilations"] >= 1 and first["cache_hits"] == 0
    second = _run(tmp_path)
    assert second["compilations"] == 0 and second["cache_hits"] == first["compilations"]


def test_the_cache_can_be_turned_off(tmp_path):
    off = _run(tmp_path, INRDICT_COMPILATION_CACHE="0")
    assert off["folder"] is None and not (tmp_path / "xla").exists() and off["compilations"] >= 1


def test_the_meter_counts_programs_and_their_seconds():
    f, x = jax.jit(lambda x: x * 3.0 + 1.0), jax.block_until_ready(jnp.arange(5.0))
    with CompileMeter() as meter:
        jax.block_until_ready(f(x))
    record = meter.as_dict()
    assert record["compilations"] + record["cache_hits"] == 1  # compiled, or read back from the persistent cache
    assert 0 < record["trace_seconds"] <= record["jit_seconds"] <= record["wall_seconds"]
    with CompileMeter() as again:  # the same program, in memory now: nothing traced or compiled
        jax.block_until_ready(f(x))
    assert again.as_dict()["compilations"] == again.as_dict()["cache_hits"] == 0 == again.as_dict()["jit_seconds"]
