//! The plain-array implementation: the only one off x86-64, and the reference the tests
//! compare the SSE2 one against.

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
