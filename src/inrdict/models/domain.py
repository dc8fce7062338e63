"""Evaluate a model on its authors' coordinate domain: r ∈ [0, 1)^d (inrdict's NTK grid) ↦ model(low + (high - low) r)."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from inrdict.errors import InrdictError
from inrdict.models.dense import DenseINR, dense_layer_features
from inrdict.models.family import INRModel, model_class, register_class


@register_class
class OnDomain(eqx.Module):
    """g(r) = model(low + (high - low) r): the wrapped model sees coordinates in [low, high)^d when g is evaluated
    on [0, 1)^d. The map is fixed (no parameters), so g's NTK on a grid is the wrapped model's NTK on the mapped
    grid, and fitting, fine-tuning and checkpoints see the wrapped model's parameters only.

    Each family's reference code trains on its own range (most on [-1, 1]², `Family.domain`);
    the paper's NTK grid is [0, 1)² (SPEC §4). Wrapping keeps one grid, one pixel order and one set of
    eigenvectors for every model while each family sees the inputs its authors feed it.
    """

    model: INRModel
    low: float = eqx.field(static=True)
    high: float = eqx.field(static=True)

    def __init__(self, model: INRModel, low: float = -1.0, high: float = 1.0):
        low, high = float(low), float(high)
        if not (jnp.isfinite(low) and jnp.isfinite(high) and low < high):
            raise InrdictError(f"a coordinate domain is an interval (low, high) with low < high, got ({low}, {high})")
        self.model, self.low, self.high = model, low, high

    def to_domain(self, r: Array) -> Array:
        return self.low + (self.high - self.low) * r

    def __call__(self, r: Float[Array, " d"]) -> Float[Array, " out"]:
        return self.model(self.to_domain(r))

    @property
    def frozen_fields(self) -> tuple[str, ...]:
        return tuple(f"model.{name}" for name in getattr(self.model, "frozen_fields", ()))

    @property
    def in_features(self) -> int:
        return self.model.in_features

    @property
    def out_features(self) -> int:
        return self.model.out_features

    @property
    def hidden(self) -> tuple[int, ...]:
        return self.model.hidden

    def structured_ntk_features(self, points: Float[Array, "n d"]) -> list[tuple[Array, ...]]:
        """The wrapped model's factors at the mapped points (`inrdict.ntk.layer_features`)."""
        mapped = self.to_domain(jnp.asarray(points))
        if hasattr(self.model, "structured_ntk_features"):
            return list(self.model.structured_ntk_features(mapped))
        if isinstance(self.model, DenseINR):
            return list(dense_layer_features(self.model, jax.vmap(self.model.encode)(mapped))[0])
        raise InrdictError(f"no structured NTK for a {type(self.model).__name__} on a domain")

    def hyperparameters(self) -> dict:
        return {"domain": [self.low, self.high], "model_family": type(self.model).__name__,
                "model": self.model.hyperparameters()}  # fmt: skip

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict, *, dtype) -> "OnDomain":
        h = hyperparameters
        inner = model_class(h["model_family"]).from_hyperparameters(h["model"], dtype=dtype)
        return cls(inner, *(float(x) for x in h["domain"]))
