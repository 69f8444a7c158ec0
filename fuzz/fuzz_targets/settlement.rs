//! Agreement settlement (docs/model.md §2): a three-party, two-section agreement decoded from
//! the fuzz bytes (values clamped into valid ranges) goes through the real loader; every
//! agreement that loads must settle with finite flows that sum to zero over parties in
//! every period, and pool rules must pay out exactly the pool.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::fmt::Write;
use std::path::{Path, PathBuf};

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn unit(&mut self) -> f64 {
        f64::from(self.byte()) / 255.0
    }
    fn magnitude(&mut self) -> f64 {
        const SCALES: [f64; 10] = [0.0, 5e-324, 1e-300, 1e-6, 1.0, 7.0, 1e4, 1e12, 1e100, 1e300];
        let s = SCALES[usize::from(self.byte()) % SCALES.len()];
        s * (0.25 + self.unit())
    }
    /// A concentration: mostly around the class limits, sometimes extreme.
    fn conc(&mut self) -> f64 {
        if self.byte() < 16 {
            self.magnitude()
        } else {
            self.unit() * 3.0
        }
    }
}

const PARTIES: [&str; 3] = ["甲", "乙", "丙"];

fn section(b: &mut Bytes, t: &mut String, name: &str, up: &str, down: &str, periods: usize) {
    let _ = write!(
        t,
        "[[agreement.section]]\nname = \"{name}\"\nupstream = \"{up}\"\ndownstream = \"{down}\"\n"
    );
    let p_index = b.byte() % 2 == 0;
    if p_index {
        let _ = writeln!(t, "kind = \"p_index\"\nk0 = {}", 0.5 + b.unit());
    } else {
        let _ = writeln!(t, "kind = \"class\"\ntarget_class = {}", 1 + b.byte() % 5);
    }
    let names = ["COD_Mn", "NH3-N", "TP"];
    let k = 1 + usize::from(b.byte() % 3);
    for (j, ind) in names.iter().take(k).enumerate() {
        let _ = write!(t, "[[agreement.section.indicator]]\nname = \"{ind}\"\n");
        if p_index {
            // Weights that sum to 1: equal shares, the last one takes the rounding.
            let w = if j + 1 == k { 1.0 - (k - 1) as f64 / k as f64 } else { 1.0 / k as f64 };
            let _ = writeln!(t, "weight = {w}\nbaseline = {:e}", b.magnitude().max(1e-6));
        }
        let vals: Vec<String> = (0..periods).map(|_| format!("{:e}", b.conc())).collect();
        let _ = writeln!(t, "values = [{}]", vals.join(", "));
    }
}

fn scenario(b: &mut Bytes) -> String {
    let periods = 1 + usize::from(b.byte() % 4);
    let labels: Vec<String> = (0..periods).map(|i| (2018 + i).to_string()).collect();
    let mut t = format!(
        "[scenario]\nname = \"fuzz\"\n[[agreement]]\nname = \"a\"\nparties = [\"甲\", \"乙\", \"丙\"]\nperiods = [{}]\n",
        labels.join(", ")
    );
    section(b, &mut t, "s1", PARTIES[0], PARTIES[1], periods);
    section(b, &mut t, "s2", PARTIES[1], PARTIES[2], periods);
    let rules = 1 + b.byte() % 4;
    for r in 0..rules {
        let sec = if b.byte() % 2 == 0 { "s1" } else { "s2" };
        match b.byte() % 4 {
            0 => {
                let _ = write!(
                    t,
                    "[[agreement.rule]]\nname = \"r{r}\"\nkind = \"bet\"\nsection = \"{sec}\"\namount = {:e}\n",
                    b.magnitude()
                );
                if b.byte() % 2 == 0 {
                    let _ = writeln!(t, "band = {}", 0.01 + b.unit());
                }
            }
            1 => {
                let _ = write!(
                    t,
                    "[[agreement.rule]]\nname = \"r{r}\"\nkind = \"per_class\"\nsection = \"{sec}\"\namount_per_class = {:e}\n",
                    b.magnitude()
                );
            }
            2 => {
                let c: Vec<f64> = (0..3).map(|_| b.magnitude()).collect();
                let raw: Vec<f64> = (0..3).map(|_| f64::from(b.byte())).collect();
                let total: f64 = raw.iter().sum();
                let shares: Vec<f64> = if total > 0.0 {
                    let s0 = raw[0] / total;
                    let s1 = raw[1] / total;
                    vec![s0, s1, 1.0 - s0 - s1]
                } else {
                    vec![1.0, 0.0, 0.0]
                };
                let _ = write!(
                    t,
                    "[[agreement.rule]]\nname = \"r{r}\"\nkind = \"pool_shares\"\ncontributions = {{ \"甲\" = {:e}, \"乙\" = {:e}, \"丙\" = {:e} }}\nshares = {{ \"甲\" = {}, \"乙\" = {}, \"丙\" = {} }}\n",
                    c[0], c[1], c[2], shares[0], shares[1], shares[2]
                );
                if b.byte() % 2 == 0 {
                    let _ = write!(
                        t,
                        "[[agreement.rule.forfeit]]\nsections = [\"{sec}\"]\nsplit = {{ \"丙\" = 1.0 }}\n"
                    );
                }
            }
            _ => {
                let _ = write!(
                    t,
                    "[[agreement.rule]]\nname = \"r{r}\"\nkind = \"central\"\nto = \"甲\"\namount = {:e}\n",
                    b.magnitude()
                );
            }
        }
    }
    t
}

fuzz_target!(|data: &[u8]| {
    let toml = scenario(&mut Bytes(data));
    let read = |_: &Path| Err(std::io::Error::new(std::io::ErrorKind::NotFound, "none"));
    let resolve = |rel: &Path| PathBuf::from(rel);
    let Ok(scn) =
        ecocomp::scenario::load_bytes(Path::new("fuzz.toml"), toml.as_bytes(), &read, &resolve)
    else {
        return;
    };
    for a in &scn.agreements {
        let s = ecocomp::horizontal::settle::settle_point(a);
        for t in 0..s.n_periods {
            let mut sum = 0.0;
            let mut scale = 0.0_f64;
            for p in 0..s.n_parties {
                let x = s.net[s.pt(p, t)];
                assert!(x.is_finite(), "net[{p}, {t}] = {x}\n{toml}");
                sum += x;
                scale = scale.max(s.received[s.pt(p, t)]).max(s.paid[s.pt(p, t)]);
            }
            assert!(
                sum.abs() <= 1e-9 * scale + f64::MIN_POSITIVE,
                "period {t}: Σ net = {sum:e} (gross scale {scale:e})\n{toml}"
            );
        }
    }
});
