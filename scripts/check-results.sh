#!/usr/bin/env bash
# Checks that a change leaves every result unchanged: runs the same commands with the
# binary built from REV and with the working tree's, and compares their output files.
#
#   scripts/check-results.sh REV          build REV in a temporary worktree, then compare
#   BASE_BIN=path scripts/check-results.sh   compare against an already built binary
#
# Compared byte for byte: regions.csv, basins.csv, sections.csv, breakdown.csv,
# basins_breakdown.csv, comparison.csv, sensitivity.csv; summary.json and metrics.json
# by value, except the thread count. Every scenario in scenarios/ runs on 1 and 2 threads,
# and so does `synth --regions 2800 --seed 1` at 2,000 draws; `compare` and `sensitivity`
# run on the national scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -z "${BASE_BIN:-}" ]; then
  rev=${1:?usage: scripts/check-results.sh REV (or set BASE_BIN)}
  tree="$work/base-tree"
  git worktree add --detach "$tree" "$rev" >/dev/null
  trap 'git -C "$root" worktree remove --force "$tree" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
  echo "== building $rev"
  (cd "$tree" && CARGO_TARGET_DIR="$root/target/check-results" cargo build --release -q)
  BASE_BIN="$root/target/check-results/release/ecocomp"
  cp "$BASE_BIN" "$work/base-ecocomp"
  BASE_BIN="$work/base-ecocomp"
fi
echo "== building the working tree"
cargo build --release -q
NEW_BIN="${CARGO_TARGET_DIR:-$root/target}/release/ecocomp"

# The base binary writes it: a newer binary reads older scenario files, not the reverse.
"$BASE_BIN" synth --regions 2800 --seed 1 --out "$work/synth/w1.toml" >/dev/null

fail=0
compare_dirs() { # label base new
  local label=$1 a=$2 b=$3 f
  for f in regions.csv basins.csv sections.csv breakdown.csv basins_breakdown.csv \
           comparison.csv sensitivity.csv; do
    if [ -e "$a/$f" ] || [ -e "$b/$f" ]; then
      if ! cmp -s "$a/$f" "$b/$f"; then
        echo "DIFFERS: $label $f"; fail=1
      fi
    fi
  done
  for f in summary.json metrics.json; do
    if [ -e "$a/$f" ] || [ -e "$b/$f" ]; then
      if ! python3 - "$a/$f" "$b/$f" <<'PY'
import json, sys
def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k not in ("threads",)}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v
a, b = (strip(json.load(open(p))) for p in sys.argv[1:3])
sys.exit(0 if a == b else 1)
PY
      then echo "DIFFERS: $label $f"; fail=1; fi
    fi
  done
}

run_both() { # label args...
  local label=$1; shift
  "$BASE_BIN" "$@" --out "$work/base/$label" >/dev/null
  "$NEW_BIN" "$@" --out "$work/new/$label" >/dev/null
  compare_dirs "$label" "$work/base/$label" "$work/new/$label"
  echo "ok-or-reported: $label"
}

for t in 1 2; do
  for s in scenarios/*.toml; do
    name=$(basename "$s" .toml)
    run_both "$name-t$t" run "$s" --threads "$t" --quiet --no-plots
  done
  run_both "synth2800-t$t" run "$work/synth/w1.toml" --draws 2000 --threads "$t" --quiet --no-plots
  run_both "compare-t$t" compare scenarios/national.toml --threads "$t" --draws 500
  run_both "sensitivity-t$t" sensitivity scenarios/national.toml --formula redline_reform \
    --method morris --threads "$t"
done
# Across thread counts, the new binary against itself.
for label in $(ls "$work/new" | sed -n 's/-t1$//p'); do
  compare_dirs "$label t1/t2" "$work/new/$label-t1" "$work/new/$label-t2"
done
if [ "$fail" = 0 ]; then echo "results unchanged"; else echo "results CHANGED"; exit 1; fi
