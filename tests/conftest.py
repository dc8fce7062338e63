import jax
import numpy as np
import pytest

# Accidental broadcasting, e.g. (n,) against (n, 1) silently giving (n, n), fails loudly in tests.
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def getkey():
    """Fresh PRNG keys from a fixed seed: getkey() returns a new key each call."""
    counter = iter(range(10**6))
    base = jax.random.key(1234)
    return lambda: jax.random.fold_in(base, next(counter))


def rel_error(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))
