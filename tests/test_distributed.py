"""Spectra across processes (`jax.distributed`): two CPU processes on 127.0.0.1 give the single-process top
eigenpairs, on the N×N route (points and Krylov basis split by rows) and the P×P route."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from inrdict.ntk import NTKOperator, SolverOptions, top_eigenpairs_of
from tests._spectrum_problem import problem
from tests.conftest import load_npz

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run_two_processes(command, **env) -> list[str]:
    """Run `command(index)` as processes 0 and 1 of a two-process CPU run on 127.0.0.1; their output (both exit 0)."""
    base = {**os.environ, "JAX_PLATFORMS": "cpu", "JAX_COORDINATOR_ADDRESS": f"127.0.0.1:{_free_port()}",
            "JAX_NUM_PROCESSES": "2", "XLA_FLAGS": "", **env}  # fmt: skip
    base.pop("JAX_ENABLE_X64", None)
    workers = [
        subprocess.Popen([sys.executable, *command(index)], env={**base, "JAX_PROCESS_ID": str(index)}, cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
        for index in range(2)
    ]
    logs = [worker.communicate(timeout=600)[0] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], logs[0][-2000:] + logs[1][-2000:]
    return logs


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("distributed")
    _run_two_processes(lambda index: ["-m", "tests._spectrum_worker", str(folder / f"{index}.npz")],
                       PYTHONPATH=str(ROOT))  # fmt: skip
    return [load_npz(folder / f"{index}.npz") for index in range(2)]


@pytest.mark.parametrize("route", ["points", "parameters"])
def test_two_processes_give_the_single_process_spectrum(two_processes, route):
    with jax.enable_x64(True):
        model, points, k = problem()
        options = SolverOptions(tol=1e-10, route=route, store_kernel=False)
        single = top_eigenpairs_of(NTKOperator(model, points, dtype=np.float64), k, options)
    first, second = two_processes
    assert first["devices"].tolist() == [2, 1, 2]  # two processes, one CPU device each
    rows = [tuple(run[f"{route}_local_rows"]) for run in two_processes]
    assert rows == [(0, 800), (800, 1600)]  # each held half of the 1,600 points
    assert str(first[f"{route}_route"]) == route and str(first[f"{route}_method"]) == "block"
    for run in two_processes:
        gap = np.abs(run[f"{route}_eigvals"] - single.eigvals).max() / single.eigvals[0]
        assert gap < 1e-6, gap
        overlap = np.abs(np.sum(run[f"{route}_eigvecs"] * single.eigvecs, axis=0))  # up to sign
        assert np.all(overlap > 1 - 1e-6), overlap.min()
    np.testing.assert_array_equal(first[f"{route}_eigvals"], second[f"{route}_eigvals"])  # every process agrees


@pytest.mark.standard_promotion  # the in-process run fine-tunes with Optax's Adam
def test_analyse_across_two_processes(tmp_path):
    """`inrdict analyse … --distributed` in two processes: process 0 writes the run, whose spectrum (matrix-free,
    split across the processes) equals the single-process one; process 1 writes nothing."""
    from inrdict.cli import main

    sets = ["--set", "grid_size=24", "--set", "top_k=8", "--set", "n_test=2", "--set", "iterations=3", "--set",
            "n_eigenvectors=4", "--set", "alias_steps=20", "--set", "alias_hidden=8,8", "--set", "fit_size=12",
            "--set", "fit_steps=2", "--no-progress"]  # fmt: skip
    logs = _run_two_processes(
        lambda index: ["-m", "inrdict", "analyse", "siren", "--distributed", "--out", str(tmp_path / f"run{index}"),
                       "--set", "hidden=16,16", *sets],
        PYTHONPATH=str(ROOT / "src"), INRDICT_CACHE_DIR=str(tmp_path / "cache"))  # fmt: skip
    assert (tmp_path / "run0" / "results.json").is_file() and not (tmp_path / "run1").exists()
    assert "Analyse" not in logs[1]  # only process 0 reports
    results = json.loads((tmp_path / "run0" / "results.json").read_text())
    assert results["device"]["process_count"] == 2
    assert results["numbers"]["spectrum"]["route"] == "matrix_free"
    assert main(["analyse", "siren", "--out", str(tmp_path / "single"), "--set", "hidden=16,16",
                 "--set", "spectrum=matrix_free", *sets]) == 0  # fmt: skip
    both = [load_npz(tmp_path / name / "arrays.npz")["normalised_eigenvalues"] for name in ("run0", "single")]
    np.testing.assert_allclose(both[0], both[1], rtol=1e-4, atol=1e-6)


def test_a_process_whose_coordinator_never_comes_ends_with_one_line(tmp_path):
    """Process 1 of 2 with nobody at JAX_COORDINATOR_ADDRESS says whom it waits for, then gives up after
    INRDICT_DISTRIBUTED_TIMEOUT seconds with one line that names the address (no traceback, no JAX abort)."""
    address = f"127.0.0.1:{_free_port()}"
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "JAX_COORDINATOR_ADDRESS": address, "JAX_NUM_PROCESSES": "2",
           "JAX_PROCESS_ID": "1", "INRDICT_DISTRIBUTED_TIMEOUT": "3", "PYTHONPATH": str(ROOT / "src")}  # fmt: skip
    env.pop("JAX_ENABLE_X64", None)
    command = [sys.executable, "-m", "inrdict", "analyse", "siren", "--distributed", "--out", str(tmp_path / "run")]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and not (tmp_path / "run").exists()
    assert "Traceback" not in done.stderr and "Check failure" not in done.stderr, done.stderr
    waiting, error = done.stderr.strip().splitlines()[-2:]
    assert address in waiting and "up to 3 s" in waiting, waiting
    assert error.startswith("inrdict: error: ") and address in error and "waited 3 s" in error, error
    assert "process 0 is running" in error and "JAX_NUM_PROCESSES" in error, error


@pytest.mark.parametrize("value", ["soon", "-1", "0", "nan"])
def test_a_bad_timeout_is_one_error_before_jax_waits(monkeypatch, value):
    from inrdict.distributed import initialize
    from inrdict.errors import InrdictError

    monkeypatch.setenv("INRDICT_DISTRIBUTED_TIMEOUT", value)
    monkeypatch.setenv("JAX_COORDINATOR_ADDRESS", "127.0.0.1:1")
    monkeypatch.setenv("JAX_NUM_PROCESSES", "2")
    monkeypatch.setenv("JAX_PROCESS_ID", "1")
    with pytest.raises(InrdictError, match=f"INRDICT_DISTRIBUTED_TIMEOUT='{value}'"):
        initialize()
    assert not jax.distributed.is_initialized()
