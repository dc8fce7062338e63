#!/usr/bin/env bash
# Regenerate the committed evidence (results/) and the pages generated from it:
#   the default `reproduce`; the labelled deviations the ledger names (ledger.toml `variants`); reruns of cheap
#   protocols on one thread (the same verdict on every machine, SPEC §11); the studies beyond the paper that the
#   docs cite. Then results.json files only are copied into results/, and docs/findings.md, the README's verdict
#   table and docs/results.md's numbers are regenerated from them.
#
#   bash scripts/make_evidence.sh [WORK_FOLDER]          (about 5 hours on 2 CPU cores from an empty cache; the
#                                                         work folder, outside the repository, is emptied first)
#   bash scripts/make_evidence.sh WORK_FOLDER RUN...     only these runs (`reproduce`, or a folder name of
#                                                         results/variants, e.g. family_comparison-default): their
#                                                         results.json replace the committed ones, the rest stay
#   bash scripts/make_evidence.sh --list                 the runs' names
set -euo pipefail
cd "$(dirname "$0")/.."
INRDICT=${INRDICT:-.venv/bin/inrdict}
PYTHON=${PYTHON:-.venv/bin/python}
WORK=${1:-/tmp/inrdict-evidence}
ONLY=("${@:2}")
SELF=scripts/make_evidence.sh  # this file, from the repository root (cd above)

wanted() {  # run name: selected (every run when no RUN is named)
  [[ ${#ONLY[@]} -eq 0 ]] && return 0
  local run
  for run in ${ONLY[@]+"${ONLY[@]}"}; do [[ $run == "$1" ]] && return 0; done
  return 1
}
# Fails up front on a name that is no run of this script, instead of after hours of the others.
KNOWN="reproduce $(sed -n 's/^variant [^ ]* \([^ ]*\) \([^ ]*\).*/\1-\2/p' "$SELF" | tr '\n' ' ')"
KNOWN+="$(sed -n 's/^one_thread [^ ]* \([^ ]*\) \([^ ]*\).*/\1-\2-1thread/p' "$SELF" | tr '\n' ' ')"
if [[ $WORK == --list ]]; then echo "$KNOWN"; exit 0; fi
if [[ " $KNOWN " == *" $WORK "* ]]; then
  echo "make_evidence: the first argument is the work folder (emptied), then the runs: WORK $*" >&2; exit 2
fi
if [[ "$(realpath -m "$WORK")/" == "$(pwd -P)/"* ]]; then
  echo "make_evidence: the work folder $WORK is inside the repository, and it is emptied first: name one outside" >&2
  exit 2
fi
for run in ${ONLY[@]+"${ONLY[@]}"}; do
  [[ -n $run && " $KNOWN " == *" $run "* ]] || { echo "make_evidence: no run named $run; the runs: $KNOWN" >&2; exit 2; }
done
rm -rf "$WORK" && mkdir -p "$WORK/variants"

if wanted reproduce; then "$INRDICT" reproduce --out "$WORK/reproduce" --no-progress; fi

variant() {  # registry name, experiment NAME, preset: one run into results/variants/NAME-PRESET
  wanted "$2-$3" || return 0
  "$INRDICT" figure "$1" --preset "$3" --out "$WORK/variants/$2-$3" --no-progress
}
variant 9 figure_9 lr_1e-3
variant 15 figure_15 gd
variant 13 figure_13 gd
variant 14 figure_14 gd
variant 13 figure_13 long
variant 14 figure_14 long
variant 13 figure_13 long_gd
variant 14 figure_14 long_gd

# The same protocols on one core (taskset; XLA's Eigen thread pool off): reruns of a preset must
# give the same outcome, or the verdict is inconclusive.
one_thread() {  # registry name, experiment NAME, preset
  wanted "$2-$3-1thread" || return 0
  XLA_FLAGS="--xla_cpu_multi_thread_eigen=false" \
    taskset -c 0 "$INRDICT" figure "$1" --preset "$3" --out "$WORK/variants/$2-$3-1thread" --no-progress
}
one_thread 3 figure_3 default
one_thread 9 figure_9 default
one_thread 9 figure_9 lr_1e-3

# Beyond the paper, cited by the docs.
variant families families default
# The grid encodings' atoms beside the ReLU MLP's, the FFN's and SIREN's (issue 33, ~3 min).
variant families families grids
variant predictors family_predictors default
# Grid encodings (issue 33): the NTK's point spread (~1 min); spectrum and PSNR against an MLP and an FFN (~3 min).
variant grid_psf grid_psf default
# The PSF after training on one point (GD step, Adam) against the NTK's (~1 min).
variant grid_psf_training grid_psf_training default
variant grid_spectrum grid_spectrum default
# The family comparison at 64², each family trained as its authors train it and tuned on training faces.
variant family_comparison family_comparison default  # ~55 min
# Chooses Figs. 12/16's Reptile setting on the validation faces (~20 min).
variant reptile reptile_sweep default
# `inrdict suggest`'s validation: the design split (the numbers behind BEST_CONSTANT and suggest.SHIFT_OCTAVES,
# which are set by hand from them, citing them; neither is applied on that split, so a rerun remakes the choices
# and in-sample constants of the record they were chosen from), then the held-out split, judged with the constants
# as committed (about an hour each on 2 cores from an empty cache; each unit is cached, so a rerun is resumable).
variant regret suggest_validation design
variant regret suggest_validation design_series
variant regret suggest_validation default

if [[ ${#ONLY[@]} -eq 0 ]]; then rm -rf results/reproduce results/variants; fi
if wanted reproduce; then
  rm -rf results/reproduce
  "$PYTHON" scripts/collect_results.py "$WORK/reproduce" results/reproduce
fi
if [[ ${#ONLY[@]} -eq 0 ]] || compgen -G "$WORK/variants/*/results.json" > /dev/null; then
  "$PYTHON" scripts/collect_results.py "$WORK/variants" results/variants  # a full run without results fails here
fi
"$INRDICT" findings results/reproduce results/variants --out docs/findings.md --readme README.md --measured docs/results.md
