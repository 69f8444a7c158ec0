//! What a formula's per-region rules need besides the draw's own inputs, computed once per
//! formula and set of fixed inputs ([`Prepared::refresh`]), and the pass that applies the
//! claim rules of [`super::rules`] to every region ([`Prepared::claims`]). The point
//! allocator and the Monte Carlo kernel share both.
//!
//! A draw perturbs a few region columns (revenue, ΔQ, the damage index: [`PER_DRAW`]) and
//! reruns every formula. Everything else the rules read — the importance multipliers and
//! red-line uplift, the pool shares, guidance, rangers, floors before any waiver, and caps
//! — is prepared here and only recomputed when a draw changes it.

use super::components;
use super::rules::{self, Claim, ClaimRules, RegionLanes, Tail, Thresholds};
use crate::model::formula::{Budget, Formula, GuidanceCombine, WaivedOn};
use crate::model::region::{Column, RegionData};
use crate::simd::{LANES, Vector};

/// Columns the rules read fresh on every draw; noise on any other column the allocator
/// uses requires [`Prepared::refresh`] per draw.
pub const PER_DRAW: [Column; 3] = [Column::StdRevenue, Column::EqiChange, Column::DamageIndex];

/// The per-region terms of one formula that do not change between draws.
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    /// `E + a·X` (a = 0 without a key subsidy).
    pub need: Vec<f64>,
    /// [`components::key_factor`]; 0 without a key subsidy.
    pub factor: Vec<f64>,
    /// `((PA + RL) + G) + F` ([`components::fixed_claims`]).
    pub rest: Vec<f64>,
    /// Floor before any waiver: `max(0, h·prior)` for hold-harmless regions, else 0.
    pub floor: Vec<f64>,
    /// 1 where a violation waives the floor (a hold-harmless region under a floor that is
    /// waived on some violation), else 0.
    pub waivable: Vec<f64>,
    /// λ of the reverse linkage where the cut applies (the formula's tags), else 0.
    pub lambda_at: Vec<f64>,
    /// Cap `(1 + g)·prior` for `prior > 0`, else +∞.
    pub cap: Vec<f64>,
    /// Red-line coverage `L/A`, and the components PA, RL, G and F, for the breakdown.
    pub coverage: Vec<f64>,
    pub pa: Vec<f64>,
    pub rl: Vec<f64>,
    pub guidance: Vec<f64>,
    pub rangers: Vec<f64>,
    /// Pool money with zero total weight, allocated to nobody.
    pub pool_unallocated: f64,
    /// Rate q by grade level + 3, padded to eight entries.
    pub rates: [f64; 8],
    /// Grade thresholds (+∞ without a quality table: nobody is graded).
    pub thresholds: [f64; 3],
    /// The maximum cut (0 without reverse linkage: the cut is `min(0·D, 0)`).
    pub max_cut: f64,
    /// Which violations waive a floor.
    pub waived_on: WaivedOn,
    /// The budget scale multiplies the key subsidy only ([`Budget::key_only`]).
    pub key_only: bool,
    /// The key subsidy's self-sufficiency bands (empty without one).
    pub bands: Vec<(f64, f64)>,
    /// The pool weights of the protected-area and red-line pools (empty without the pool).
    pub pa_weight: Vec<f64>,
    pub rl_weight: Vec<f64>,
    /// The formula's per-unit components, its general pools, then its agreement rewards,
    /// per region, in the order written ([`Formula::per_unit`], [`Formula::pools`],
    /// [`Formula::rewards`]).
    pub classified: Vec<Vec<f64>>,
    /// Scratch for a pool's weights.
    weights: Vec<f64>,
}

/// Which per-region value a tag table gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TagRule {
    /// [`components::importance_multiplier`].
    Importance,
    /// [`components::guidance`], combined as given.
    Guidance(GuidanceCombine),
}

/// Most tag tables remembered by one [`TagCache`] (two per formula: importance and
/// guidance); past it the cache starts over.
const TAG_CACHE_ENTRIES: usize = 16;

/// Tag tables evaluated for every region: tags never change between draws, and the point
/// allocator runs once per draw when `compare` or `--save-draws` needs its breakdown.
#[derive(Debug, Clone, Default)]
pub struct TagCache {
    /// The tag column every entry was evaluated over.
    tags: Vec<u64>,
    entries: Vec<TagValues>,
}

/// One tag table evaluated for every region of [`TagCache`]'s tag column.
#[derive(Debug, Clone)]
struct TagValues {
    rule: TagRule,
    table: Vec<(u32, f64)>,
    values: Vec<f64>,
}

impl TagCache {
    /// The values of `rule` with `table` for every region of `tags`, computed on a miss.
    /// The key is the full table and the full tag column, so a hit is always exact.
    fn values(&mut self, tags: &[u64], rule: TagRule, table: &[(u32, f64)]) -> &[f64] {
        if self.tags != tags {
            self.tags.clear();
            self.tags.extend_from_slice(tags);
            self.entries.clear();
        }
        let k = match self
            .entries
            .iter()
            .position(|e| e.rule == rule && e.table == table)
        {
            Some(k) => k,
            None => {
                if self.entries.len() >= TAG_CACHE_ENTRIES {
                    self.entries.clear();
                }
                let values = tags
                    .iter()
                    .map(|&t| match rule {
                        TagRule::Importance => components::importance_multiplier(table, t),
                        TagRule::Guidance(c) => components::guidance(table, c, t),
                    })
                    .collect();
                self.entries.push(TagValues {
                    rule,
                    table: table.to_vec(),
                    values,
                });
                self.entries.len() - 1
            }
        };
        &self.entries[k].values
    }
}

/// Fill `v` with `n` values of `f(i)`, reusing its allocation.
fn fill(v: &mut Vec<f64>, n: usize, f: impl FnMut(usize) -> f64) {
    v.clear();
    v.extend((0..n).map(f));
}

impl Prepared {
    /// The floors and caps from the prior allocation: all that changes from one year of
    /// a path to the next when nothing else does.
    pub fn floors_and_caps(&mut self, f: &Formula, data: &RegionData) {
        let n = data.n;
        let prior = &data.col(Column::PriorAllocation)[..n];
        let hh = &data.hold_harmless[..n];
        let floor = f.floor.as_ref();
        fill(&mut self.floor, n, |i| match floor {
            Some(fl) if hh[i] => (fl.h * prior[i]).max(0.0),
            _ => 0.0,
        });
        fill(&mut self.waivable, n, |i| match floor {
            Some(fl) if hh[i] && fl.waived_on != WaivedOn::NONE => 1.0,
            _ => 0.0,
        });
        self.waived_on = floor.map_or(WaivedOn::NONE, |fl| fl.waived_on);
        fill(&mut self.cap, n, |i| match f.cap {
            Some(g) if prior[i] > 0.0 => (1.0 + g) * prior[i],
            _ => f64::INFINITY,
        });
    }

    /// Recompute every term from `formula`, `data` and `budget` (per draw when the
    /// formula's parameters, the budget total or a column other than [`PER_DRAW`] vary).
    pub fn refresh(
        &mut self,
        formula: &Formula,
        data: &RegionData,
        budget: &Budget,
        tags: &mut TagCache,
    ) {
        let n = data.n;
        let f = formula;
        let col = |c: Column| &data.col(c)[..n];
        let (exp, eco, area, redline) = (
            col(Column::StdExpenditure),
            col(Column::EcoSpending),
            col(Column::AreaKm2),
            col(Column::RedlineKm2),
        );
        fill(&mut self.coverage, n, |i| {
            components::coverage(area[i], redline[i])
        });
        let eco_weight = f.key.as_ref().map_or(0.0, |k| k.eco_weight);
        let eco_tags: &[u32] = f.key.as_ref().map_or(&[], |k| &k.eco_weight_tags);
        let tagged = |t: &[u32], i: usize| {
            t.is_empty() || t.iter().any(|&x| components::has_tag(data.tags[i], x))
        };
        fill(&mut self.need, n, |i| {
            let a = if tagged(eco_tags, i) { eco_weight } else { 0.0 };
            exp[i] + a * eco[i]
        });
        match &f.key {
            Some(key) => {
                let m = tags.values(&data.tags, TagRule::Importance, &f.importance);
                let r = &self.coverage;
                fill(&mut self.factor, n, |i| {
                    components::key_factor(key, m[i], r[i])
                });
            }
            None => fill(&mut self.factor, n, |_| 0.0),
        }
        self.bands = f.key.as_ref().map_or(Vec::new(), |k| k.bands.clone());
        self.key_only = budget.key_only();
        self.pools(f, data, budget);
        let g = tags.values(
            &data.tags,
            TagRule::Guidance(f.guidance_combine),
            &f.guidance,
        );
        self.guidance.clear();
        self.guidance.extend_from_slice(g);
        let rangers = col(Column::Rangers);
        fill(&mut self.rangers, n, |i| {
            components::rangers(rangers[i], f.rangers)
        });
        self.classified(f, data, budget);
        let (pa, rl, g, fr) = (&self.pa, &self.rl, &self.guidance, &self.rangers);
        fill(&mut self.rest, n, |i| {
            components::fixed_claims(pa[i], rl[i], g[i], fr[i])
        });
        // Added after the four fixed claims, so a formula without them keeps its bits.
        for c in &self.classified {
            for (r, v) in self.rest.iter_mut().zip(c) {
                *r += v;
            }
        }
        self.floors_and_caps(f, data);
        let rates = super::quality::rate_table(f.quality.as_ref());
        self.rates[..7].copy_from_slice(&rates);
        self.rates[7] = 0.0;
        self.thresholds = f
            .quality
            .as_ref()
            .map_or([f64::INFINITY; 3], |q| q.thresholds);
        let linkage = f.reverse_linkage.as_ref();
        self.max_cut = linkage.map_or(0.0, |r| r.max_cut);
        fill(&mut self.lambda_at, n, |i| match linkage {
            Some(r) if tagged(&r.tags, i) => r.lambda,
            _ => 0.0,
        });
    }

    /// The pool shares PA and RL, and the money of pools with zero total weight.
    fn pools(&mut self, f: &Formula, data: &RegionData, budget: &Budget) {
        let n = data.n;
        let col = |c: Column| &data.col(c)[..n];
        self.pool_unallocated = 0.0;
        fill(&mut self.pa, n, |_| 0.0);
        fill(&mut self.rl, n, |_| 0.0);
        self.pa_weight.clear();
        self.rl_weight.clear();
        if let Some(pool) = &f.protected_areas {
            let (km2, count, score) = (
                col(Column::PaKm2),
                col(Column::PaCount),
                col(Column::PaScore),
            );
            let totals = components::PaTotals::of(km2, count);
            fill(&mut self.pa_weight, n, |i| {
                components::pa_weight(pool, totals, km2[i], count[i], score[i])
            });
            let size = components::pool_size(pool.size, budget.total);
            self.pool_unallocated += components::split_pool(size, &self.pa_weight, &mut self.pa);
        }
        if let Some(pool) = &f.redline {
            let (redline, r) = (col(Column::RedlineKm2), &self.coverage);
            fill(&mut self.rl_weight, n, |i| {
                components::redline_weight(pool, redline[i], r[i])
            });
            let size = components::pool_size(pool.size, budget.total);
            self.pool_unallocated += components::split_pool(size, &self.rl_weight, &mut self.rl);
        }
    }

    /// The per-unit components (`rate · column` where the tags apply), the general pools
    /// (split by their weight expressions, evaluated column-wise) and the agreement
    /// rewards (`amount · factor`, the factor set from the draw's settlement).
    fn classified(&mut self, f: &Formula, data: &RegionData, budget: &Budget) {
        let n = data.n;
        let k = f.per_unit.len() + f.pools.len() + f.rewards.len();
        self.classified.resize_with(k, Vec::new);
        for (c, out) in f.per_unit.iter().zip(&mut self.classified) {
            let col = data.column(c.column);
            fill(out, n, |i| {
                let tagged = c.tags.is_empty()
                    || c.tags.iter().any(|&t| components::has_tag(data.tags[i], t));
                if tagged { c.rate * col[i] } else { 0.0 }
            });
        }
        for (pool, out) in f.pools.iter().zip(&mut self.classified[f.per_unit.len()..]) {
            pool.weight.eval(data, &mut self.weights);
            // Validation rejects a bad weight in the scenario's own data; a draw's noise
            // could still push one below zero, and such a region then weighs nothing.
            for w in &mut self.weights {
                if !(w.is_finite() && *w > 0.0) {
                    *w = 0.0;
                }
            }
            fill(out, n, |_| 0.0);
            let size = components::pool_size(pool.size, budget.total);
            self.pool_unallocated += components::split_pool(size, &self.weights, out);
        }
        let first = f.per_unit.len() + f.pools.len();
        for (r, out) in f.rewards.iter().zip(&mut self.classified[first..]) {
            fill(out, n, |i| {
                r.amount * r.factor.get(i).copied().unwrap_or(0.0)
            });
        }
    }

    /// The claim rules' coefficients in lanes.
    #[inline(always)]
    pub fn rules<V: Vector>(&self) -> ClaimRules<'_, V> {
        ClaimRules {
            bands: &self.bands,
            thresholds: Thresholds::new(&self.thresholds),
            rates: self.rates,
            max_cut: V::splat(self.max_cut),
            waive_worse: flag::<V>(self.waived_on.worse_grade),
            waive_damage: flag::<V>(self.waived_on.damage),
            key_only: flag::<V>(self.key_only),
        }
    }

    /// Apply the claim rules ([`rules::claim`]) to every region of `data`, four at a
    /// time and then the tail, handing each group to `sink`. `ratio` is the regions'
    /// self-sufficiency `R/E`; `shared` the band and grade of every region when the draw
    /// has them already ([`SharedTerms`]).
    #[inline(always)]
    pub fn claims<V: Vector, S: ClaimSink<V>>(
        &self,
        data: &RegionData,
        ratio: &[f64],
        shared: Option<&SharedTerms>,
        sink: &mut S,
    ) {
        let n = data.n;
        let r = self.rules::<V>();
        let cols = Draw {
            revenue: &data.col(Column::StdRevenue)[..n],
            dq: &data.col(Column::EqiChange)[..n],
            damage: &data.col(Column::DamageIndex)[..n],
            ratio: &ratio[..n],
        };
        let tail = Tail::of(n);
        for i in (0..tail.start).step_by(LANES) {
            let x = self.lanes(&r, &cols, shared, At::Chunk(i));
            sink.chunk(i, &x, &rules::claim(&r, &x));
        }
        if tail.len > 0 {
            let x = self.lanes(&r, &cols, shared, At::Tail(tail));
            sink.tail(tail, &x, &rules::claim(&r, &x));
        }
    }

    /// The rules' inputs of the four regions `at`.
    #[inline(always)]
    fn lanes<V: Vector>(
        &self,
        r: &ClaimRules<V>,
        d: &Draw,
        shared: Option<&SharedTerms>,
        at: At,
    ) -> RegionLanes<V> {
        let (band, grade) = match shared {
            Some(sh) => (at.load(&sh.band), at.load(&sh.grade)),
            None => (
                rules::band(r.bands, at.load(d.ratio)),
                rules::grade(at.load(d.dq), &r.thresholds),
            ),
        };
        RegionLanes {
            need: at.load(&self.need),
            revenue: at.load(d.revenue),
            factor: at.load(&self.factor),
            rest: at.load(&self.rest),
            band,
            grade,
            damage: at.load(d.damage),
            lambda: at.load(&self.lambda_at),
            waivable: at.load(&self.waivable),
            floor: at.load(&self.floor),
        }
    }
}

/// Where a pass reads four regions: a chunk, or the zero-padded tail.
///
/// (A plain function of the place rather than a closure per call site: closures are not
/// compiled with the AVX features of the copies they are called from, so their vector
/// operations would become calls.)
#[derive(Clone, Copy)]
enum At {
    Chunk(usize),
    Tail(Tail),
}

impl At {
    #[inline(always)]
    fn load<V: Vector>(self, s: &[f64]) -> V {
        match self {
            At::Chunk(i) => V::load(&s[i..]),
            At::Tail(t) => t.load(s),
        }
    }
}

/// The columns of a draw that the claim rules read.
struct Draw<'a> {
    revenue: &'a [f64],
    dq: &'a [f64],
    damage: &'a [f64],
    ratio: &'a [f64],
}

/// A mask of all lanes `on`.
#[inline(always)]
fn flag<V: Vector>(on: bool) -> V::Mask {
    let zero = V::splat(0.0);
    if on { zero.le(zero) } else { zero.lt(zero) }
}

/// Where [`Prepared::claims`] puts what the rules give each group of regions.
pub trait ClaimSink<V: Vector> {
    /// Regions `i .. i + 4`.
    fn chunk(&mut self, i: usize, x: &RegionLanes<V>, c: &Claim<V>);
    /// The last regions, in the first `t.len` lanes.
    fn tail(&mut self, t: Tail, x: &RegionLanes<V>, c: &Claim<V>);
}

/// Per-region terms that depend only on the draw and on tables that formulas often share:
/// the band multiplier (by the key subsidy's bands) and the grade (by the thresholds). The
/// Monte Carlo kernel computes them for a draw's first formula and reuses them for every
/// later formula with the same bands and thresholds (the three formulas of the synthetic
/// scenarios, and most real comparisons), with the same functions and so the same bits.
#[derive(Debug, Clone, Default)]
pub struct SharedTerms {
    band: Vec<f64>,
    /// Grade level + 3 as a float (0 … 6).
    grade: Vec<f64>,
    bands: Vec<(f64, f64)>,
    thresholds: [f64; 3],
    filled: bool,
}

impl SharedTerms {
    /// Forget the last draw's terms: call before the first formula of every draw.
    pub fn begin_draw(&mut self) {
        self.filled = false;
    }

    /// The terms for `prep`'s tables: computed now if this is the draw's first formula,
    /// `None` when an earlier formula of the draw had other tables.
    #[inline(always)]
    pub fn for_formula<V: Vector>(
        &mut self,
        prep: &Prepared,
        ratio: &[f64],
        dq: &[f64],
    ) -> Option<&SharedTerms> {
        if !self.filled {
            self.fill::<V>(prep, ratio, dq);
        }
        let same = |a: f64, b: f64| a.to_bits() == b.to_bits();
        let matches = self.bands.len() == prep.bands.len()
            && self
                .bands
                .iter()
                .zip(&prep.bands)
                .all(|(a, b)| same(a.0, b.0) && same(a.1, b.1))
            && self
                .thresholds
                .iter()
                .zip(&prep.thresholds)
                .all(|(a, b)| same(*a, *b))
            && self.band.len() == prep.need.len();
        matches.then_some(&*self)
    }

    #[inline(always)]
    fn fill<V: Vector>(&mut self, prep: &Prepared, ratio: &[f64], dq: &[f64]) {
        let n = ratio.len().min(dq.len());
        self.bands.clone_from(&prep.bands);
        self.thresholds = prep.thresholds;
        self.band.resize(n, 0.0);
        self.grade.resize(n, 0.0);
        let t = Thresholds::<V>::new(&prep.thresholds);
        let tail = Tail::of(n);
        for i in (0..tail.start).step_by(LANES) {
            let r = i..i + LANES;
            rules::band(&self.bands, V::load(&ratio[r.clone()])).store(&mut self.band[r.clone()]);
            rules::grade(V::load(&dq[r.clone()]), &t).store(&mut self.grade[r]);
        }
        if tail.len > 0 {
            let band = rules::band(&self.bands, tail.load::<V>(ratio));
            tail.store(band, &mut self.band);
            tail.store(rules::grade(tail.load::<V>(dq), &t), &mut self.grade);
        }
        self.filled = true;
    }
}

/// `R / E` per region ([`components::self_sufficiency`]), shared by every formula of a
/// draw.
pub fn self_sufficiency_into(data: &RegionData, out: &mut Vec<f64>) {
    let (r, e) = (
        data.col(Column::StdRevenue),
        data.col(Column::StdExpenditure),
    );
    out.clear();
    out.extend(
        r.iter()
            .zip(e)
            .map(|(&r, &e)| components::self_sufficiency(r, e)),
    );
}
