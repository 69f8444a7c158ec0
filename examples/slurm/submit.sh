#!/usr/bin/env bash
# Queue the shard array, then the merge, which starts only if every shard succeeded.
# Settings travel as environment variables (sbatch exports them to the jobs by default):
#   SCENARIO, DRAWS, SEED, SHARDS (must match --array), WORK, OUT, ECOCOMP.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p logs
array_id=$(sbatch --parsable run_array.sbatch)
array_id=${array_id%%;*}
sbatch --parsable --dependency="afterok:${array_id}" merge.sbatch
