//! Which copy of a hot loop runs: the [`Tier`] the CPU has, detected at run time, and the
//! copies [`with_lanes`] and [`with_simd`] compile a loop into.

#[cfg(target_arch = "x86_64")]
use super::wide::Wide;
use super::{F64x4, Vector};

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
    pub(super) static FORCED: std::cell::Cell<Option<Tier>> = const { std::cell::Cell::new(None) };
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
/// The copies matter on W1: the AVX2 features save 6–15% against the baseline build, and
/// on a CPU with AVX-512 its copy saves 4–5% more.
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
