#!/usr/bin/env python3
"""Compare a NumPy run (w1.py) with a Rust `ecocomp run` of the same scenario.

usage: compare.py RUST_OUT_DIR NUMPY_OUT_DIR [--z 4.5]

  * point: the deterministic point allocation must agree to 1e-9 relative (per formula,
    max over regions), and so must the point Gini;
  * Monte Carlo (different random streams, so statistical): per region x formula the mean,
    the paired difference and the probabilities as z-scores on the two runs' combined
    standard errors, the sd as a ratio, the p50 within z combined median standard errors
    plus the Rust quantile sketch's relative accuracy (0.5%, src/stats/sketch.rs), and the
    per-formula Gini mean. Prints the fraction of rows outside |z| <= Z.
Exits 1 when the point check fails.
"""
import argparse
import csv
import json
import math
import os
import sys
from collections import defaultdict

import numpy as np

SKETCH_ALPHA = 0.005
TEXT = ("formula", "id", "name", "group")


def load(d):
    rows = defaultdict(dict)
    with open(os.path.join(d, "regions.csv"), encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            rows[r["formula"]][r["id"]] = r
    with open(os.path.join(d, "summary.json"), encoding="utf-8") as fh:
        return rows, json.load(fh)


def col(rows, ids, name):
    return np.array([float(rows[i][name]) for i in ids])


def zscore(a, b, sa, sb):
    """(a - b) / sqrt(sa^2 + sb^2 + (1e-12 |a|)^2): the floor keeps rows that are constant
    in both runs (a region capped in every draw) from scoring rounding noise; where the
    errors are 0 the values must be equal (up to 1e-9 relative), scoring 0 or infinity."""
    se = np.sqrt(sa ** 2 + sb ** 2 + (1e-12 * np.abs(a)) ** 2)
    equal = np.abs(a - b) <= 1e-9 * np.maximum(np.abs(a), np.abs(b))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(se > 0, (a - b) / np.where(se > 0, se, 1.0), np.where(equal, 0.0, np.inf))


def binomial_z(pa, pb, na, nb):
    pool = (pa * na + pb * nb) / (na + nb)
    s = np.sqrt(pool * (1 - pool))
    return zscore(pa, pb, s / math.sqrt(na), s / math.sqrt(nb))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rust")
    ap.add_argument("numpy")
    ap.add_argument("--z", type=float, default=4.5,
                    help="z-score beyond which a row counts as outside")
    a = ap.parse_args()
    (rr, rs), (nr, ns) = load(a.rust), load(a.numpy)
    nrd, nnd = rs["draws"], ns["draws"]
    print(f"Rust: {nrd} draws; NumPy: {nnd} draws; outside = |z| > {a.z}")
    ok = True
    for f in rr:
        ids = list(rr[f])
        R = {c: col(rr[f], ids, c) for c in rr[f][ids[0]] if c not in TEXT}
        N = {c: col(nr[f], ids, c) for c in nr[f][ids[0]] if c not in TEXT}
        rel = np.abs(N["point"] - R["point"]) / np.maximum(np.abs(R["point"]), 1e-300)
        g_np = ns["formulas"][f]["point"]["gini"]
        g_rs = rs["comparison_point"][f]["gini"]
        g_rel = abs(g_np - g_rs) / g_rs
        ok &= bool(rel.max() <= 1e-9 and g_rel <= 1e-9)
        print(f"\n[{f}] point: max rel diff {rel.max():.2e} over {len(ids)} regions "
              f"(max abs {np.abs(N['point'] - R['point']).max():.2e}); "
              f"point Gini rel diff {g_rel:.1e}")
        checks = {
            "mean": zscore(N["mean"], R["mean"], N["se"], R["se"]),
            "diff_mean": zscore(N["diff_mean"], R["diff_mean"], N["diff_se"], R["diff_se"]),
            "p_deduction": binomial_z(N["p_deduction"], R["p_deduction"], nnd, nrd),
            "p_floor": binomial_z(N["p_floor"], R["p_floor"], nnd, nrd),
            "p_cap": binomial_z(N["p_cap"], R["p_cap"], nnd, nrd),
            "p_gain": binomial_z(N["p_gain"], R["p_gain"], nnd, nrd),
        }
        # Median: standard error ~ sqrt(pi/2) sd / sqrt(n) for a smooth density, plus the
        # Rust sketch's relative error (its p50 is a sketch estimate at these draw counts).
        se_med = math.sqrt(math.pi / 2) * np.sqrt(N["sd"] ** 2 / nnd + R["sd"] ** 2 / nrd)
        tol = a.z * se_med + SKETCH_ALPHA * np.abs(R["p50"])
        p50_out = np.abs(N["p50"] - R["p50"]) > tol
        for name, z in checks.items():
            out = np.abs(z) > a.z
            print(f"  {name:12s} outside {out.mean():7.2%} ({out.sum():4d} rows), max |z| "
                  f"{np.max(np.abs(z)):6.2f}, mean z {np.mean(z[np.isfinite(z)]):+.3f}")
        print(f"  {'p50':12s} outside {p50_out.mean():7.2%} ({p50_out.sum():4d} rows) "
              f"[tolerance {a.z} median se + {SKETCH_ALPHA:.1%}]")
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = N["sd"] / R["sd"]
        ratio = ratio[np.isfinite(ratio)]
        print(f"  sd ratio NumPy/Rust: median {np.median(ratio):.4f}, 1%..99% "
              f"{np.percentile(ratio, 1):.3f}..{np.percentile(ratio, 99):.3f} "
              f"(expected spread ~ +-{2.33 * math.sqrt(0.5 / nnd + 0.5 / nrd):.3f})")
        gr, gn = rs["monte_carlo"]["formulas"][f]["gini"], ns["formulas"][f]["gini"]
        gz = (gn["mean"] - gr["mean"]) / math.hypot(gn["se"], gr["se"])
        print(f"  Gini mean: NumPy {gn['mean']:.6f} +- {gn['se']:.1e}, Rust {gr['mean']:.6f} "
              f"+- {gr['se']:.1e}, z {gz:+.2f}; sd {gn['sd']:.2e} vs {gr['sd']:.2e}")
    print("\npoint check:", "PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
