//! Four `f64` lanes for the Monte Carlo hot loops (issue 7).
//!
//! [`F64x4`] holds four values and [`Mask4`] four lane conditions. Every operation is
//! lane-wise IEEE arithmetic or a compare, so a lane gives the same bits as the scalar
//! expression it replaces; the loops that use them keep their results bit for bit. On
//! x86-64 a vector is two SSE2 registers (SSE2 is part of the x86-64 baseline, so the
//! binary stays portable); elsewhere it is a plain array (`portable`, also compiled for
//! the tests, which check that both give the same bits). [`with_simd`] runs a hot loop
//! through a copy compiled for AVX2, or for AVX-512, when the CPU has it (detected at run
//! time), where the same operations can use the wider registers.
//!
//! The point is branch-free selects: written as `if` on scalars, LLVM turned the budget
//! solve's selects into data-dependent branches (one per lane) that mispredicted on
//! every other region.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m128d, _mm_add_pd, _mm_and_pd, _mm_andnot_pd, _mm_cmpeq_pd, _mm_cmple_pd, _mm_cmplt_pd,
    _mm_div_pd, _mm_max_pd, _mm_min_pd, _mm_movemask_pd, _mm_mul_pd, _mm_or_pd, _mm_set_pd,
    _mm_set1_pd, _mm_storeu_pd, _mm_sub_pd,
};

/// Lanes per vector.
pub const LANES: usize = 4;

/// Four `f64` lanes.
#[derive(Clone, Copy, Debug)]
pub struct F64x4(Repr);

/// Four lane conditions (all bits set for true, clear for false).
#[derive(Clone, Copy, Debug)]
pub struct Mask4(Repr);

#[cfg(target_arch = "x86_64")]
type Repr = [__m128d; 2];
#[cfg(not(target_arch = "x86_64"))]
type Repr = [f64; 4];

#[cfg(target_arch = "x86_64")]
mod imp {
    use super::*;

    /// Run an SSE2 intrinsic.
    macro_rules! sse2 {
        ($e:expr) => {
            // SAFETY: SSE2 is part of the x86-64 baseline every x86-64 CPU implements, and
            // these intrinsics only compute on registers.
            unsafe { $e }
        };
    }

    #[inline(always)]
    fn map2(a: Repr, b: Repr, f: impl Fn(__m128d, __m128d) -> __m128d) -> Repr {
        [f(a[0], b[0]), f(a[1], b[1])]
    }

    #[inline(always)]
    pub fn splat(x: f64) -> Repr {
        sse2!([_mm_set1_pd(x), _mm_set1_pd(x)])
    }
    #[inline(always)]
    pub fn from_array(a: [f64; 4]) -> Repr {
        sse2!([_mm_set_pd(a[1], a[0]), _mm_set_pd(a[3], a[2])])
    }
    #[inline(always)]
    pub fn to_array(v: Repr) -> [f64; 4] {
        let mut out = [0.0; 4];
        let (lo, hi) = out.split_at_mut(2);
        // SAFETY: each half of `out` holds exactly the two f64 an unaligned store writes.
        unsafe {
            _mm_storeu_pd(lo.as_mut_ptr(), v[0]);
            _mm_storeu_pd(hi.as_mut_ptr(), v[1]);
        }
        out
    }
    #[inline(always)]
    pub fn add(a: Repr, b: Repr) -> Repr {
        map2(a, b, |x, y| sse2!(_mm_add_pd(x, y)))
    }
    #[inline(always)]
    pub fn sub(a: Repr, b: Repr) -> Repr {
        map2(a, b, |x, y| sse2!(_mm_sub_pd(x, y)))
    }
    #[inline(always)]
    pub fn mul(a: Repr, b: Repr) -> Repr {
        map2(a, b, |x, y| sse2!(_mm_mul_pd(x, y)))
    }
    #[inline(always)]
    pub fn div(a: Repr, b: Repr) -> Repr {
        map2(a, b, |x, y| sse2!(_mm_div_pd(x, y)))
    }
    /// `a < b ? a : b` per lane (`minpd` returns its second operand unless a < b).
    #[inline(always)]
    pub fn min_lt(a: Repr, b: Repr) -> Repr {
        map2(a, b, |x, y| sse2!(_mm_min_pd(x, y)))
    }
    /// `a > b ? a : b` per lane.
    #[inline(always)]
    pub fn max_gt(a: Repr, b: Repr) -> Repr {
        map2(a, b, |x, y| sse2!(_mm_max_pd(x, y)))
    }
    #[inline(always)]
    pub fn lt(a: Repr, b: Repr) -> Repr {
        map2(a, b, |x, y| sse2!(_mm_cmplt_pd(x, y)))
    }
    #[inline(always)]
    pub fn le(a: Repr, b: Repr) -> Repr {
        map2(a, b, |x, y| sse2!(_mm_cmple_pd(x, y)))
    }
    #[inline(always)]
    pub fn eq(a: Repr, b: Repr) -> Repr {
        map2(a, b, |x, y| sse2!(_mm_cmpeq_pd(x, y)))
    }
    #[inline(always)]
    pub fn and(a: Repr, b: Repr) -> Repr {
        map2(a, b, |x, y| sse2!(_mm_and_pd(x, y)))
    }
    #[inline(always)]
    pub fn or(a: Repr, b: Repr) -> Repr {
        map2(a, b, |x, y| sse2!(_mm_or_pd(x, y)))
    }
    /// `!m & a`.
    #[inline(always)]
    pub fn andnot(m: Repr, a: Repr) -> Repr {
        map2(m, a, |x, y| sse2!(_mm_andnot_pd(x, y)))
    }
    #[inline(always)]
    pub fn bits(m: Repr) -> u8 {
        sse2!((_mm_movemask_pd(m[0]) | (_mm_movemask_pd(m[1]) << 2)) as u8)
    }
}

/// The plain-array implementation: the only one off x86-64, and the reference the tests
/// compare the SSE2 one against.
#[cfg(any(test, not(target_arch = "x86_64")))]
mod portable {
    pub type R = [f64; 4];

    #[inline(always)]
    fn map2(a: R, b: R, f: impl Fn(f64, f64) -> f64) -> R {
        [f(a[0], b[0]), f(a[1], b[1]), f(a[2], b[2]), f(a[3], b[3])]
    }
    #[inline(always)]
    fn mask(c: bool) -> f64 {
        f64::from_bits(if c { u64::MAX } else { 0 })
    }
    #[inline(always)]
    fn bitwise(a: R, b: R, f: impl Fn(u64, u64) -> u64) -> R {
        map2(a, b, |x, y| f64::from_bits(f(x.to_bits(), y.to_bits())))
    }

    #[inline(always)]
    pub fn splat(x: f64) -> R {
        [x; 4]
    }
    #[inline(always)]
    pub fn from_array(a: [f64; 4]) -> R {
        a
    }
    #[inline(always)]
    pub fn to_array(v: R) -> [f64; 4] {
        v
    }
    #[inline(always)]
    pub fn add(a: R, b: R) -> R {
        map2(a, b, |x, y| x + y)
    }
    #[inline(always)]
    pub fn sub(a: R, b: R) -> R {
        map2(a, b, |x, y| x - y)
    }
    #[inline(always)]
    pub fn mul(a: R, b: R) -> R {
        map2(a, b, |x, y| x * y)
    }
    #[inline(always)]
    pub fn div(a: R, b: R) -> R {
        map2(a, b, |x, y| x / y)
    }
    #[inline(always)]
    pub fn min_lt(a: R, b: R) -> R {
        map2(a, b, |x, y| if x < y { x } else { y })
    }
    #[inline(always)]
    pub fn max_gt(a: R, b: R) -> R {
        map2(a, b, |x, y| if x > y { x } else { y })
    }
    #[inline(always)]
    pub fn lt(a: R, b: R) -> R {
        map2(a, b, |x, y| mask(x < y))
    }
    #[inline(always)]
    pub fn le(a: R, b: R) -> R {
        map2(a, b, |x, y| mask(x <= y))
    }
    #[inline(always)]
    pub fn eq(a: R, b: R) -> R {
        map2(a, b, |x, y| mask(x == y))
    }
    #[inline(always)]
    pub fn and(a: R, b: R) -> R {
        bitwise(a, b, |x, y| x & y)
    }
    #[inline(always)]
    pub fn or(a: R, b: R) -> R {
        bitwise(a, b, |x, y| x | y)
    }
    #[inline(always)]
    pub fn andnot(m: R, a: R) -> R {
        bitwise(m, a, |x, y| !x & y)
    }
    #[inline(always)]
    pub fn bits(m: R) -> u8 {
        (0..4).fold(0, |acc, k| acc | (u8::from(m[k].to_bits() >> 63 == 1) << k))
    }
}

#[cfg(not(target_arch = "x86_64"))]
use portable as imp;

/// The lane a running sum over `n` values puts value `i` in: `i % 4`, and lane 0 for the
/// last `n % 4` values (the tail a four-lane loop leaves). Sums written lane by lane this
/// way and finished with [`reduce`] have the same bits whether the loop runs on vectors or
/// on scalars.
#[inline(always)]
pub fn lane_of(i: usize, n: usize) -> usize {
    if i < n - n % LANES { i % LANES } else { 0 }
}

/// The total of four lane sums: `(l0 + l1) + (l2 + l3)`.
#[inline(always)]
pub fn reduce(l: [f64; 4]) -> f64 {
    (l[0] + l[1]) + (l[2] + l[3])
}

/// `Σ xs` in four lanes ([`lane_of`], [`reduce`]).
pub fn sum4(xs: &[f64]) -> f64 {
    let mut acc = F64x4::splat(0.0);
    let chunks = xs.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        acc = acc + F64x4::load(c);
    }
    let mut l = acc.to_array();
    for &x in tail {
        l[0] += x;
    }
    reduce(l)
}

impl F64x4 {
    #[inline(always)]
    pub fn splat(x: f64) -> Self {
        F64x4(imp::splat(x))
    }
    /// The first four values of `s` (panics when it is shorter).
    #[inline(always)]
    pub fn load(s: &[f64]) -> Self {
        F64x4(imp::from_array([s[0], s[1], s[2], s[3]]))
    }
    #[inline(always)]
    pub fn from_array(a: [f64; 4]) -> Self {
        F64x4(imp::from_array(a))
    }
    #[inline(always)]
    pub fn to_array(self) -> [f64; 4] {
        imp::to_array(self.0)
    }
    /// Write the lanes to the first four places of `s` (panics when it is shorter).
    #[inline(always)]
    pub fn store(self, s: &mut [f64]) {
        s[..LANES].copy_from_slice(&self.to_array());
    }
    /// `self < o ? self : o` per lane: `min` for inputs that are never NaN.
    #[inline(always)]
    pub fn min_lt(self, o: Self) -> Self {
        F64x4(imp::min_lt(self.0, o.0))
    }
    /// `self > o ? self : o` per lane: `max` for inputs that are never NaN.
    #[inline(always)]
    pub fn max_gt(self, o: Self) -> Self {
        F64x4(imp::max_gt(self.0, o.0))
    }
    #[inline(always)]
    pub fn lt(self, o: Self) -> Mask4 {
        Mask4(imp::lt(self.0, o.0))
    }
    #[inline(always)]
    pub fn le(self, o: Self) -> Mask4 {
        Mask4(imp::le(self.0, o.0))
    }
    #[inline(always)]
    pub fn gt(self, o: Self) -> Mask4 {
        o.lt(self)
    }
    #[inline(always)]
    pub fn ge(self, o: Self) -> Mask4 {
        o.le(self)
    }
    #[inline(always)]
    pub fn eq(self, o: Self) -> Mask4 {
        Mask4(imp::eq(self.0, o.0))
    }
    /// `self` where `m` holds, else +0.0.
    #[inline(always)]
    pub fn and(self, m: Mask4) -> Self {
        F64x4(imp::and(self.0, m.0))
    }
}

impl Mask4 {
    /// `a` in the lanes where the mask holds, `b` elsewhere (the exact bits of either).
    #[inline(always)]
    pub fn select(self, a: F64x4, b: F64x4) -> F64x4 {
        F64x4(imp::or(imp::and(self.0, a.0), imp::andnot(self.0, b.0)))
    }
    /// Lane k's condition in bit k.
    #[inline(always)]
    pub fn bits(self) -> u8 {
        imp::bits(self.0)
    }
    /// Lane k's condition as 0 or 1 in place k.
    #[inline(always)]
    pub fn to_u8(self) -> [u8; 4] {
        let b = self.bits();
        [b & 1, (b >> 1) & 1, (b >> 2) & 1, (b >> 3) & 1]
    }
    #[inline(always)]
    pub fn any(self) -> bool {
        self.bits() != 0
    }
    /// 1.0 in the lanes where the mask holds, else 0.0.
    #[inline(always)]
    pub fn ones(self) -> F64x4 {
        F64x4::splat(1.0).and(self)
    }
}

impl std::ops::BitAnd for Mask4 {
    type Output = Mask4;
    #[inline(always)]
    fn bitand(self, o: Mask4) -> Mask4 {
        Mask4(imp::and(self.0, o.0))
    }
}

impl std::ops::BitOr for Mask4 {
    type Output = Mask4;
    #[inline(always)]
    fn bitor(self, o: Mask4) -> Mask4 {
        Mask4(imp::or(self.0, o.0))
    }
}

impl std::ops::Not for Mask4 {
    type Output = Mask4;
    #[inline(always)]
    fn not(self) -> Mask4 {
        Mask4(imp::andnot(
            self.0,
            imp::eq(imp::splat(0.0), imp::splat(0.0)),
        ))
    }
}

macro_rules! arith {
    ($tr:ident, $f:ident, $op:ident) => {
        impl std::ops::$tr for F64x4 {
            type Output = F64x4;
            #[inline(always)]
            fn $f(self, o: F64x4) -> F64x4 {
                F64x4(imp::$op(self.0, o.0))
            }
        }
    };
}
arith!(Add, add, add);
arith!(Sub, sub, sub);
arith!(Mul, mul, mul);
arith!(Div, div, div);

/// The instruction sets a hot loop can be compiled for, oldest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// The x86-64 baseline (SSE2), or whatever the target is elsewhere.
    Baseline,
    /// AVX2, BMI1/2, LZCNT, POPCNT and SSE4.2 (x86-64-v3 without FMA and MOVBE).
    Avx2,
    /// The AVX2 set plus AVX-512 F, BW, DQ, VL and CD (x86-64-v4 without FMA).
    Avx512,
}

std::thread_local! {
    /// The tier [`with_tier`] asked for on this thread, if any.
    static FORCED: std::cell::Cell<Option<Tier>> = const { std::cell::Cell::new(None) };
}

/// Run `f` compiled for the widest [`Tier`] the CPU has ([`tier`]). `f` should be an
/// `#[inline(always)]` closure around `#[inline(always)]` work: code inlined into a tier's
/// copy is compiled for its instructions (VEX or EVEX encoding, three-operand forms,
/// `shlx`, wider auto-vectorised loops, 32 vector registers and mask registers with
/// AVX-512). A whole-program build for the AVX2 features ran W1 6–15% faster than the
/// baseline build (BENCHMARKS.md, sixth round), and one for the CPU with AVX-512 a further
/// 5–10% (ninth round).
///
/// FMA is in no tier, so no multiply and add are fused: every operation keeps its IEEE
/// result, no reduction is reordered (Rust does not reassociate floating point), and every
/// copy gives the same bits (tests run each copy the CPU has).
#[inline(always)]
pub fn with_simd<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx,avx2,bmi1,bmi2,lzcnt,popcnt,sse3,ssse3,sse4.1,sse4.2")]
        fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        #[target_feature(enable = "avx,avx2,bmi1,bmi2,lzcnt,popcnt,sse3,ssse3,sse4.1,sse4.2,\
                                   avx512f,avx512bw,avx512dq,avx512vl,avx512cd")]
        fn avx512<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        let t = FORCED.with(std::cell::Cell::get).unwrap_or_else(tier);
        match t {
            // SAFETY: `tier` reports only what the CPU has, and `with_tier` never asks for
            // more than `tier`.
            Tier::Avx512 => return unsafe { avx512(f) },
            // SAFETY: as above; the AVX-512 CPUs have every AVX2 feature too.
            Tier::Avx2 => return unsafe { avx2(f) },
            Tier::Baseline => {}
        }
    }
    f()
}

/// Run `f` with every [`with_simd`] call on this thread taking the copy for `t`, or for
/// [`tier`] when the CPU lacks `t`: to compare the copies (tests, benches).
pub fn with_tier<R>(t: Tier, f: impl FnOnce() -> R) -> R {
    let before = FORCED.with(|c| c.replace(Some(t.min(tier()))));
    let r = f();
    FORCED.with(|c| c.set(before));
    r
}

/// The widest [`Tier`] this CPU has, detected once. `ECOCOMP_NO_AVX512` stops at
/// [`Tier::Avx2`], `ECOCOMP_NO_AVX2` at [`Tier::Baseline`] (to compare the copies' bits
/// and speed from the command line).
pub fn tier() -> Tier {
    use std::sync::OnceLock;
    static TIER: OnceLock<Tier> = OnceLock::new();
    *TIER.get_or_init(|| {
        let off = |v: &str| std::env::var_os(v).is_some();
        let (avx2, avx512) = detect();
        if off("ECOCOMP_NO_AVX2") || !avx2 {
            Tier::Baseline
        } else if off("ECOCOMP_NO_AVX512") || !avx512 {
            Tier::Avx2
        } else {
            Tier::Avx512
        }
    })
}

/// Whether the CPU has each tier's features (AVX2's, then AVX-512's on top).
#[cfg(target_arch = "x86_64")]
fn detect() -> (bool, bool) {
    use std::arch::is_x86_feature_detected as has;
    let avx2 = has!("avx")
        && has!("avx2")
        && has!("bmi1")
        && has!("bmi2")
        && has!("lzcnt")
        && has!("popcnt")
        && has!("sse3")
        && has!("ssse3")
        && has!("sse4.1")
        && has!("sse4.2");
    let avx512 = avx2
        && has!("avx512f")
        && has!("avx512bw")
        && has!("avx512dq")
        && has!("avx512vl")
        && has!("avx512cd");
    (avx2, avx512)
}

#[cfg(not(target_arch = "x86_64"))]
fn detect() -> (bool, bool) {
    (false, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values whose compares and arithmetic cover the edge cases: signed zeros, ±∞, NaN,
    /// subnormals and ordinary numbers.
    fn probes() -> Vec<f64> {
        vec![
            0.0,
            -0.0,
            1.0,
            -1.5,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MIN_POSITIVE / 8.0,
            1e300,
            3.25,
            -7.0,
            0.1,
        ]
    }

    fn quads() -> Vec<[f64; 4]> {
        let p = probes();
        let mut out = Vec::new();
        for (i, a) in p.iter().enumerate() {
            for (j, b) in p.iter().enumerate() {
                out.push([*a, *b, p[(i + j) % p.len()], p[(i * 7 + j * 3) % p.len()]]);
            }
        }
        out
    }

    fn same(a: [f64; 4], b: [f64; 4]) -> bool {
        a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits())
    }

    #[test]
    fn with_tier_never_exceeds_the_cpu_and_restores_the_choice() {
        let best = tier();
        #[inline(always)]
        fn seen() -> Option<Tier> {
            FORCED.with(std::cell::Cell::get)
        }
        assert_eq!(seen(), None);
        with_tier(Tier::Avx512, || {
            assert_eq!(seen(), Some(Tier::Avx512.min(best)));
            with_tier(Tier::Baseline, || assert_eq!(seen(), Some(Tier::Baseline)));
            assert_eq!(seen(), Some(Tier::Avx512.min(best)));
            // Each copy computes the same thing.
            assert_eq!(with_simd(|| 6 * 7), 42);
        });
        assert_eq!(seen(), None);
    }

    #[test]
    fn lanes_match_the_portable_reference_bit_for_bit() {
        use portable as p;
        let qs = quads();
        for a in &qs {
            for b in qs.iter().step_by(7) {
                let (va, vb) = (F64x4::from_array(*a), F64x4::from_array(*b));
                let (ra, rb) = (p::from_array(*a), p::from_array(*b));
                assert!(same(va.to_array(), p::to_array(ra)));
                assert!(same(F64x4::splat(b[1]).to_array(), p::splat(b[1])));
                assert!(same((va + vb).to_array(), p::add(ra, rb)));
                assert!(same((va - vb).to_array(), p::sub(ra, rb)));
                assert!(same((va * vb).to_array(), p::mul(ra, rb)));
                assert!(same((va / vb).to_array(), p::div(ra, rb)));
                assert!(same(va.min_lt(vb).to_array(), p::min_lt(ra, rb)));
                assert!(same(va.max_gt(vb).to_array(), p::max_gt(ra, rb)));
                assert_eq!(va.lt(vb).bits(), p::bits(p::lt(ra, rb)));
                assert_eq!(va.le(vb).bits(), p::bits(p::le(ra, rb)));
                assert_eq!(va.eq(vb).bits(), p::bits(p::eq(ra, rb)));
                let m = va.lt(vb);
                let pm = p::lt(ra, rb);
                let sel = p::or(p::and(pm, ra), p::andnot(pm, rb));
                assert!(same(m.select(va, vb).to_array(), sel));
                assert!(same(va.and(m).to_array(), p::and(ra, pm)));
            }
        }
    }

    #[test]
    fn lanes_match_scalar_expressions() {
        for a in quads() {
            for b in quads().iter().step_by(5) {
                let (va, vb) = (F64x4::from_array(a), F64x4::from_array(*b));
                let sel = va.lt(vb).select(va, vb).to_array();
                let mn = va.min_lt(vb).to_array();
                let mx = va.max_gt(vb).to_array();
                let flags = va.gt(vb).to_u8();
                let ones = va.ge(vb).ones().to_array();
                let not = (!va.ge(vb)).bits();
                for k in 0..4 {
                    let (x, y) = (a[k], b[k]);
                    let want = if x < y { x } else { y };
                    assert_eq!(sel[k].to_bits(), want.to_bits());
                    assert_eq!(mn[k].to_bits(), want.to_bits());
                    let want = if x > y { x } else { y };
                    assert_eq!(mx[k].to_bits(), want.to_bits());
                    assert_eq!(flags[k], u8::from(x > y));
                    assert_eq!(ones[k], if x >= y { 1.0 } else { 0.0 });
                    assert_eq!(
                        (not >> k) & 1,
                        u8::from(x.partial_cmp(&y).is_none_or(|o| o.is_lt()))
                    );
                    assert_eq!(((va + vb).to_array()[k]).to_bits(), (x + y).to_bits());
                }
                assert_eq!(va.eq(vb).any(), (0..4).any(|k| a[k] == b[k]));
            }
        }
        for n in 0..11 {
            let xs: Vec<f64> = (0..n)
                .map(|i| 0.1 * f64::from(i) + 1e15 * f64::from(i % 3))
                .collect();
            let mut l = [0.0; 4];
            for (i, x) in xs.iter().enumerate() {
                l[lane_of(i, xs.len())] += x;
            }
            assert_eq!(sum4(&xs).to_bits(), reduce(l).to_bits(), "n = {n}");
        }
        let mut s = [9.0; 6];
        F64x4::load(&[1.0, 2.0, 3.0, 4.0, 5.0]).store(&mut s[1..]);
        assert_eq!(s, [9.0, 1.0, 2.0, 3.0, 4.0, 9.0]);
    }
}
