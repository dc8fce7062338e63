"""The layering of `src/inrdict` (the table in `inrdict/__init__.py`): every import, at module level or inside a
function, goes to the importer's own group or to a lower layer; imports form no cycle, not even through a function
or a type-checking block; the checker visits every module of the package; and the
stores know nothing of what they store (`io.cache` imports nothing of the NTK, `train.meta` neither the cache nor
checkpoints). The checker is tested on a planted upward import, so it cannot pass by finding nothing."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "inrdict"

# (layer, group): modules of one group may import each other; ntk and train share a layer and may not.
LAYERS: dict[str, tuple[int, str]] = {
    **{name: (0, "core") for name in ("errors", "_typing", "_io", "_memory", "_compilation", "_keys", "_version", "distributed", "adapters")},
    "models": (1, "models"),
    "ntk": (2, "ntk"),
    "train": (2, "train"),
    "pytorch": (3, "pytorch"),  # PyTorch INRs (optional extra): their NTK (on ntk's solvers) and training
    "io": (3, "io"),
    "analysis": (4, "analysis"),
    "plotting": (5, "plotting"),
    "experiments": (6, "experiments"),
    **{name: (7, "faces") for name in ("cli", "__init__", "__main__")},
}


def _group_of(module: str) -> str:
    """Top-level part of a dotted inrdict module name ("inrdict.io.cache" → "io"; "inrdict" → "__init__")."""
    parts = module.split(".")
    if parts == ["inrdict"]:
        return "__init__"
    return parts[1]


def imports_of(path: Path, root: Path) -> list[tuple[str, int, bool]]:
    """(imported inrdict module, line, at module level) for every import in the file."""
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [
                (alias.name, node.lineno, id(node) in top)
                for alias in node.names
                if alias.name.split(".")[0] == "inrdict"
            ]
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.level == 0
            and node.module.split(".")[0] == "inrdict"
        ):
            if node.module == "inrdict":  # `from inrdict import lens`: each name may be a module
                for alias in node.names:
                    name = f"inrdict.{alias.name}"
                    exists = (root / alias.name).is_dir() or (root / f"{alias.name}.py").is_file()
                    found.append((name if exists else "inrdict", node.lineno, id(node) in top))
            else:
                for alias in node.names:  # `from inrdict.io import data` imports the module inrdict.io.data
                    sub = root.joinpath(*node.module.split(".")[1:])
                    is_module = (sub / alias.name).is_dir() or (sub / f"{alias.name}.py").is_file()
                    found.append(
                        (f"{node.module}.{alias.name}" if is_module else node.module, node.lineno, id(node) in top)
                    )
    return found


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["inrdict", *parts])


def checked_files(root: Path) -> list[Path]:
    """The files `layer_violations` and `module_cycles` read: every .py file under `root`."""
    return sorted(root.rglob("*.py"))


def layer_violations(root: Path, layers: dict[str, tuple[int, str]] = LAYERS) -> list[str]:
    """Every import that goes up a layer or sideways into another group of its layer, as 'file:line a → b'."""
    problems = []
    for path in checked_files(root):
        source = path.relative_to(root).parts[0].removesuffix(".py")
        if source not in layers:
            problems.append(f"{path.relative_to(root)}: {source!r} is in no layer of the table")
            continue
        own_layer, own_group = layers[source]
        for module, line, _ in imports_of(path, root):
            target = _group_of(module)
            if target not in layers:
                problems.append(f"{path.relative_to(root)}:{line} imports {module}, in no layer of the table")
                continue
            layer, group = layers[target]
            if group != own_group and layer >= own_layer:
                problems.append(
                    f"{path.relative_to(root)}:{line} {source} (layer {own_layer}) → {module} (layer {layer})"
                )
    return problems


def module_cycles(root: Path) -> list[list[str]]:
    """Cycles among the imports between modules of the package (a package's `__init__` included), wherever the
    import stands: at module level, in a function or under `if TYPE_CHECKING:`."""
    graph: dict[str, set[str]] = {}
    for path in checked_files(root):
        name = module_name(path, root)
        graph[name] = {module for module, _, _ in imports_of(path, root) if module != name}
    cycles, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for child in sorted(graph.get(node, ())):
            if state.get(child) == "open":
                cycles.append(stack[stack.index(child) :] + [child] if child in stack else [node, child])
            elif child not in state:
                visit(child, stack + [child])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return cycles


def test_every_import_respects_the_layer_table():
    assert layer_violations(SRC) == []


def test_the_layer_table_is_the_documented_one():
    """Every top-level module and package is in the table, and the table is the one `inrdict`'s docstring shows."""
    import inrdict

    tops = {
        path.name.removesuffix(".py")
        for path in SRC.iterdir()
        if path.suffix == ".py" or (path / "__init__.py").is_file()
    }
    assert tops == set(LAYERS)
    table = inrdict.__doc__.split("Layers, lowest first.")[1]
    rows: dict[int, str] = {}
    for line in table.splitlines():
        if line.strip()[:1].isdigit():
            layer = int(line.split()[0])
            rows[layer] = line
        elif rows and line.strip():
            rows[layer] += line  # a row continued on the next line
    for name, (layer, _) in LAYERS.items():
        assert name in rows[layer], (name, layer)


def test_no_import_cycle_even_through_a_function():
    assert module_cycles(SRC) == []


def test_the_checker_visits_every_module_of_the_package():
    """What Python can import from the package is exactly what the checker reads (a test that globbed only the top
    folder once missed every subpackage)."""
    import pkgutil

    import inrdict

    importable = {"inrdict"} | {m.name for m in pkgutil.walk_packages(inrdict.__path__, "inrdict.")}
    assert {module_name(path, SRC) for path in checked_files(SRC)} == importable


def test_the_store_knows_nothing_of_what_it_stores():
    cache_imports = {module for module, _, _ in imports_of(SRC / "io" / "cache.py", SRC)}
    assert not any(
        module.startswith("inrdict.ntk") or module.startswith("inrdict.analysis") for module in cache_imports
    )
    meta_imports = {module for module, _, _ in imports_of(SRC / "train" / "meta.py", SRC)}
    assert not {"inrdict.io.cache", "inrdict.io.checkpoints"} & meta_imports, meta_imports
    assert not any(module.startswith("inrdict.io") for module in meta_imports)
    checkpoint_imports = {module for module, _, _ in imports_of(SRC / "io" / "checkpoints.py", SRC)}
    assert "inrdict" not in checkpoint_imports  # the version comes from the leaf `_version`


@pytest.mark.parametrize(
    "planted, expected",
    [
        ("models/bad.py", "from inrdict.ntk import empirical_ntk\n"),  # up: models (1) → ntk (2)
        ("ntk/bad.py", "def f():\n    from inrdict.train.fit import fit\n"),  # sideways inside a function: ntk → train
        ("io/bad.py", "import inrdict.experiments\n"),  # up, plain import
        ("train/bad.py", "from inrdict import lens\n"),  # up through the package namespace: train (2) → analysis (4)
    ],
)
def test_the_checker_finds_a_planted_upward_import(tmp_path, planted, expected):
    fake = tmp_path / "inrdict"
    for package in ("models", "ntk", "train", "io", "analysis", "experiments"):
        (fake / package).mkdir(parents=True)
        (fake / package / "__init__.py").write_text("")
    (fake / "analysis" / "lens.py").write_text("")
    (fake / "__init__.py").write_text("")
    (fake / planted).write_text(expected)
    (problem,) = layer_violations(fake)
    assert planted in problem


def test_the_checker_finds_a_planted_cycle(tmp_path):
    fake = tmp_path / "inrdict"
    (fake / "models").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "models" / "__init__.py").write_text("")
    (fake / "models" / "a.py").write_text("from inrdict.models.b import x\n")
    (fake / "models" / "b.py").write_text("def f():\n    from inrdict.models.a import y\n")  # through a function
    assert module_cycles(fake)
