#!/usr/bin/env python3
"""CPU time of 8 shards of W1 run one after another plus `merge`, against one run.

Usage: scripts/shard-overhead.py [--threads T] [--no-plots] [--rounds R] [--bin PATH]

W1 is `ecocomp synth --regions 2800` at 10,000 draws, seed 1 (BENCHMARKS.md). Each
process's user + system time comes from getrusage of the children; the ratio is
(8 shards + merge) / single run. The merged regions.csv must equal the single run's
byte for byte, or the script fails. Build first: `cargo build --release`.
"""
import argparse
import filecmp
import os
import resource
import subprocess
import sys
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("--threads", default="1")
ap.add_argument("--no-plots", action="store_true")
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "ecocomp"))
a = ap.parse_args()
exe = os.path.abspath(a.bin)
if not os.path.exists(exe):
    sys.exit(f"{exe} not found: run `cargo build --release` first")


def cpu(cmd):
    """User + system seconds and minor page faults of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime,
            after.ru_minflt - before.ru_minflt)


with tempfile.TemporaryDirectory() as d:
    os.chdir(d)
    subprocess.run([exe, "synth", "--regions", "2800", "--out", "w1.toml"], check=True,
                   stdout=subprocess.DEVNULL)
    base = [exe, "run", "w1.toml", "--draws", "10000", "--seed", "1", "--quiet", "--force",
            "--threads", a.threads] + (["--no-plots"] if a.no_plots else [])
    merge_extra = ["--threads", a.threads] + (["--no-plots"] if a.no_plots else [])
    for r in range(a.rounds):
        single, _ = cpu(base + ["--out", "single"])
        shards = faults = 0.0
        for k in range(8):
            t, f = cpu(base + ["--out", f"s{k}", "--shard", f"{k}/8"])
            shards += t
            faults += f
        merge, _ = cpu([exe, "merge"] + [f"s{k}" for k in range(8)] + ["--out", "merged"] + merge_extra)
        if not filecmp.cmp("single/regions.csv", "merged/regions.csv", shallow=False):
            sys.exit("the merged regions.csv differs from the single run's")
        print(f"round {r + 1}: single {single:.3f} s, 8 shards {shards:.3f} s "
              f"({faults:.0f} page faults), merge {merge:.3f} s, "
              f"ratio {(shards + merge) / single:.3f}", flush=True)
