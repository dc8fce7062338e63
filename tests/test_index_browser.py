"""`figures/index.html` in a real browser: headless Chromium renders the page, every image loads, and the page
opens with the table of every claim (holds / fails, with its verdict). Skipped where no Chromium is installed,
unless INRDICT_REQUIRE_BROWSER=1 (`.ci/run` installs Debian's chromium and sets it)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from inrdict.experiments import REGISTRY
from inrdict.experiments._evidence import judge_all, outcomes
from inrdict.experiments._index import write_index

# Appended to a copy of the page (the page itself has no scripts): after load, the title reports what rendered.
PROBE = """<script>window.addEventListener("load", () => {
  const images = [...document.images];
  const broken = images.filter(i => !(i.complete && i.naturalWidth > 0)).length;
  const table = document.querySelector("table#claims");
  const first = document.querySelector("h2");
  const rows = table ? table.querySelectorAll("tr").length - 1 : -1;
  document.title = `PROBE images=${images.length} broken=${broken} claim_rows=${rows} first=${first && first.textContent}`;
});</script></body>"""


def _browser() -> str | None:
    found = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    if found is None and os.environ.get("INRDICT_REQUIRE_BROWSER") == "1":
        pytest.fail("INRDICT_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium)")
    return found


def _run_folder(root, name: str, experiment: str, evidence: dict[str, dict]) -> None:
    from inrdict.plotting import plt, save

    folder = root / name
    folder.mkdir()
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.imshow(np.random.default_rng(0).uniform(size=(8, 8)))
    save(fig, folder, "overview")
    results = {"experiment": experiment, "title": f"{name} title", "preset": "default", "seed": 0, "evidence": evidence,
               "claims": outcomes(evidence), "numbers": {}, "wall_seconds": 1.0}  # fmt: skip
    (folder / "results.json").write_text(json.dumps(results))


def test_the_results_page_renders_in_headless_chromium(tmp_path):
    browser = _browser()
    if browser is None:
        pytest.skip("no Chromium on PATH (apt-get install chromium); .ci/run installs it")
    figure11, figure2 = REGISTRY["11"], REGISTRY["2"]
    spearman = judge_all(figure11.NAME, {"energy_predicts_learnability_spearman_ge_0.7": [0.5, 0.55, 0.6],
                                         "meta_ffn_has_highest_psnr_at_3": [1.0, 2.0, 1.5]})  # fmt: skip
    _run_folder(tmp_path, "figure11", figure11.NAME, spearman)
    _run_folder(tmp_path, "figure2", figure2.NAME, judge_all(figure2.NAME, {"f0_1_odd_bins_empty": 1e-14}))
    page = write_index(tmp_path).read_text()
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", PROBE, 1))
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--allow-file-access-from-files", "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()]  # fmt: skip

    def render() -> tuple[str, str]:
        rendered = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout
        title = re.search(r"<title>(PROBE[^<]*)</title>", rendered)
        assert title, rendered[:500]
        return title.group(1), rendered

    title, rendered = render()
    assert title == "PROBE images=2 broken=0 claim_rows=3 first=Every claim"
    # verdicts computed from the evidence: three seeds below 0.7, three above 0, one deterministic value
    assert "<td>does not reproduce</td>" in rendered and rendered.count("<td>reproduces</td>") == 2
    (tmp_path / "figure2" / "overview.png").unlink()  # the probe sees a picture that does not load
    assert render()[0] == "PROBE images=2 broken=1 claim_rows=3 first=Every claim"
