//! The [`Vector`] of [`with_lanes`]' AVX2 and AVX-512 copies: four lanes in one 256-bit AVX
//! register.

#[cfg(doc)]
use super::with_lanes;
use super::{Lanes, Vector};
use std::arch::x86_64::*;

/// Four lanes in one 256-bit AVX register. Only [`with_lanes`]' AVX2 and AVX-512 copies
/// make these (the type is private to `simd`), so the AVX instructions its operations
/// compile to run only on a CPU that has them.
#[derive(Clone, Copy, Debug)]
pub(super) struct Wide(__m256d);

/// Four lane conditions of a [`Wide`].
#[derive(Clone, Copy, Debug)]
pub(super) struct WideMask(__m256d);

/// Run an AVX intrinsic in [`Wide`]'s operations.
macro_rules! avx {
    ($e:expr) => {
        // SAFETY: a `Wide` exists only inside a copy compiled for AVX2 (`with_lanes`), which
        // runs only where the CPU has AVX and AVX2; the intrinsics only compute on registers
        // or read and write the four `f64` of a checked array.
        unsafe { $e }
    };
}

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
