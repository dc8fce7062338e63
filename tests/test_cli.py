import json

import pytest

from inrdict import cli

pytestmark = pytest.mark.standard_promotion  # these tests run Optax's Adam


def run_cli(capsys, *argv):
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["figure", "99"], "unknown experiment '99'"),
        (["figure", "2", "--image", "/no/such/image.png", "--set", "steps=1"], "image file not found"),
        (["figure", "2", "--set", "steps=0"], "steps must be a positive number"),
        (["figure", "2", "--set", "image_size=-4"], "image_size must be a positive number"),
        (["figure", "2", "--set", "image_size=33"], "image_size must be even"),
        (["figure", "2", "--set", "image_size=200000"], "choose a smaller --set image_size"),
        (["figure", "5", "--set", "grid_size=20000", "--set", "learned_meta=false"], "choose a smaller --set grid_size"),
        (["figure", "5", "--set", "grid_size=400", "--set", "spectrum=dense"], "--set spectrum=matrix_free"),
        (["figure", "4", "--preset", "paper", "--set", "learned_meta=false"], "needs --data-dir"),
        (["figure", "4", "--preset", "paper"], "needs --data-dir"),
        (["meta-learn", "--dataset", "celeba", "--data-dir", "/no/such/dir"], "CelebA folder not found"),
        (["meta-learn", "--dataset", "folder"], "needs --data-dir"),
        (["meta-learn", "--data-dir", "/tmp"], "not used by the embedded lfw"),
        (["figure", "3", "--seed", "-1"], "seed must be an integer"),
        (["figure", "3", "--set", "nonsense=1"], "unknown config field 'nonsense'"),
        (["figure", "3", "--set", "steps=many"], "cannot parse 'many' for config field steps"),
        (["figure", "3", "--set", "steps"], "--set expects FIELD=VALUE"),
        (["figure", "3", "--image", "x.png"], "--image applies to figure 2, figure 6"),
        (["figure", "3", "--set", "learning_rate=1e12", "--set", "steps=50", "--set", "eval_every=10"], "loss became"),
    ],
)
def test_bad_input_gives_one_line_and_no_output(argv, message, capsys, tmp_path):
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, *argv, "--out", str(out), "--no-progress")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("inrdict: error: ") and message in lines[0], err
    assert not out.exists()
    assert not list(tmp_path.iterdir()), "nothing half-written"


def test_unreadable_image(capsys, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_text("not an image")
    code, _, err = run_cli(capsys, "figure", "2", "--image", str(bad), "--out", str(tmp_path / "o"), "--no-progress")
    assert code == 2 and "could not read image" in err and str(bad) in err


def test_unknown_preset_is_rejected_by_argparse(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["figure", "3", "--preset", "huge"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'huge'" in capsys.readouterr().err


def test_figure_3_end_to_end_with_overrides_and_seed(capsys, tmp_path):
    out = tmp_path / "f3"
    code, stdout, _ = run_cli(
        capsys, "figure", "3", "--set", "steps=100", "--set", "hidden=32,32", "--seed", "5", "--out", str(out),
        "--no-progress",
    )  # fmt: skip
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    assert results["config"]["steps"] == 100 and results["config"]["hidden"] == [32, 32] and results["seed"] == 5
    assert "SIREN ω0=300" in stdout and "claim" in stdout
    # A rerun replaces the previous results whole.
    code, _, _ = run_cli(capsys, "figure", "3", "--set", "steps=50", "--out", str(out), "--no-progress")
    assert code == 0 and json.loads((out / "results.json").read_text())["config"]["steps"] == 50
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f3"]


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert all(command.name in out for command in cli.COMMANDS)


@pytest.mark.parametrize("command", [c.name for c in cli.COMMANDS])
def test_every_command_of_the_table_has_its_help(capsys, command):
    """The parser is built from `cli.COMMANDS`: each command's --help prints its usage and every flag of its row."""
    (row,) = [c for c in cli.COMMANDS if c.name == command]
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0 and out.startswith(f"usage: inrdict {command}")
    assert all(flag in out for arg in row.args for flag in arg.flags if flag.startswith("--"))
    assert callable(cli.RUNS[command])  # and something runs it


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo owned > /tmp/inrdict_cli_owned",))


def test_import_weights_refuses_malicious_pickle(capsys, tmp_path):
    import os
    import pickle

    evil = tmp_path / "evil.pickle"
    evil.write_bytes(pickle.dumps({"siren/siren_layer/linear": {"w": _Evil()}}))
    out = tmp_path / "out.npz"
    code, _, err = run_cli(capsys, "import-weights", str(evil), str(out))
    assert code == 2 and "refusing" in err and "os" in err
    assert not out.exists() and not os.path.exists("/tmp/inrdict_cli_owned")


def test_import_weights_and_meta_row(capsys, tmp_path):
    import pickle

    import numpy as np

    rng = np.random.default_rng(0)
    sizes = [2, 8, 8, 1]
    names = ["siren/siren_layer/linear"] + [f"siren/siren_layer_{i}/linear" for i in range(1, len(sizes) - 1)]
    weights = {
        name: {"w": rng.uniform(-0.1, 0.1, (n_in, n_out)).astype(np.float32), "b": np.zeros(n_out, np.float32)}
        for name, n_in, n_out in zip(names, sizes[:-1], sizes[1:])
    }
    source = tmp_path / "meta.pickle"
    source.write_bytes(pickle.dumps(weights, protocol=4))
    checkpoint = tmp_path / "meta.npz"
    code, stdout, _ = run_cli(capsys, "import-weights", str(source), str(checkpoint))
    assert code == 0 and checkpoint.exists() and "SIREN 2 → [8, 8] → 1" in stdout
    out = tmp_path / "f5"
    code, stdout, _ = run_cli(
        capsys, "figure", "5", "--meta-weights", str(checkpoint), "--set", "grid_size=8", "--set", "siren_omegas=5,30",
        "--set", "ffn_sigmas=1", "--set", "n_eigenvectors=3", "--set", "learned_meta=false", "--out", str(out), "--no-progress",
    )  # fmt: skip
    assert code == 0 and "Meta (meta)" in stdout
    results = json.loads((out / "results.json").read_text())
    assert results["config"]["meta_weights"] == str(checkpoint) and "Meta (meta)" in results["numbers"]["models"]
    code, _, err = run_cli(capsys, "figure", "5", "--meta-weights", str(tmp_path / "none.npz"), "--out", str(out))
    assert code == 2 and "--meta-weights path not found" in err


def test_figure_4_alone_meta_learns_once_then_uses_the_cache(capsys, tmp_path, monkeypatch):
    import dataclasses

    from inrdict.experiments.paper import meta_learning

    tiny = dataclasses.replace(meta_learning.DEFAULT, grid_size=8, steps=2, eval_every=1, checkpoint_every=1,
                               hidden=(16, 16))  # fmt: skip
    monkeypatch.setitem(meta_learning.PRESETS, "default", tiny)
    monkeypatch.setenv("INRDICT_CACHE_DIR", str(tmp_path / "cache"))
    argv = ["figure", "4", "--set", "grid_size=8", "--set", "siren_omegas=5,40", "--no-progress"]
    code, stdout, _ = run_cli(capsys, *argv, "--out", str(tmp_path / "a"))
    assert code == 0 and "meta-learned initialisation for these settings: learning it now" in stdout
    assert "Meta SIREN" in json.loads((tmp_path / "a" / "results.json").read_text())["numbers"]["models"]
    code, stdout, _ = run_cli(capsys, *argv, "--out", str(tmp_path / "b"))
    assert code == 0 and "learning it now" not in stdout


def test_a_non_default_preset_runs_into_its_own_folder(tmp_path, monkeypatch):
    """`inrdict figure X --preset P` writes figures/X-P, so it never overwrites the default preset's figures/X."""
    runs = []
    monkeypatch.setattr(cli, "run_one", lambda name, module, config, out, **_: runs.append(out))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["figure", "families", "--preset", "grids", "--no-progress"]) == 0
    assert cli.main(["figure", "families", "--no-progress"]) == 0
    assert [str(out) for out in runs] == ["figures/families-grids", "figures/families"]
