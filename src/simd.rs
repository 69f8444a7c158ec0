//! Four `f64` lanes for the Monte Carlo hot loops (issue 7).
//!
//! [`F64x4`] holds four values and [`Mask4`] four lane conditions. Every operation is
//! lane-wise IEEE arithmetic or a compare, so a lane gives the same bits as the scalar
//! expression it replaces; the loops that use them keep their results bit for bit. On
//! x86-64 a vector is two SSE2 registers (SSE2 is part of the x86-64 baseline, so the
//! binary stays portable); elsewhere it is a plain array (`portable`, also compiled for
//! the tests, which check that both give the same bits).
//!
//! [`with_lanes`] runs a hot loop written for any [`Vector`] through a copy compiled for
//! AVX2, or for AVX-512, when the CPU has it (detected at run time), where the lanes are
//! one 256-bit register (the private `Wide`); [`with_simd`] does the same for loops the
//! compiler vectorises on its own. Tests check every copy the CPU has against [`F64x4`].
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

/// Four `f64` lanes, as the hot loops use them: [`F64x4`] (two SSE2 registers, every
/// x86-64) and, inside [`with_lanes`]' AVX2 and AVX-512 copies, one 256-bit AVX register.
/// Every operation is the same lane-wise IEEE operation or compare in every
/// implementation, so code generic over `Vector` computes the same bits with each.
pub trait Vector:
    Copy
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
{
    /// Four lane conditions.
    type Mask: Lanes<Self>;
    fn splat(x: f64) -> Self;
    /// The first four values of `s` (panics when it is shorter).
    fn load(s: &[f64]) -> Self;
    fn from_array(a: [f64; 4]) -> Self;
    fn to_array(self) -> [f64; 4];
    /// Write the lanes to the first four places of `s` (panics when it is shorter).
    fn store(self, s: &mut [f64]);
    /// `self < o ? self : o` per lane.
    fn min_lt(self, o: Self) -> Self;
    /// `self > o ? self : o` per lane.
    fn max_gt(self, o: Self) -> Self;
    fn lt(self, o: Self) -> Self::Mask;
    fn le(self, o: Self) -> Self::Mask;
    fn eq(self, o: Self) -> Self::Mask;
    /// `self` where `m` holds, else +0.0.
    fn and(self, m: Self::Mask) -> Self;
    #[inline(always)]
    fn gt(self, o: Self) -> Self::Mask {
        o.lt(self)
    }
    #[inline(always)]
    fn ge(self, o: Self) -> Self::Mask {
        o.le(self)
    }
}

/// The lane conditions of a [`Vector`] `V`.
pub trait Lanes<V>:
    Copy
    + std::ops::BitAnd<Output = Self>
    + std::ops::BitOr<Output = Self>
    + std::ops::Not<Output = Self>
{
    /// `a` in the lanes where the mask holds, `b` elsewhere (the exact bits of either).
    fn select(self, a: V, b: V) -> V;
    /// Lane k's condition in bit k.
    fn bits(self) -> u8;
    /// Lane k's condition as 0 or 1 in place k.
    #[inline(always)]
    fn to_u8(self) -> [u8; 4] {
        let b = self.bits();
        [b & 1, (b >> 1) & 1, (b >> 2) & 1, (b >> 3) & 1]
    }
    #[inline(always)]
    fn any(self) -> bool {
        self.bits() != 0
    }
    /// 1.0 in the lanes where the mask holds, else 0.0.
    fn ones(self) -> V;
}

impl Vector for F64x4 {
    type Mask = Mask4;
    #[inline(always)]
    fn splat(x: f64) -> Self {
        F64x4::splat(x)
    }
    #[inline(always)]
    fn load(s: &[f64]) -> Self {
        F64x4::load(s)
    }
    #[inline(always)]
    fn from_array(a: [f64; 4]) -> Self {
        F64x4::from_array(a)
    }
    #[inline(always)]
    fn to_array(self) -> [f64; 4] {
        F64x4::to_array(self)
    }
    #[inline(always)]
    fn store(self, s: &mut [f64]) {
        F64x4::store(self, s);
    }
    #[inline(always)]
    fn min_lt(self, o: Self) -> Self {
        F64x4::min_lt(self, o)
    }
    #[inline(always)]
    fn max_gt(self, o: Self) -> Self {
        F64x4::max_gt(self, o)
    }
    #[inline(always)]
    fn lt(self, o: Self) -> Mask4 {
        F64x4::lt(self, o)
    }
    #[inline(always)]
    fn le(self, o: Self) -> Mask4 {
        F64x4::le(self, o)
    }
    #[inline(always)]
    fn eq(self, o: Self) -> Mask4 {
        F64x4::eq(self, o)
    }
    #[inline(always)]
    fn and(self, m: Mask4) -> Self {
        F64x4::and(self, m)
    }
}

impl Lanes<F64x4> for Mask4 {
    #[inline(always)]
    fn select(self, a: F64x4, b: F64x4) -> F64x4 {
        Mask4::select(self, a, b)
    }
    #[inline(always)]
    fn bits(self) -> u8 {
        Mask4::bits(self)
    }
    #[inline(always)]
    fn ones(self) -> F64x4 {
        Mask4::ones(self)
    }
}

/// Four lanes in one 256-bit AVX register. Only [`with_lanes`]' AVX2 and AVX-512 copies
/// make these (the type is private to this module), so the AVX instructions its
/// operations compile to run only on a CPU that has them.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, Debug)]
struct Wide(std::arch::x86_64::__m256d);

/// Four lane conditions of a [`Wide`].
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, Debug)]
struct WideMask(std::arch::x86_64::__m256d);

/// Run an AVX intrinsic in [`Wide`]'s operations.
#[cfg(target_arch = "x86_64")]
macro_rules! avx {
    ($e:expr) => {
        // SAFETY: a `Wide` exists only inside a copy compiled for AVX2 (`with_lanes`), which
        // runs only where the CPU has AVX and AVX2; the intrinsics only compute on registers
        // or read and write the four `f64` of a checked array.
        unsafe { $e }
    };
}

#[cfg(target_arch = "x86_64")]
mod wide {
    use super::{Lanes, Vector, Wide, WideMask};
    use std::arch::x86_64::*;

    impl Vector for Wide {
        type Mask = WideMask;
        #[inline(always)]
        fn splat(x: f64) -> Self {
            Wide(avx!(_mm256_set1_pd(x)))
        }
        #[inline(always)]
        fn load(s: &[f64]) -> Self {
            // Slicing panics when `s` is shorter, as `F64x4::load` does.
            let a = &s[..4];
            Wide(avx!(_mm256_loadu_pd(a.as_ptr())))
        }
        #[inline(always)]
        fn from_array(a: [f64; 4]) -> Self {
            Wide(avx!(_mm256_loadu_pd(a.as_ptr())))
        }
        #[inline(always)]
        fn to_array(self) -> [f64; 4] {
            let mut out = [0.0; 4];
            avx!(_mm256_storeu_pd(out.as_mut_ptr(), self.0));
            out
        }
        #[inline(always)]
        fn store(self, s: &mut [f64]) {
            let a = &mut s[..4];
            avx!(_mm256_storeu_pd(a.as_mut_ptr(), self.0));
        }
        #[inline(always)]
        fn min_lt(self, o: Self) -> Self {
            // `minpd` returns its second operand unless the first is less, as SSE2's.
            Wide(avx!(_mm256_min_pd(self.0, o.0)))
        }
        #[inline(always)]
        fn max_gt(self, o: Self) -> Self {
            Wide(avx!(_mm256_max_pd(self.0, o.0)))
        }
        // The predicates of SSE2's `cmpltpd`, `cmplepd` and `cmpeqpd`.
        #[inline(always)]
        fn lt(self, o: Self) -> WideMask {
            WideMask(avx!(_mm256_cmp_pd::<_CMP_LT_OS>(self.0, o.0)))
        }
        #[inline(always)]
        fn le(self, o: Self) -> WideMask {
            WideMask(avx!(_mm256_cmp_pd::<_CMP_LE_OS>(self.0, o.0)))
        }
        #[inline(always)]
        fn eq(self, o: Self) -> WideMask {
            WideMask(avx!(_mm256_cmp_pd::<_CMP_EQ_OQ>(self.0, o.0)))
        }
        #[inline(always)]
        fn and(self, m: WideMask) -> Self {
            Wide(avx!(_mm256_and_pd(self.0, m.0)))
        }
    }

    impl Lanes<Wide> for WideMask {
        #[inline(always)]
        fn select(self, a: Wide, b: Wide) -> Wide {
            Wide(avx!(_mm256_or_pd(
                _mm256_and_pd(self.0, a.0),
                _mm256_andnot_pd(self.0, b.0)
            )))
        }
        #[inline(always)]
        fn bits(self) -> u8 {
            avx!(_mm256_movemask_pd(self.0)) as u8
        }
        #[inline(always)]
        fn ones(self) -> Wide {
            Wide::splat(1.0).and(self)
        }
    }

    macro_rules! wide_ops {
        ($tr:ident, $f:ident, $ty:ident, $op:ident) => {
            impl std::ops::$tr for $ty {
                type Output = $ty;
                #[inline(always)]
                fn $f(self, o: $ty) -> $ty {
                    $ty(avx!($op(self.0, o.0)))
                }
            }
        };
    }
    wide_ops!(Add, add, Wide, _mm256_add_pd);
    wide_ops!(Sub, sub, Wide, _mm256_sub_pd);
    wide_ops!(Mul, mul, Wide, _mm256_mul_pd);
    wide_ops!(Div, div, Wide, _mm256_div_pd);
    wide_ops!(BitAnd, bitand, WideMask, _mm256_and_pd);
    wide_ops!(BitOr, bitor, WideMask, _mm256_or_pd);

    impl std::ops::Not for WideMask {
        type Output = WideMask;
        #[inline(always)]
        fn not(self) -> WideMask {
            let all = avx!(_mm256_castsi256_pd(_mm256_set1_epi64x(-1)));
            WideMask(avx!(_mm256_xor_pd(self.0, all)))
        }
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

/// Work generic over the [`Vector`] it computes with, for [`with_lanes`].
pub trait LaneFn {
    type Out;
    fn call<V: Vector>(self) -> Self::Out;
}

/// Run `f` compiled for the widest [`Tier`] the CPU has ([`tier`]), with [`Vector`]s of
/// one 256-bit register in the AVX2 and AVX-512 copies and [`F64x4`] (two SSE2 registers)
/// in the baseline. `f` should be `#[inline(always)]` work: code inlined into a tier's
/// copy is compiled for its instructions (VEX or EVEX encoding, three-operand forms,
/// `shlx`, wider auto-vectorised loops, 32 vector registers and mask registers with
/// AVX-512).
///
/// Measured on W1 (BENCHMARKS.md): a whole-program build for the AVX2 features ran 6–15%
/// faster than the baseline build (sixth round); on a CPU with AVX-512, the AVX-512 copy
/// took 4–5% off the AVX2 one, and one-register lanes in the kernel about 10% more (ninth
/// round).
///
/// FMA is in no tier, so no multiply and add are fused: every operation keeps its IEEE
/// result, no reduction is reordered (Rust does not reassociate floating point), and every
/// copy gives the same bits (tests run each copy the CPU has).
#[inline(always)]
pub fn with_lanes<F: LaneFn>(f: F) -> F::Out {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx,avx2,bmi1,bmi2,lzcnt,popcnt,sse3,ssse3,sse4.1,sse4.2")]
        fn avx2<F: LaneFn>(f: F) -> F::Out {
            f.call::<Wide>()
        }
        #[target_feature(enable = "avx,avx2,bmi1,bmi2,lzcnt,popcnt,sse3,ssse3,sse4.1,sse4.2,\
                                   avx512f,avx512bw,avx512dq,avx512vl,avx512cd")]
        fn avx512<F: LaneFn>(f: F) -> F::Out {
            f.call::<Wide>()
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
    f.call::<F64x4>()
}

/// [`with_lanes`] for work that does not use [`Vector`]s (loops the compiler vectorises
/// on its own): `f` runs in the same copies.
#[inline(always)]
pub fn with_simd<R>(f: impl FnOnce() -> R) -> R {
    struct Plain<F>(F);
    impl<R, F: FnOnce() -> R> LaneFn for Plain<F> {
        type Out = R;
        #[inline(always)]
        fn call<V: Vector>(self) -> R {
            (self.0)()
        }
    }
    with_lanes(Plain(f))
}

/// Run `f` with every [`with_lanes`] (and [`with_simd`]) call on this thread taking the copy for `t`, or for
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

    /// Every [`Vector`] and [`Lanes`] operation on `V`, on quads of probe values, as bits.
    fn every_op<V: Vector>(qs: &[[f64; 4]]) -> Vec<u64> {
        let mut out = Vec::new();
        let mut push = |v: V| out.extend(v.to_array().map(f64::to_bits));
        let mut masks = Vec::new();
        for a in qs {
            for b in qs.iter().step_by(7) {
                let (va, vb) = (V::from_array(*a), V::load(b));
                push(V::splat(b[1]));
                push(va + vb);
                push(va - vb);
                push(va * vb);
                push(va / vb);
                push(va.min_lt(vb));
                push(va.max_gt(vb));
                let ms = [va.lt(vb), va.le(vb), va.eq(vb), va.gt(vb), va.ge(vb)];
                for m in ms {
                    push(m.select(va, vb));
                    push(va.and(m));
                    push(m.ones());
                    masks.extend([m.bits(), (!m).bits(), u8::from(m.any())]);
                    masks.extend(m.to_u8());
                }
                masks.extend([(ms[0] & ms[2]).bits(), (ms[0] | ms[2]).bits()]);
                let mut st = [0.0; 5];
                va.store(&mut st[1..]);
                push(V::load(&st[1..]));
            }
        }
        out.extend(masks.into_iter().map(u64::from));
        out
    }

    #[test]
    fn every_tier_s_lanes_give_the_same_bits() {
        struct Ops<'a>(&'a [[f64; 4]]);
        impl LaneFn for Ops<'_> {
            type Out = Vec<u64>;
            fn call<V: Vector>(self) -> Vec<u64> {
                every_op::<V>(self.0)
            }
        }
        let qs = quads();
        let want = every_op::<F64x4>(&qs);
        assert!(want.len() > 10_000);
        for t in [Tier::Baseline, Tier::Avx2, Tier::Avx512] {
            let got = with_tier(t, || with_lanes(Ops(&qs)));
            assert!(got == want, "{t:?} lanes differ from F64x4's");
        }
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
