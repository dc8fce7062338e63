"""Copy the results.json of finished runs into the repository's evidence folder (arrays and figures stay out).

    python scripts/collect_results.py figures results/reproduce        # a default `reproduce`
    python scripts/collect_results.py /tmp/runs results/variants      # labelled deviations, reruns

Every run folder under SOURCE (a folder holding results.json) becomes DEST/<its name>/results.json. The README,
docs/findings.md and docs/results.md are generated from these files (`inrdict findings`, see docs/findings.md's
header), and tests/test_evidence_docs.py checks that they match.
"""

import json
import shutil
import sys
from pathlib import Path


def main(source: Path, dest: Path) -> int:
    runs = sorted(p.parent for p in source.glob("*/results.json"))
    if not runs:
        print(f"no run folders with results.json in {source}", file=sys.stderr)
        return 2
    for run in runs:
        json.loads((run / "results.json").read_text())  # a complete file, or stop here
        (dest / run.name).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(run / "results.json", dest / run.name / "results.json")
    print(f"copied {len(runs)} results.json files into {dest}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
