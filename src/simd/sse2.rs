//! The lanes of [`F64x4`](super::F64x4) and [`Mask4`](super::Mask4) on x86-64: each is two
//! SSE2 registers. SSE2 is part of the x86-64 baseline, so the binary stays portable.

use super::Repr;
use std::arch::x86_64::{
    __m128d, _mm_add_pd, _mm_and_pd, _mm_andnot_pd, _mm_cmpeq_pd, _mm_cmple_pd, _mm_cmplt_pd,
    _mm_div_pd, _mm_max_pd, _mm_min_pd, _mm_movemask_pd, _mm_mul_pd, _mm_or_pd, _mm_set_pd,
    _mm_set1_pd, _mm_storeu_pd, _mm_sub_pd,
};

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
