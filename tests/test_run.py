import dataclasses

import pytest

from inrdict.errors import InrdictError
from inrdict.experiments._run import apply_overrides, run_directory


def test_failed_run_leaves_previous_results_untouched(tmp_path):
    out = tmp_path / "fig"
    with run_directory(out) as staging:
        (staging / "results.json").write_text("old")
    with pytest.raises(RuntimeError):
        with run_directory(out) as staging:
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


def test_overrides_parse_with_field_types():
    config = apply_overrides(_Config(), {"steps": "7", "rate": "1e-3", "sizes": "4,5,6", "image": "a.png", "flag": "true"})
    assert config == _Config(7, 1e-3, (4, 5, 6), "a.png", True)
    assert apply_overrides(config, {"image": "none"}).image is None
    with pytest.raises(InrdictError, match="unknown config field"):
        apply_overrides(_Config(), {"step": "1"})
    with pytest.raises(InrdictError, match="cannot parse"):
        apply_overrides(_Config(), {"flag": "maybe"})
