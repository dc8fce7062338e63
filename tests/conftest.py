import contextlib
import fcntl
import gc
import json
import os
import tempfile
from pathlib import Path

# Compiled programs persist between test runs, and between this process and the ones it starts (`inrdict` commands,
# distributed workers): JAX's persistent compilation cache in the user's inrdict folder (`xla/`), as `inrdict`'s
# command line uses it. An entry is keyed by the program, the backend and the jax version, so it cannot change a
# result, only skip a compile. Set before JAX is imported, so that every process started from here inherits it
# (the folder is `inrdict._compilation.cache_folder()`, written out: importing inrdict here would precede the hook).
_XLA = Path(os.environ.get("INRDICT_CACHE_DIR") or Path.home() / ".cache" / "inrdict") / "xla"
if os.environ.get("INRDICT_COMPILATION_CACHE", "1") != "0":
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(_XLA))
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")

# Results never touch the user's cache (~/.cache/inrdict): NTK eigensystems and meta checkpoints go here.
os.environ["INRDICT_CACHE_DIR"] = tempfile.mkdtemp(prefix="inrdict-test-cache-")

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

# Accidental broadcasting, e.g. (n,) against (n, 1) silently giving (n, n), fails loudly in tests.
jax.config.update("jax_numpy_rank_promotion", "raise")

# Runtime checks of every jaxtyping annotation (shapes and dtypes) in inrdict, through beartype, as Equinox's tests do.
from jaxtyping import install_import_hook  # noqa: E402

import tests._typecheck  # noqa: E402,F401  (the hook below names its checker by import path)

install_import_hook("inrdict", "tests._typecheck.typechecker")

from inrdict._compilation import CompileMeter  # noqa: E402  (after the hook: this imports inrdict)


@pytest.fixture(autouse=True)
def _strict_dtype_promotion(request):
    """Implicit dtype promotion (float32 + float64 arrays) is an error in every test, except those marked
    `standard_promotion`: they run Optax's Adam, whose bias correction mixes int32 and float."""
    mode = "standard" if request.node.get_closest_marker("standard_promotion") else "strict"
    with jax.numpy_dtype_promotion(mode):
        yield


def _memory_maps() -> int:
    try:
        with open("/proc/self/maps") as maps:
            return sum(1 for _ in maps)
    except OSError:  # not Linux
        return 0


_PEAK_MAPS = [0]


@pytest.fixture(autouse=True, scope="module")
def _fresh_compilation_caches(request):
    """Each test module leaves JAX's in-memory compilation caches empty (the persistent one on disk stays). Every
    compiled CPU program holds ~3 memory mappings; the whole suite in one process compiles enough of them to reach
    the kernel's limit (vm.max_map_count, 65,530), where XLA's next compilation dies of a segmentation fault (CI,
    2026-12-04, in tests/test_suggest.py). With `INRDICT_TEST_PROFILE=FILE`, each module's wall time, compilations
    and compile seconds (`CompileMeter`) are written to FILE (`benchmarks/profile_reproduce.py` reads it)."""
    meter = CompileMeter().start()
    yield
    _PROFILE[request.module.__name__] = meter.stop().as_dict()
    _PEAK_MAPS[0] = max(_PEAK_MAPS[0], _memory_maps())
    jax.clear_caches()
    gc.collect()


_PROFILE: dict[str, dict] = {}


def pytest_sessionfinish(session):
    if hasattr(session.config, "workeroutput"):  # a pytest-xdist worker: its peak goes to the controller's summary
        session.config.workeroutput["peak_maps"] = _PEAK_MAPS[0]
    target = os.environ.get("INRDICT_TEST_PROFILE")
    if target and _PROFILE:
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        path = Path(target) if worker is None else Path(target).with_suffix(f".{worker}.json")
        path.write_text(json.dumps(_PROFILE, indent=1) + "\n")


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    _PEAK_MAPS[0] = max(_PEAK_MAPS[0], getattr(node, "workeroutput", {}).get("peak_maps", 0))


def pytest_terminal_summary(terminalreporter):
    if _PEAK_MAPS[0]:
        terminalreporter.write_line(f"memory mappings: at most {_PEAK_MAPS[0]:,} at the end of a test module "
                                    "(the kernel's limit is vm.max_map_count, usually 65,530)")  # fmt: skip


@pytest.fixture
def getkey():
    """Fresh PRNG keys from a fixed seed: getkey() returns a new key each call."""
    counter = iter(range(10**6))
    base = jax.random.key(1234)
    return lambda: jax.random.fold_in(base, next(counter))


def load_npz(path) -> dict[str, np.ndarray]:
    """Every array of an .npz file, with the file closed again (a bare `np.load` leaves it open until the garbage
    collector runs, and the ResourceWarning then fails whichever test happens to be running)."""
    with np.load(path, allow_pickle=False) as stored:
        return {name: stored[name] for name in stored.files}


def rel_error(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def reference_pickle_path():
    """The authors' published meta-SIREN (../shared/reference beside the repo, or $INRDICT_REFERENCE_DIR)."""
    import os
    from pathlib import Path

    folder = os.environ.get("INRDICT_REFERENCE_DIR", Path(__file__).resolve().parents[2] / "shared" / "reference")
    return Path(folder) / "seed_maml_celebA_5000.pickle"


@contextlib.contextmanager
def shared_run(tmp_path_factory, name: str):
    """A run folder made once per test session and shared by every pytest-xdist worker (`make test` runs two):
    yields `(folder, done)`; the caller computes into `folder` when `done` is False. Workers take turns through a
    lock file in the session's base folder, so the second one finds the first one's results instead of computing
    them again."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # shared by the workers of this session
    folder = base / "shared" / name
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(base / "shared" / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield folder, (folder / "results.json").is_file()


@pytest.fixture(scope="session")
def short_meta_run(tmp_path_factory):
    """The default meta-learning preset cut to 30 MAML steps (≈ 20 s): results dict and run folder, computed once
    per session (`shared_run`)."""
    import dataclasses

    from inrdict.experiments.paper import meta_learning
    from inrdict.experiments._run import run_experiment

    config = dataclasses.replace(meta_learning.DEFAULT, steps=30, eval_every=15, checkpoint_every=15)
    with shared_run(tmp_path_factory, "meta_learning") as (out, done):
        if not done:
            run_experiment(meta_learning, config, out, progress=False)
    return json.loads((out / "results.json").read_text()), out
