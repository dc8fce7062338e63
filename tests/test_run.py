import dataclasses
from typing import Literal

import pytest

from inrdict._io import atomic_directory
from inrdict.errors import InrdictError
from inrdict.experiments._run import apply_overrides, validate_config


def test_failed_run_leaves_previous_results_untouched(tmp_path):
    out = tmp_path / "fig"
    with atomic_directory(out) as staging:
        (staging / "results.json").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_directory(out) as staging:
            (staging / "results.json").write_text("half")
            raise RuntimeError("crash in the middle")
    assert (out / "results.json").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["fig"]


@dataclasses.dataclass(frozen=True)
class _Config:
    steps: int = 1
    rate: float = 0.5
    sizes: tuple[int, ...] = (1, 2)
    image: str | None = None
    flag: bool = False
    precision: Literal["float32", "float64"] = "float32"
    rff_seed: int = 7
    families: tuple[Literal["siren", "ffn"], ...] = ("siren",)


def test_overrides_parse_with_field_types():
    config = apply_overrides(_Config(), {"steps": "7", "rate": "1e-3", "sizes": "4,5,6", "image": "a.png", "flag": "true"})
    assert config == _Config(7, 1e-3, (4, 5, 6), "a.png", True)
    assert apply_overrides(config, {"image": "none"}).image is None
    with pytest.raises(InrdictError, match="unknown config field"):
        apply_overrides(_Config(), {"step": "1"})
    with pytest.raises(InrdictError, match="cannot parse"):
        apply_overrides(_Config(), {"flag": "maybe"})
    assert apply_overrides(_Config(), {"families": "ffn,siren"}).families == ("ffn", "siren")  # a tuple of choices
    with pytest.raises(InrdictError, match="cannot parse 'gauss'"):
        apply_overrides(_Config(), {"families": "ffn,gauss"})


def test_literal_fields_and_seeds_are_validated():
    config = apply_overrides(_Config(), {"precision": "float64", "rff_seed": "0"})
    assert config.precision == "float64" and config.rff_seed == 0  # a seed of 0 is a seed, not a "size"
    validate_config(config)
    with pytest.raises(InrdictError, match="cannot parse 'float16'"):
        apply_overrides(_Config(), {"precision": "float16"})
    with pytest.raises(InrdictError, match="precision must be one of float32, float64"):
        validate_config(_Config(precision="float16"))
    with pytest.raises(InrdictError, match=r"rff_seed must be an integer in \[0, 2\*\*31\)"):
        validate_config(_Config(rff_seed=-1))
    with pytest.raises(InrdictError, match="steps must be a positive number"):
        validate_config(_Config(steps=0))
