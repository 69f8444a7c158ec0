//! The allocator on arbitrary *valid* inputs (docs/model.md §1 invariants). The fuzz bytes are
//! decoded by hand into a regions CSV and one formula with values clamped into their valid
//! ranges; the scenario goes through the real loader, and whatever loads must allocate
//! with every `x_i ≥ 0` and finite, and in fixed mode `Σx = T − unallocated` within
//! `1e-9·T`.
#![no_main]

use ecocomp::model::BudgetMode;
use libfuzzer_sys::fuzz_target;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Reads the fuzz input as a stream of small decisions; zeros once exhausted.
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
    fn bool(&mut self) -> bool {
        self.byte() & 1 == 1
    }
    /// A fraction in [0, 1].
    fn unit(&mut self) -> f64 {
        f64::from(self.byte()) / 255.0
    }
    /// A non-negative magnitude spanning subnormals to 1e300.
    fn magnitude(&mut self) -> f64 {
        const SCALES: [f64; 12] = [
            0.0, 5e-324, 1e-300, 1e-9, 0.01, 1.0, 3.0, 100.0, 1e6, 1e15, 1e100, 1e300,
        ];
        let s = SCALES[usize::from(self.byte()) % SCALES.len()];
        s * (0.25 + self.unit())
    }
}

fn scenario(b: &mut Bytes) -> (String, String) {
    let n = 1 + usize::from(b.byte() % 12);
    let mut csv = String::from(
        "id,group,std_revenue,std_expenditure,eco_spending,area_km2,redline_km2,pa_km2,pa_count,pa_score,eqi_change,damage_index,prior_allocation,hold_harmless,tags\n",
    );
    for i in 0..n {
        let area = b.magnitude();
        let redline = area * b.unit();
        let expenditure = b.magnitude().max(1e-300);
        let tags = match b.byte() % 3 {
            0 => "",
            1 => "water_source",
            _ => "water_source;national_park",
        };
        let _ = writeln!(
            csv,
            "r{i},g{},{},{expenditure:e},{:e},{area:e},{redline:e},{:e},{},{},{},{},{:e},{},{tags}",
            b.byte() % 3,
            b.magnitude(),
            b.magnitude(),
            b.magnitude(),
            b.byte() % 5,
            b.unit(),
            (f64::from(b.byte()) - 128.0) / 16.0,
            b.unit(),
            b.magnitude(),
            b.bool(),
        );
    }
    let fixed = b.bool();
    let mut t = format!(
        "[scenario]\nname = \"fuzz\"\n[regions]\nfile = \"regions.csv\"\n[budget]\ntotal = {:e}\nmode = \"{}\"\non_infeasible = \"{}\"\n",
        b.magnitude(),
        if fixed { "fixed" } else { "open" },
        if b.bool() { "scale_floors" } else { "error" },
    );
    let _ = write!(
        t,
        "[[formula]]\nname = \"f\"\n[formula.key]\nc0 = {}\neco_weight = {}\nredline_uplift = {}\nbands = [[0.0, {}], [0.5, {}], [0.8, {}]]\n",
        b.unit() * 2.0,
        b.unit(),
        b.unit(),
        b.unit() * 2.0,
        b.unit() * 2.0,
        b.unit() * 2.0,
    );
    if b.bool() {
        let _ = write!(
            t,
            "[formula.importance]\nwater_source = {}\nnational_park = {}\n",
            1.0 + b.unit(),
            1.0 + b.unit()
        );
    }
    if b.bool() {
        let _ = write!(
            t,
            "[formula.protected_areas]\nshare = {}\nw_area = {}\nw_count = {}\nw_score = {}\n",
            b.unit() * 0.4,
            b.unit(),
            b.unit(),
            b.unit()
        );
    }
    if b.bool() {
        let _ = write!(
            t,
            "[formula.redline]\nshare = {}\ngamma = {}\nthreshold = {}\n",
            b.unit() * 0.4,
            b.unit() * 2.0,
            b.unit()
        );
    }
    if b.bool() {
        let _ = write!(
            t,
            "[formula.quality]\nthresholds = [1.0, 2.0, 4.0]\nreward = {{ generally = {}, markedly = {} }}\ndeduction = {{ slightly = {}, generally = {}, markedly = {} }}\n",
            b.unit() * 0.2,
            b.unit() * 0.4,
            b.unit() * 0.1,
            b.unit() * 0.3,
            b.unit()
        );
    }
    if b.bool() {
        let _ = write!(
            t,
            "[formula.reverse_linkage]\nlambda = {}\nmax_cut = {}\n",
            b.unit() * 2.0,
            b.unit()
        );
    }
    if b.bool() {
        let _ = write!(
            t,
            "[formula.floor]\nh = {}\nwaived_on_violation = {}\n",
            b.unit() * 1.5,
            b.bool()
        );
    }
    if b.bool() {
        let _ = write!(t, "[formula.cap]\ngrowth = {}\n", b.unit() * 2.0);
    }
    (t, csv)
}

fuzz_target!(|data: &[u8]| {
    let (toml, csv) = scenario(&mut Bytes(data));
    let read = |_: &Path| Ok(csv.clone().into_bytes());
    let resolve = |rel: &Path| PathBuf::from(rel);
    let Ok(scn) =
        ecocomp::scenario::load_bytes(Path::new("fuzz.toml"), toml.as_bytes(), &read, &resolve)
    else {
        return;
    };
    let res = match ecocomp::run::point::point(&scn) {
        Ok(r) => r,
        Err(ecocomp::Error::InfeasibleFloors { .. }) => return,
        // A clear error for claims that overflow f64 (inputs near 1e300) is allowed.
        Err(ecocomp::Error::Runtime(m)) if m.contains("overflows a 64-bit float") => return,
        Err(e) => panic!("valid input failed: {e}\n{toml}\n{csv}"),
    };
    let Some(v) = &scn.vertical else { return };
    for fp in &res.formulas {
        let a = &fp.alloc;
        for (i, x) in a.x.iter().enumerate() {
            assert!(x.is_finite() && *x >= 0.0, "x[{i}] = {x}\n{toml}\n{csv}");
        }
        let sum: f64 = a.x.iter().sum();
        if v.budget.mode == BudgetMode::Fixed {
            let t = v.budget.total.unwrap_or(0.0);
            let want = t - a.unallocated();
            assert!(
                (sum - want).abs() <= 1e-9 * t + f64::MIN_POSITIVE,
                "Σx = {sum:e}, T − unallocated = {want:e}\n{toml}\n{csv}"
            );
        }
    }
});
