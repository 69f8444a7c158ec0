#!/usr/bin/env python3
"""Vectorised NumPy reference of `ecocomp run` for vertical-only scenarios such as W1.

This is the yardstick of the speed goal ("at least 25x faster than a vectorised NumPy
implementation of the same workload"). It computes what a Monte Carlo `ecocomp run` computes
for the vertical model (docs/model.md sections 1 and 3), written the way a competent NumPy user
would: every draw of a batch is a row of 2-D (draws x regions) arrays, and no Python loop
runs over regions or draws.

  * Point allocation on central values (compare with the `point` column of regions.csv).
  * Monte Carlo: additive / mean-preserving multiplicative noise with a group common factor,
    truncation by resampling; every formula on the same sampled inputs (common random
    numbers); the exact fixed-budget scale per draw (vectorised Newton steps on the
    piecewise-linear budget function, each confirmed exact, with an exact sort-based solve
    for the draws that do not settle).
  * Per region x formula: mean, sd, se, min, max, exact type-7 p05..p95, P(deduction),
    P(binding floor), P(binding cap), paired difference against the baseline formula and
    P(gain). Per formula: the Gini of every draw and its summary.

Only the features W1 uses are supported; anything else is rejected with a message. The
random numbers are NumPy's (PCG64, one stream per batch of draws from the scenario seed),
not the Rust xoshiro streams, so agreement with the Rust is statistical.

Usage: w1.py SCENARIO.toml --out DIR [--draws N] [--seed S] [--batch B]
Writes DIR/regions.csv (the columns of ecocomp's regions.csv plus diff_sd) and
DIR/summary.json (point and Monte Carlo Gini per formula, timings, peak RSS).
"""
import argparse
import csv
import json
import math
import os
import resource
import sys
import time
import tomllib

# Single-threaded by design (the benchmark compares one core with one core); the caller may
# override these.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")
import numpy as np  # noqa: E402

NUMERIC = ["std_revenue", "std_expenditure", "eco_spending", "area_km2", "redline_km2",
           "pa_km2", "pa_count", "pa_score", "rangers", "population", "eqi_change",
           "damage_index", "prior_allocation"]
TEXT = ["id", "name", "group", "hold_harmless", "tags", "source", "note"]
# Columns the noise may touch: the ones the Rust kernel reads fresh every draw. Noise on any
# other column would change the pools and is not supported here.
NOISE_COLUMNS = ("std_revenue", "eqi_change", "damage_index")
PERCENTILES = [5, 25, 50, 75, 95]
NEWTON_STEPS = 8      # as the Rust's WARM_START_STEPS; rows still moving go to the sort solve


class Unsupported(Exception):
    """A scenario feature this reference does not implement."""


# --------------------------------------------------------------------------- input
def keys(table, allowed, where):
    extra = set(table) - set(allowed)
    if extra:
        raise Unsupported(f"{where}: unsupported key(s) {sorted(extra)}")
    return table


def num(v, where):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise Unsupported(f"{where} = {v!r}: only plain numbers (no distributions) are supported")
    return float(v)


def load_regions(path):
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    header = [h.strip() for h in rows[0].keys()] if rows else []
    for h in header:
        if h not in NUMERIC and h not in TEXT:
            raise Unsupported(f"{path}: unsupported column {h!r}")
    cols = {c: np.array([float(r[c].strip() or 0.0) if c in r else 0.0 for r in rows])
            for c in NUMERIC}
    if np.any(cols["std_expenditure"] <= 0):
        raise Unsupported("std_expenditure must be > 0")
    groups = [(r.get("group") or "").strip() or "all" for r in rows]
    names = sorted(set(groups))
    return dict(cols=cols, n=len(rows),
                id=[r["id"].strip() for r in rows],
                name=[(r.get("name") or "").strip() or r["id"].strip() for r in rows],
                group=groups, gidx=np.array([names.index(g) for g in groups]), ngroups=len(names),
                hold=np.array([(r.get("hold_harmless") or "").strip().lower()
                               in ("true", "1", "yes", "y") for r in rows]),
                tags=[{t.strip() for t in (r.get("tags") or "").split(";") if t.strip()}
                      for r in rows])


def prepare_formula(raw, i, reg, total):
    """Everything about formula `raw` that no draw changes (as the Rust Kernel::refresh)."""
    at = f"formula[{i}]"
    keys(raw, ["name", "description", "key", "importance", "protected_areas", "redline",
               "guidance", "rangers", "quality", "reverse_linkage", "floor", "cap"], at)
    c, n, tags = reg["cols"], reg["n"], reg["tags"]
    area, red = c["area_km2"], c["redline_km2"]
    cover = np.divide(red, area, out=np.zeros(n), where=area > 0)   # r = L/A, 0 without area
    f = dict(name=raw["name"], bands=(), need=np.zeros(n), factor=np.zeros(n))
    if "key" in raw:
        k = keys(raw["key"], ["c0", "eco_weight", "redline_uplift", "bands"], at + ".key")
        imp = {t: num(v, f"{at}.importance.{t}") for t, v in raw.get("importance", {}).items()}
        # m = max over the region's tags of the multipliers (1.0 when none applies)
        m = np.array([max((imp[t] for t in ts if t in imp), default=1.0) for ts in tags])
        f["need"] = c["std_expenditure"] + num(k.get("eco_weight", 0.0), at) * c["eco_spending"]
        f["factor"] = num(k["c0"], at) * m * (1.0 + num(k.get("redline_uplift", 0.0), at) * cover)
        f["bands"] = tuple((num(lb, at), num(mu, at)) for lb, mu in k.get("bands", []))
        if any(b[0] <= a[0] for a, b in zip(f["bands"], f["bands"][1:])):
            raise Unsupported(f"{at}.key.bands must have strictly increasing lower bounds")
    unallocated, share_sum = 0.0, 0.0

    def pool(name, weights):
        nonlocal unallocated, share_sum
        p = raw[name]
        if ("share" in p) == ("amount" in p):
            raise Unsupported(f"{at}.{name}: give exactly one of share or amount")
        size = num(p["share"], at) * total if "share" in p else num(p["amount"], at)
        share_sum += num(p.get("share", 0.0), at)
        wsum = weights.sum()
        if wsum > 0 and math.isfinite(wsum):
            return weights * (size / wsum)
        unallocated += size          # zero weight: the pool goes to nobody
        return np.zeros(n)

    pa = rl = np.zeros(n)
    if "protected_areas" in raw:
        p = keys(raw["protected_areas"], ["share", "amount", "w_area", "w_count", "w_score"],
                 at + ".protected_areas")
        wa, wc, ws = (num(p.get(k, d), at) for k, d in
                      (("w_area", 0.5), ("w_count", 0.5), ("w_score", 0.0)))
        km2, cnt = c["pa_km2"], c["pa_count"]
        ta, tc = km2.sum(), cnt.sum()
        w = ((wa * km2 / ta if ta > 0 else 0.0) + (wc * cnt / tc if tc > 0 else 0.0)) \
            * ((1.0 - ws) + ws * c["pa_score"])
        pa = pool("protected_areas", w)
    if "redline" in raw:
        p = keys(raw["redline"], ["share", "amount", "gamma", "threshold"], at + ".redline")
        gamma, thr = num(p.get("gamma", 0.0), at), num(p.get("threshold", 0.0), at)
        rl = pool("redline", red * (1.0 + gamma * np.maximum(cover - thr, 0.0)))
    if share_sum > 1 + 1e-12:
        raise Unsupported(f"{at}: pool shares add up to more than 1")
    guide = {t: num(v, f"{at}.guidance.{t}") for t, v in raw.get("guidance", {}).items()}
    g = np.array([sum(guide[t] for t in sorted(ts) if t in guide) for ts in tags])
    rate = 0.0
    if "rangers" in raw:
        rate = num(keys(raw["rangers"], ["unit_rate"], at)["unit_rate"], at)
    f["rest"] = ((pa + rl) + g) + c["rangers"] * rate      # S without K, summed as the Rust
    # Quality: thresholds t1<t2<t3 and rates by grade level 0..6 (markedly worse .. better).
    f["t"], f["rates"] = (math.inf,) * 3, np.zeros(7)
    if "quality" in raw:
        q = keys(raw["quality"], ["thresholds", "reward", "deduction"], at + ".quality")
        t = tuple(num(x, at) for x in q["thresholds"])
        if len(t) != 3 or not 0 < t[0] < t[1] < t[2]:
            raise Unsupported(f"{at}.quality.thresholds must be 0 < t1 < t2 < t3")
        grades = ("slightly", "generally", "markedly")
        rw, dd = ([num(keys(q.get(s, {}), grades, f"{at}.quality.{s}").get(k, 0.0), at)
                   for k in grades] for s in ("reward", "deduction"))
        f["t"], f["rates"] = t, np.array([-dd[2], -dd[1], -dd[0], 0.0, rw[0], rw[1], rw[2]])
    lin = keys(raw.get("reverse_linkage", {"lambda": 0.0, "max_cut": 0.0}),  # none: no cut
               ["lambda", "max_cut"], at + ".reverse_linkage")
    f["lam"], f["max_cut"] = num(lin["lambda"], at), num(lin.get("max_cut", 1.0), at)
    prior = c["prior_allocation"]
    f["floor"], f["waivable"] = np.zeros(n), np.zeros(n, bool)
    if "floor" in raw:
        fl = keys(raw["floor"], ["h", "waived_on_violation"], at + ".floor")
        f["floor"] = np.where(reg["hold"], np.maximum(num(fl.get("h", 1.0), at) * prior, 0.0), 0.0)
        f["waivable"] = reg["hold"] & bool(fl.get("waived_on_violation", True))
    f["cap"] = np.full(n, np.inf)
    if "cap" in raw:
        growth = num(keys(raw["cap"], ["growth"], at)["growth"], at)
        f["cap"] = np.where(prior > 0, (1.0 + growth) * prior, np.inf)
    f["unallocated"] = unallocated
    f["target"] = max(total - unallocated, 0.0)
    return f


def load_scenario(path):
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    keys(raw, ["scenario", "budget", "regions", "formula", "montecarlo", "noise"], "scenario file")
    keys(raw["scenario"], ["name", "description", "year", "currency", "sources", "assumptions",
                           "reference_allocation_column"], "scenario")     # metadata only
    b = keys(raw.get("budget", {}), ["total", "mode", "on_infeasible", "scale"], "budget")
    if b.get("mode", "fixed") != "fixed" or b.get("on_infeasible", "error") != "error":
        raise Unsupported("only budget.mode = 'fixed' with on_infeasible = 'error' is supported")
    if b.get("scale", "key") != "all":
        raise Unsupported("only budget.scale = 'all' (every component scaled) is implemented "
                          "here; run.sh writes it into the synthetic scenario")
    total = num(b["total"], "budget.total")
    r = keys(raw["regions"], ["file"], "regions")
    reg = load_regions(os.path.join(os.path.dirname(os.path.abspath(path)), r["file"]))
    if not raw.get("formula"):
        raise Unsupported("the scenario has no formula")
    formulas = [prepare_formula(fr, i, reg, total) for i, fr in enumerate(raw["formula"])]
    noise = []
    for i, m in enumerate(raw.get("noise", [])):
        keys(m, ["column", "kind", "sigma", "rho", "min", "max"], f"noise[{i}]")
        if m["column"] not in NOISE_COLUMNS or m["kind"] not in ("additive", "multiplicative"):
            raise Unsupported(f"noise[{i}]: column {m['column']!r} / kind {m['kind']!r} "
                              f"unsupported (columns: {', '.join(NOISE_COLUMNS)})")
        lo, hi = num(m.get("min", -math.inf), "min"), num(m.get("max", math.inf), "max")
        rho = num(m.get("rho", 0.0), "rho")
        if not (0 <= rho <= 1 and lo < hi):
            raise Unsupported(f"noise[{i}]: rho must lie in [0, 1] and min < max")
        noise.append(dict(column=m["column"], mult=m["kind"] == "multiplicative",
                          sigma=num(m["sigma"], f"noise[{i}].sigma"), rho=rho, lo=lo, hi=hi))
    mc = keys(raw.get("montecarlo", {}), ["draws", "seed"], "montecarlo")
    return dict(name=raw["scenario"]["name"], total=total, regions=reg, formulas=formulas,
                noise=noise, draws=int(mc.get("draws", 1000)), seed=int(mc.get("seed", 1)))


# --------------------------------------------------------------------------- sampling
def apply_noise(m, base, reg, rng, nd):
    """`nd` draws of one noisy column (docs/model.md 3.1): eps = sigma (rho Z_g + sqrt(1-rho^2) Z_i),
    additive `base + eps` or mean-preserving `base exp(eps - sigma^2/2)`; values outside
    [min, max] get a fresh Z_i (never the shared Z_g) until they fall inside (no clamping)."""
    sig, rho, s = m["sigma"], m["rho"], math.sqrt(max(1.0 - m["rho"] ** 2, 0.0))
    zg = rng.standard_normal((nd, reg["ngroups"])) * rho if rho > 0 else None

    def value(b, common, z):
        eps = sig * (common + s * z)
        return b * np.exp(eps - 0.5 * sig * sig) if m["mult"] else b + eps

    v = value(base, zg[:, reg["gidx"]] if rho > 0 else 0.0, rng.standard_normal((nd, base.size)))
    if m["lo"] > -math.inf or m["hi"] < math.inf:
        rows, cols = np.nonzero((v < m["lo"]) | (v > m["hi"]))
        for _ in range(200):            # a value on the window's edge is redrawn 1 time in 2
            vv = value(base[cols], zg[rows, reg["gidx"][cols]] if rho > 0 else 0.0,
                       rng.standard_normal(rows.size))
            ok = (vv >= m["lo"]) & (vv <= m["hi"])
            v[rows[ok], cols[ok]] = vv[ok]
            rows, cols = rows[~ok], cols[~ok]
            if rows.size == 0:
                break
        if rows.size:
            raise Unsupported(f"noise on {m['column']}: window too narrow for resampling")
    return v


# --------------------------------------------------------------------------- allocation
def segment(c, f, u, s):
    """Pay at scale s (one per row) and the linear piece of g(s) = sum clamp(s c, f, u)
    through it: g = fixed + s * slope, `slope` summing the claims strictly between floor and cap."""
    raw = s[:, None] * c                     # claims are >= 0, so a zero claim earns 0
    x = np.maximum(f, np.minimum(raw, u))
    free = (raw > f) & (raw < u)
    return x, np.where(free, 0.0, x).sum(1), np.where(free, c, 0.0).sum(1)


def solve_sorted(c, f, u, target):
    """Exact scale by sorting each row's breakpoints f/c (leaves its floor, slope +c) and
    u/c (reaches its cap, slope -c): g at every breakpoint from cumulative sums, the last
    breakpoint below the target, then the linear equation on the segment after it."""
    moves = (c > 0) & (f <= u)
    cs = np.where(moves, c, 1.0)
    capped = moves & np.isfinite(u)
    p = np.concatenate([np.where(moves, f / cs, np.inf), np.where(capped, u / cs, np.inf)], 1)
    d = np.concatenate([np.where(moves, c, 0.0), np.where(capped, -c, 0.0)], 1)
    order = np.argsort(p, axis=1)
    p, d = np.take_along_axis(p, order, 1), np.take_along_axis(d, order, 1)
    pf = np.where(np.isfinite(p), p, 0.0)
    a, b = np.cumsum(d, 1), np.cumsum(d * pf, 1)
    g = np.where(np.isfinite(p), f.sum(1)[:, None] + pf * a - b, np.inf)
    below = g < target
    if not below.any(1).all():
        raise Unsupported("the floors alone reach the budget in some draw")
    k = p.shape[1] - 1 - np.argmax(below[:, ::-1], 1)        # last breakpoint with g < target
    rows = np.arange(len(k))
    if np.any(a[rows, k] <= 0):
        raise Unsupported("every region is capped below the budget in some draw (saturated)")
    s = p[rows, k] + (target - g[rows, k]) / a[rows, k]
    _, fixed, slope = segment(c, f, u, s)                   # remove the rounding of the sums
    return np.where(slope > 0, (target - fixed) / np.where(slope > 0, slope, 1.0), s)


def solve_pay(c, f, u, target, newton_steps=NEWTON_STEPS):
    """Exact fixed-budget payment x = clamp(s c, f, u) with sum x = target, for each row.

    Newton steps from the unconstrained scale target / sum c: a step computed from the
    segment at s lands at s'; when the segment at s' is the same one (same sums), g(s') =
    target exactly and s' is the answer (the Rust's warm start, and the same result as its
    quickselect). Rows that have not settled after `newton_steps` go to `solve_sorted`."""
    if np.any(f.sum(1) > target):
        raise Unsupported("hold-harmless floors exceed the budget in some draw")
    x, s_out = np.empty_like(c), np.empty(c.shape[0])
    rows = np.arange(c.shape[0])                            # rows not settled yet
    s = target / c.sum(1)
    _, fixed, slope = segment(c, f, u, s)
    for _ in range(newton_steps):
        ok = slope > 0                  # no free region at s: no step (left to the sort)
        s = np.where(ok, (target - fixed) / np.where(ok, slope, 1.0), s)
        xs, fixed2, slope2 = segment(c, f, u, s)
        done = ok & (fixed2 == fixed) & (slope2 == slope)
        x[rows[done]], s_out[rows[done]] = xs[done], s[done]
        if done.all():
            return x, s_out
        if done.any():
            left = ~done
            rows, c, f, s, fixed2, slope2 = (rows[left], c[left], f[left], s[left],
                                              fixed2[left], slope2[left])
        fixed, slope = fixed2, slope2
    s_out[rows] = s = solve_sorted(c, f, u, target)
    x[rows] = segment(c, f, u, s)[0]
    return x, s_out


def allocate(fm, rev, dq, dmg, ratio, shared, newton_steps=NEWTON_STEPS):
    """One formula on a batch of draws (rows): amounts and the three flags per region.
    The same expressions, in the same order, as the Rust kernel (src/vertical/kernel.rs)."""
    key = (fm["bands"], fm["t"])
    if key not in shared:               # band and grade are shared by formulas with equal tables
        band = np.ones_like(ratio)
        for lb, mult in fm["bands"]:    # the highest lower bound <= R/E applies
            band = np.where(lb <= ratio, mult, band)
        t = fm["t"]
        better = (dq >= t[0]).astype(np.int8) + (dq >= t[1]) + (dq >= t[2])
        worse = (dq <= -t[0]).astype(np.int8) + (dq <= -t[1]) + (dq <= -t[2])
        shared[key] = band, 3 + better - np.where(better > 0, 0, worse)   # grade level 0..6
    band, grade = shared[key]
    gap = np.maximum(fm["need"] - rev, 0.0)
    total = gap * band * fm["factor"] + fm["rest"]          # S = K + (((PA + RL) + G) + F)
    q = fm["rates"][grade]
    cut = np.minimum(fm["lam"] * dmg, fm["max_cut"])
    claim = np.maximum(total * (1.0 + q) * (1.0 - cut), 0.0)     # S'
    # floor h*prior of a hold-harmless region, waived when graded worse than stable or D > 0
    floor = np.where(fm["waivable"] & ((grade < 3) | (dmg > 0)), 0.0, fm["floor"])
    u = fm["cap"]
    x, s = solve_pay(claim, floor, u, fm["target"], newton_steps)
    if np.any(np.abs(x.sum(1) - fm["target"]) > 1e-9 * fm["target"]):
        raise AssertionError(f"{fm['name']}: the budget solve missed the total")
    raw = s[:, None] * claim
    floor_binds = floor > np.minimum(raw, u)                # the floor lifted the amount
    cap_binds = (u >= floor) & (u < raw)                    # the cap cut the amount
    return x, q < 0, floor_binds, cap_binds, s


def gini_rows(x):
    """Gini of every row, exact: sum_i (2i - n - 1) x_(i) / (n sum x) over the sorted row
    (0 for a row summing to 0), as src/metrics/inequality.rs."""
    n = x.shape[1]
    xs = np.sort(x, axis=1)
    tot = xs.sum(1)
    return np.where(tot > 0, (xs @ np.arange(1 - n, n, 2.0)) / n / np.where(tot > 0, tot, 1.0), 0.0)


# --------------------------------------------------------------------------- runs
def point(scn, newton_steps=NEWTON_STEPS):
    """Every formula on the central values (one row)."""
    c = scn["regions"]["cols"]
    rev, dq, dmg = (c[k][None, :] for k in NOISE_COLUMNS)
    ratio, shared, out = rev / c["std_expenditure"], {}, []
    for fm in scn["formulas"]:
        x, ded, fb, cb, s = allocate(fm, rev, dq, dmg, ratio, shared, newton_steps)
        out.append(dict(x=x[0], scale=float(s[0]), gini=float(gini_rows(x)[0]),
                        deducted=int(ded.sum()), floor_binding=int(fb.sum()),
                        capped=int(cb.sum()), unallocated=fm["unallocated"]))
    return out


def monte_carlo(scn, draws, batch, newton_steps=NEWTON_STEPS):
    """All draws, `batch` at a time. Returns per formula the (regions x draws) amounts, the
    flag counts per region and the Gini of every draw. Batch b uses the PCG64 stream
    seeded by (seed, b): results depend on the seed and the batch size only."""
    reg, fms = scn["regions"], scn["formulas"]
    n, nf = reg["n"], len(fms)
    amounts = [np.empty((n, draws)) for _ in fms]   # region-major: percentiles need no copy
    counts = np.zeros((3, nf, n), np.int64)          # deduction, floor binds, cap binds
    gini = np.empty((nf, draws))
    for b, d0 in enumerate(range(0, draws, batch)):
        nd = min(batch, draws - d0)
        rng = np.random.default_rng([scn["seed"], b])
        cols = {k: reg["cols"][k][None, :] for k in NOISE_COLUMNS}
        for m in scn["noise"]:
            cols[m["column"]] = apply_noise(m, reg["cols"][m["column"]], reg, rng, nd)
        rev, dq, dmg = (np.broadcast_to(cols[k], (nd, n)) for k in NOISE_COLUMNS)
        ratio, shared = rev / reg["cols"]["std_expenditure"], {}
        for k, fm in enumerate(fms):
            x, *flags, _ = allocate(fm, rev, dq, dmg, ratio, shared, newton_steps)
            amounts[k][:, d0:d0 + nd] = x.T
            for j, fl in enumerate(flags):
                counts[j, k] += fl.sum(0)
            gini[k, d0:d0 + nd] = gini_rows(x)
    return amounts, counts, gini


def summarise(amounts, counts, gini, baseline):
    """Per region x formula statistics (exact type-7 percentiles) and per formula Gini.
    Consumes `amounts` (the percentiles partition the arrays in place)."""
    draws = gini.shape[1]
    stats = []
    for k, x in enumerate(amounts):
        d = x - x[:, :1]             # shifted by the first draw: exact for constant rows
        st = dict(mean=x[:, 0] + d.mean(1), sd=d.std(1, ddof=1), min=x.min(1), max=x.max(1))
        if k == baseline:
            st.update(diff_mean=np.zeros(len(x)), diff_sd=np.zeros(len(x)), p_gain=np.zeros(len(x)))
        else:
            d = x - amounts[baseline]   # paired: the same draw under both formulas
            st.update(diff_mean=d.mean(1), diff_sd=d.std(1, ddof=1), p_gain=(d > 0).mean(1))
        for j, name in enumerate(("p_deduction", "p_floor", "p_cap")):
            st[name] = counts[j, k] / draws
        stats.append(st)
    for k in sorted(range(len(amounts)), key=lambda k: k == baseline):   # baseline last
        q = np.percentile(amounts[k], PERCENTILES, axis=1, overwrite_input=True)
        stats[k].update({f"p{p:02d}": v for p, v in zip(PERCENTILES, q)})
    ginis = []
    for g in gini:
        q = np.percentile(g, PERCENTILES)
        sd = g.std(ddof=1)
        ginis.append(dict(mean=g.mean(), sd=sd, se=sd / math.sqrt(draws), min=g.min(),
                          max=g.max(), **{f"p{p:02d}": v for p, v in zip(PERCENTILES, q)}))
    return stats, ginis


COLUMNS = ["point", "mean", "sd", "se", "min", "max", "p05", "p25", "p50", "p75", "p95",
           "p_deduction", "p_floor", "p_cap", "diff_mean", "diff_sd", "diff_se", "p_gain"]


def write_outputs(out, scn, pts, stats, ginis, draws, info):
    os.makedirs(out, exist_ok=True)
    reg = scn["regions"]
    with open(os.path.join(out, "regions.csv"), "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["formula", "id", "name", "group"] + COLUMNS)
        for fm, pt, st in zip(scn["formulas"], pts, stats):
            st = dict(st, point=pt["x"], se=st["sd"] / math.sqrt(draws),
                      diff_se=st["diff_sd"] / math.sqrt(draws))
            for i in range(reg["n"]):
                w.writerow([fm["name"], reg["id"][i], reg["name"][i], reg["group"][i]]
                           + [repr(float(st[c][i])) for c in COLUMNS])
    summary = dict(scenario=scn["name"], draws=draws, seed=scn["seed"], **info, formulas={
        fm["name"]: dict(point={k: v for k, v in pt.items() if k != "x"},
                         gini={k: float(v) for k, v in g.items()})
        for fm, pt, g in zip(scn["formulas"], pts, ginis)})
    with open(os.path.join(out, "summary.json"), "w", encoding="utf-8") as fh:
        json.dump(summary, fh, indent=1, ensure_ascii=False)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario")
    ap.add_argument("--out", required=True)
    ap.add_argument("--draws", type=int, help="default: the scenario's montecarlo.draws")
    ap.add_argument("--seed", type=int, help="default: the scenario's montecarlo.seed")
    ap.add_argument("--batch", type=int, default=128, help="draws per vectorised batch")
    ap.add_argument("--newton-steps", type=int, default=NEWTON_STEPS,
                    help="Newton steps before the sort-based solve (0: sort only)")
    ap.add_argument("--baseline", type=int, default=0, help="formula index for paired differences")
    a = ap.parse_args(argv)
    try:
        scn = load_scenario(a.scenario)
        if len({m["column"] for m in scn["noise"]}) != len(scn["noise"]):
            raise Unsupported("two noise models on one column")
    except (Unsupported, KeyError) as e:
        sys.exit(f"w1.py: unsupported scenario: {e}")
    draws = scn["draws"] if a.draws is None else a.draws
    if draws < 2:
        sys.exit("w1.py: need at least 2 draws")
    scn["seed"] = scn["seed"] if a.seed is None else a.seed
    try:
        t0 = time.perf_counter()               # files are read; everything below is timed
        pts = point(scn, a.newton_steps)
        t1 = time.perf_counter()
        amounts, counts, gini = monte_carlo(scn, draws, a.batch, a.newton_steps)
        t2 = time.perf_counter()
        stats, ginis = summarise(amounts, counts, gini, a.baseline)
        t3 = time.perf_counter()
    except Unsupported as e:                   # infeasible floors, saturated caps, ...
        sys.exit(f"w1.py: {e}")
    info = dict(batch=a.batch, numpy=np.__version__, seconds=dict(
        point=t1 - t0, draws=t2 - t1, statistics=t3 - t2, total=t3 - t0),
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    write_outputs(a.out, scn, pts, stats, ginis, draws, info)
    print(f"{draws} draws x {scn['regions']['n']} regions x {len(scn['formulas'])} formulas: "
          f"point {t1 - t0:.3f} s, draws {t2 - t1:.2f} s, statistics {t3 - t2:.2f} s, "
          f"total {t3 - t0:.2f} s (excluding file I/O); peak RSS {info['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
