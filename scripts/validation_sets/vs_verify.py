import tomllib, collections, re, subprocess
import numpy as np
from pathlib import Path
from PIL import Image
D = Path("/work/main/src/inrdict/experiments/validation_sets")
m = tomllib.loads((D / "sets.toml").read_text(encoding="utf-8"))
S = m["signal"]; FIELDS = ["name", "split", "kind", "category", "loader", "origin", "licence", "transform", "shape"]
bad = []; names = set(); cnt = collections.Counter(); files_seen = set()
for s in S:
    if sorted(s) != sorted(FIELDS): bad.append((s.get("name"), "fields", sorted(s)))
    n = s["name"]
    if not re.fullmatch(r"[a-z0-9_]+", n) or n in names: bad.append((n, "name"))
    names.add(n); assert s["split"] in ("design", "held_out") and s["kind"] in ("image", "series", "volume")
    cnt[(s["split"], s["kind"])] += 1
    kind, _, ref = s["loader"].partition(":")
    if kind == "file":
        p = D / ref; files_seen.add(p.resolve())
        a = np.asarray(Image.open(p)) if p.suffix == ".png" else np.load(p)["signal"]
        if p.suffix == ".png": ok = Image.open(p).mode == "L" and a.dtype == np.uint8
        else: ok = a.dtype == np.float32
        if not ok: bad.append((n, "dtype/mode", a.dtype))
        if list(a.shape) != s["shape"]: bad.append((n, "shape", a.shape, s["shape"]))
        if not np.all(np.isfinite(a)) or float(a.max()) == float(a.min()): bad.append((n, "finite/constant"))
        if s["kind"] == "image" and min(a.shape) < 128 and s["split"] == "held_out": bad.append((n, "<128"))
        if s["kind"] == "image" and max(a.shape) > 512: bad.append((n, ">512"))
        if s["kind"] == "series" and (a.ndim != 1 or (s["split"] == "held_out" and a.size < 256)): bad.append((n, "series"))
        if s["kind"] == "volume" and (a.ndim != 3 or min(a.shape) < 24): bad.append((n, "volume"))
    elif kind == "bundled":
        from inrdict.io.data import bundled_image
        a = bundled_image(ref)
        if list(a.shape) != s["shape"]: bad.append((n, "bundled shape"))
    elif kind != "sdf": bad.append((n, "loader"))
stray = [p for p in D.rglob("*") if p.is_file() and p.suffix in (".png", ".npz") and p.resolve() not in files_seen]
print("signals:", len(S), "| problems:", bad or "none", "| unreferenced files:", stray or "none")
for sp in ("held_out", "design"):
    print(sp, {k: cnt[(sp, k)] for k in ("image", "series", "volume")})
for sp in ("held_out", "design"):
    v = [s for s in S if s["split"] == sp and s["kind"] == "volume"]
    print(sp, "volumes: real", sum(s["loader"].startswith("file:") for s in v), "sdf", sum(s["loader"].startswith("sdf:") for s in v))
print(subprocess.run(["du", "-sh", str(D)], capture_output=True, text=True).stdout.strip())
