#!/usr/bin/env bash
# One prepared GPU check: the NTK (dense 64², matrix-free 256², the P×P route at 512² and 1024², two processes),
# eigendecomposition, fitting, MAML and fine-tuning
# benchmarks on whatever accelerator JAX sees, each printing its table and writing JSON. Budget: ≤ 8 min on one
# H100-class GPU.
#
#   benchmarks/gpu.sh [--dry-run] [--install]
#
#   --dry-run   run on the CPU with the quick sizes (check the script before spending device time)
#   --install   pip install "jax[cuda12]==0.10.2" into .venv first (a machine of your own, with network)
#
# Python: $PYTHON if set; else .venv/bin/python when its JAX sees a GPU; else python3 (e.g. a GPU image that ships
# JAX with CUDA, with inrdict's src/ put on PYTHONPATH). Results go to benchmarks/results/gpu/ and, when $OUT is
# set (the device tool), to $OUT as well.
set -euo pipefail
cd "$(dirname "$0")/.."
dry_run=0
install=0
for arg in "$@"; do
  case "$arg" in
    --dry-run) dry_run=1 ;;
    --install) install=1 ;;
    *) echo "usage: benchmarks/gpu.sh [--dry-run] [--install]" >&2; exit 2 ;;
  esac
done
if [[ $install == 1 ]]; then
  .venv/bin/python -m pip install --quiet "jax[cuda12]==0.10.2"
fi
sees_gpu() { "$1" -c 'import jax, sys; sys.exit(0 if any(d.platform == "gpu" for d in jax.devices()) else 1)' 2>/dev/null; }
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x .venv/bin/python ]] && { [[ $dry_run == 1 ]] || sees_gpu .venv/bin/python; }; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
# The benchmarks time children in fresh processes: without this the parent takes 75 % of the GPU and they run out.
export XLA_PYTHON_CLIENT_PREALLOCATE=false
if [[ $dry_run == 0 ]] && ! sees_gpu "$PYTHON"; then
  echo "no GPU visible to $PYTHON's JAX: use --dry-run on a CPU, or --install on a CUDA machine" >&2; exit 2
fi
results=benchmarks/results/gpu
mkdir -p "$results"
"$PYTHON" -c 'import jax; print("JAX", jax.__version__, "devices:", jax.devices())'
quick=()
[[ $dry_run == 1 ]] && quick=(--quick)
start=$SECONDS
run() {  # name, command...: time one benchmark, keep going if it fails
  local name=$1; shift
  echo; echo "=== $name ($((SECONDS - start)) s so far)"
  if ! "$@"; then echo "!!! $name failed"; fi
  if [[ -n "${OUT:-}" ]]; then cp "$results"/*.json "$OUT"/ 2>/dev/null || true; fi  # keep what is done if cut off
}
run "NTK: structured dense kernel at 64² (+ eigendecomposition)" \
  "$PYTHON" benchmarks/ntk.py --models siren relu --methods jacobian --small-grid 32 --eigsh-k 200 \
  --json "$results/ntk.json" "${quick[@]}"
run "NTK: matrix-free top-64 eigenpairs up to 256²" \
  "$PYTHON" benchmarks/ntk_topk.py --timeout 240 --json "$results/ntk_topk.json" "${quick[@]}"
if [[ $dry_run == 1 ]]; then hires=(--quick); else hires=(--grids 512 1024 --k 64 --processes 1); fi
run "NTK: top-k at 512² and 1024² (the P×P route), estimate vs measured" \
  "$PYTHON" benchmarks/ntk_hires.py --json "$results/ntk_hires.json" "${hires[@]}"
# Several processes: one per GPU where there are several; on one GPU, two CPU processes show the route works here.
run "NTK: top-k across 2 processes (jax.distributed; CPU processes on 127.0.0.1 unless there are 2+ GPUs)" \
  env JAX_PLATFORMS=cpu "$PYTHON" benchmarks/ntk_hires.py --quick --processes 2 --json "$results/ntk_hires_processes.json"
run "fit: Fig. 2 FFN steps" "$PYTHON" benchmarks/fit.py --no-reproduce --json "$results/fit.json" "${quick[@]}"
run "meta-learning: MAML / FOMAML / Reptile steps" "$PYTHON" benchmarks/meta.py --json "$results/meta.json" --quick
run "fine-tuning: 100 faces x 10 iterations" "$PYTHON" benchmarks/finetune.py --json "$results/finetune.json" "${quick[@]}"
if [[ $dry_run == 0 ]] && (( SECONDS - start < 280 )); then  # Fig. 5 at 256² (MAML SIREN learned first, default preset), if time is left
  fig5=$(mktemp -d)
  run "Fig. 5 --preset hires (NTK eigenvectors of 7 models at 256²)" \
    timeout 180 "$PYTHON" -m inrdict figure 5 --preset hires --out "$fig5/figure5" --no-progress
  if [[ -f "$fig5/figure5/results.json" ]]; then cp "$fig5/figure5/results.json" "$results/figure5_hires.json"; fi
  if [[ -n "${OUT:-}" ]]; then cp "$results"/*.json "$OUT"/ 2>/dev/null || true; fi
fi
echo; echo "all benchmarks done in $((SECONDS - start)) s; JSON in $results"
