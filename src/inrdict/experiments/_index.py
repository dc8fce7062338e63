"""One page to look at: `index.html` over a folder of run folders, generated from their results.json files.

A static page (no scripts, no downloads): per experiment its main picture, its claims (holds / fails), sanity
checks, our numbers beside the paper's, the summary lines the CLI prints, the preset and the time taken.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from inrdict._io import atomic_write_text
from inrdict.errors import InrdictError
from inrdict.experiments._evidence import declared, verdict
from inrdict.experiments._findings import outcome_text

STYLE = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
section{border-top:1px solid #ccc;padding:1em 0}img{max-width:100%;border:1px solid #eee}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:2px 8px;text-align:left}
.holds{color:#176117;font-weight:bold}.fails{color:#a01010;font-weight:bold}.inconclusive{color:#8a6d00;font-weight:bold}.meta{color:#666;font-size:90%}
.evidence{font-size:80%;color:#444;max-width:520px}"""


def _runs(root: Path) -> list[tuple[Path, dict]]:
    """(folder, results) of every run folder directly under `root`, in registry order, then by name."""
    from inrdict.experiments import REGISTRY

    order = {module.NAME: i for i, module in enumerate(REGISTRY.values())}
    runs = []
    for path in sorted(root.glob("*/results.json")):
        try:
            runs.append((path.parent, json.loads(path.read_text())))
        except (OSError, ValueError):
            continue  # not a finished run folder
    return sorted(runs, key=lambda run: (order.get(run[1].get("experiment"), len(order)), run[0].name))


def _picture(folder: Path, experiment: str | None) -> str | None:
    from inrdict.experiments import REGISTRY, overview_stem

    stems = [overview_stem(m) for m in REGISTRY.values() if experiment == m.NAME] + ["overview"]
    for stem in stems:
        if (folder / f"{stem}.png").is_file():
            return f"{folder.name}/{stem}.png"
    pngs = sorted(folder.glob("*.png"))
    return f"{folder.name}/{pngs[0].name}" if pngs else None


def _number(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def _checks(title: str, checks: dict) -> str:
    if not checks:
        return ""
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td class={'holds' if ok else 'fails'}>{'holds' if ok else 'fails'}</td></tr>"
        for name, ok in checks.items()
    )
    return f"<h3>{title}</h3><table>{rows}</table>"


def _outcomes(evidence: dict) -> str:
    rows = "".join(f"<tr><td>{html.escape(name)}</td><td class={e.get('outcome')}>{html.escape(outcome_text(e))}</td></tr>"
                   for name, e in evidence.items())  # fmt: skip
    return f"<h3>Claims</h3><table>{rows}</table>"


def _section(folder: Path, results: dict) -> str:
    from inrdict.experiments import REGISTRY

    experiment = results.get("experiment")
    module = next((m for m in REGISTRY.values() if experiment == m.NAME), None)
    parts = [
        f"<section id='{html.escape(folder.name)}'><h2>{html.escape(results.get('title') or str(experiment))}</h2>"
    ]
    parts.append(
        f"<p class=meta>{html.escape(folder.name)} · preset {html.escape(str(results.get('preset')))} · seed "
        f"{html.escape(str(results.get('seed')))} · {results.get('precision', '')} · {results.get('wall_seconds', 0):.1f} s · "
        f"{html.escape(str(results.get('device', {}).get('platform', '')))} · finished {html.escape(str(results.get('finished_utc', '')))}</p>"
    )  # fmt: skip
    picture = _picture(folder, experiment)
    if picture:
        parts.append(
            f"<a href='{html.escape(picture)}'><img src='{html.escape(picture)}' alt='{html.escape(folder.name)}'></a>"
        )
    parts.append(_outcomes(results.get("evidence", {})))
    parts.append(_checks("Sanity checks (true by construction)", results.get("sanity", {})))
    versus = results.get("versus_paper", [])
    if versus:
        rows = "".join(
            f"<tr><td>{html.escape(r['quantity'])}</td><td>{_number(r.get('ours'))}</td><td>{_number(r.get('paper'))}</td>"
            f"<td>{html.escape(r.get('unit', ''))}</td></tr>"
            for r in versus
        )
        parts.append(
            f"<h3>Ours beside the paper's</h3><table><tr><th>quantity</th><th>ours</th><th>paper</th><th></th></tr>{rows}</table>"
        )
    if module is not None:
        try:
            lines = module.summary(results["numbers"])
        except (KeyError, TypeError, ValueError, IndexError):
            lines = []
        if lines:
            rows = "".join(
                f"<tr><td>{html.escape(label)}</td><td>{html.escape(text)}</td></tr>" for label, text in lines
            )
            parts.append(f"<h3>Numbers</h3><table>{rows}</table>")
    parts.append(f"<p class=meta><a href='{html.escape(folder.name)}/results.json'>results.json</a> · "
                 f"<a href='{html.escape(folder.name)}/arrays.npz'>arrays.npz</a></p></section>")  # fmt: skip
    return "".join(parts)


def _claims_at_a_glance(runs: list[tuple[Path, dict]]) -> str:
    """One row per claim of every run: experiment, claim, its ledger definition, this run's outcome with its numbers,
    and the verdict this run alone gives (`_evidence.verdict`; the findings page combines it with variant runs)."""
    rows = []
    for folder, results in runs:
        experiment, preset = results.get("experiment"), results.get("preset") or "custom"
        for name, record in results.get("evidence", {}).items():
            claim = declared(str(experiment), name)
            definition = f"{claim.metric} {claim.op} {claim.threshold:g}" if claim else "not in the ledger"
            label = verdict(claim, [(preset, record)])[0] if claim else "not in the ledger"
            outcome = record.get("outcome", "inconclusive")
            rows.append(f"<tr><td><a href='#{html.escape(folder.name)}'>{html.escape(folder.name)}</a></td>"
                        f"<td><code>{html.escape(name)}</code></td><td class=evidence>{html.escape(definition)}</td>"
                        f"<td class={outcome}>{html.escape(outcome_text(record))}</td><td>{html.escape(label)}</td></tr>")  # fmt: skip
    return (
        "<h2>Every claim</h2><table id=claims><tr><th>experiment</th><th>claim</th><th>metric and threshold (ledger)"
        "</th><th>on this run</th><th>verdict from this run</th></tr>" + "".join(rows) + "</table>"
    )


def write_index(root: str | Path) -> Path:
    """Write `root/index.html` over the run folders in `root`; returns its path."""
    root = Path(root)
    if not root.is_dir():
        raise InrdictError(f"no such folder: {root} (give the folder that holds the run folders, e.g. figures)")
    runs = _runs(root)
    if not runs:
        raise InrdictError(f"no finished runs (folders with results.json) in {root}")
    outcomes = [e.get("outcome") for _, r in runs for e in r.get("evidence", {}).values()]
    body = "".join(_section(folder, results) for folder, results in runs)
    contents = "".join(
        f"<li><a href='#{html.escape(folder.name)}'>{html.escape(results.get('title') or folder.name)}</a></li>"
        for folder, results in runs
    )
    page = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>inrdict results</title><style>{STYLE}</style>"
        f"</head><body><h1>inrdict results</h1><p>{len(runs)} experiments; of their {len(outcomes)} claims "
        f"{outcomes.count('holds')} hold, {outcomes.count('fails')} fail and {outcomes.count('inconclusive')} are "
        f"inconclusive on these runs. Generated from each folder's results.json and the claims ledger. Verdicts over "
        f"every run we committed, with the labelled deviations: "
        f"<a href='../docs/findings.md'>docs/findings.md</a> (in the inrdict repository).</p>"
        f"{_claims_at_a_glance(runs)}<h2>Experiments</h2><ul>{contents}</ul>{body}</body></html>\n"
    )
    path = root / "index.html"
    atomic_write_text(path, page, "index page")
    return path
