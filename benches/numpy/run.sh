#!/usr/bin/env bash
# NumPy reference of the W1 workload: validate it against the Rust, or time both.
#
#   benches/numpy/run.sh check   # 2,000-draw runs of both, then compare.py (default)
#   benches/numpy/run.sh time    # one 10,000-draw run of each, wall time and peak memory
#
# Environment: ECOCOMP (the ecocomp binary, default target/release/ecocomp: build it first),
# PYTHON (Python >= 3.11 with numpy, default python3), WORK (scratch folder, default
# /tmp/ecocomp-numpy), DRAWS (draws of the check, default 2000), THREADS (Rust threads of the
# timing, default 2). NumPy always runs on one thread.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ECOCOMP=${ECOCOMP:-target/release/ecocomp}
PYTHON=${PYTHON:-python3}
WORK=${WORK:-/tmp/ecocomp-numpy}
DRAWS=${DRAWS:-2000}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
"$PYTHON" -c 'import numpy' 2>/dev/null || {
  echo "numpy missing: python3 -m venv /tmp/npvenv && /tmp/npvenv/bin/pip install numpy," \
       "then PYTHON=/tmp/npvenv/bin/python $0 $*" >&2
  exit 2
}
mkdir -p "$WORK"
"$ECOCOMP" synth --regions 2800 --seed 1 --out "$WORK/w1.toml" >/dev/null
# The reference implements the earlier budget rule, in which every component is scaled.
sed -i 's/^scale = "key"$/scale = "all"/' "$WORK/w1.toml"
grep -q '^scale = "all"$' "$WORK/w1.toml" || { echo "could not set budget.scale = \"all\"" >&2; exit 2; }
case "${1:-check}" in
check)
  "$ECOCOMP" run "$WORK/w1.toml" --draws "$DRAWS" --threads 1 --no-plots --quiet \
    --out "$WORK/rust"
  "$PYTHON" "$here/w1.py" "$WORK/w1.toml" --draws "$DRAWS" --out "$WORK/numpy"
  "$PYTHON" "$here/compare.py" "$WORK/rust" "$WORK/numpy"
  ;;
time)
  uptime
  # OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, where set, slow numpy down: not for the timing.
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/time -f 'numpy process: %e s wall, %M kB peak RSS' \
    "$PYTHON" "$here/w1.py" "$WORK/w1.toml" --draws 10000 --out "$WORK/numpy10k"
  /usr/bin/time -f 'rust process: %e s wall, %M kB peak RSS' \
    "$ECOCOMP" run "$WORK/w1.toml" --draws 10000 --threads "${THREADS:-2}" --no-plots --quiet \
    --out "$WORK/rust10k"
  ;;
*)
  echo "usage: $0 [check|time]" >&2
  exit 2
  ;;
esac
