//! Four `f64` lanes for the Monte Carlo hot loops.
//!
//! [`F64x4`] holds four values and [`Mask4`] four lane conditions. Every operation is
//! lane-wise IEEE arithmetic or a compare, so a lane gives the same bits as the scalar
//! expression it replaces; the loops that use them keep their results bit for bit. On
//! x86-64 a vector is two SSE2 registers (`sse2.rs`; SSE2 is part of the x86-64 baseline,
//! so the binary stays portable); elsewhere it is a plain array (`portable.rs`, also
//! compiled for the tests, which check that both give the same bits).
//!
//! [`with_lanes`] runs a hot loop written for any [`Vector`] through a copy compiled for
//! AVX2, or for AVX-512, when the CPU has it (detected at run time, `dispatch.rs`), where
//! the lanes are one 256-bit register (the private `Wide` of `wide.rs`); [`with_simd`] does
//! the same for loops the compiler vectorises on its own. Tests check every copy the CPU
//! has against [`F64x4`].
//!
//! The point is branch-free selects: written as `if` on scalars, LLVM turned the budget
//! solve's selects into data-dependent branches (one per lane) that mispredicted on
//! every other region.
//!
//! Hand-written, not `wide` or `pulp`: `wide` fixes its layout at compile time and stays on
//! SSE2 pairs inside run-time AVX2 copies (1.6× slower), and `pulp` gave the same speed
//! with a different tier scheme (BENCHMARKS.md).

#[cfg(target_arch = "x86_64")]
mod sse2;
#[cfg(target_arch = "x86_64")]
use sse2 as imp;

#[cfg(any(test, not(target_arch = "x86_64")))]
mod portable;
#[cfg(not(target_arch = "x86_64"))]
use portable as imp;

#[cfg(target_arch = "x86_64")]
mod wide;

mod dispatch;
pub use dispatch::{LaneFn, Tier, tier, with_lanes, with_simd, with_tier};

#[cfg(test)]
mod tests;

/// Lanes per vector.
pub const LANES: usize = 4;

/// Four `f64` lanes.
#[derive(Clone, Copy, Debug)]
pub struct F64x4(Repr);

/// Four lane conditions (all bits set for true, clear for false).
#[derive(Clone, Copy, Debug)]
pub struct Mask4(Repr);

#[cfg(target_arch = "x86_64")]
type Repr = [std::arch::x86_64::__m128d; 2];
#[cfg(not(target_arch = "x86_64"))]
type Repr = [f64; 4];

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
