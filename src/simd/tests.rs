use super::dispatch::FORCED;
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
