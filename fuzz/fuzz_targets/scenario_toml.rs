//! Scenario TOML parsing and validation: any bytes either load or give `Error::Invalid`;
//! a scenario that loads must also compute its point estimate without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};

const CSV: &str = "id,name,group,std_revenue,std_expenditure,area_km2,redline_km2,prior_allocation,hold_harmless,tags\n\
a,甲,north,2,6,5000,2500,2,true,water_source\n\
b,乙,south,4,7,3000,600,2.5,false,\n";

fuzz_target!(|data: &[u8]| {
    let read = |rel: &Path| {
        if rel == Path::new("regions.csv") {
            Ok(CSV.as_bytes().to_vec())
        } else {
            Err(std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"))
        }
    };
    let resolve = |rel: &Path| PathBuf::from(rel);
    match ecocomp::scenario::load_bytes(Path::new("fuzz.toml"), data, &read, &resolve) {
        Ok(scn) => {
            let _ = ecocomp::run::point::point(&scn);
        }
        Err(ecocomp::Error::Invalid(p)) => assert!(!p.0.is_empty()),
        Err(_) => {}
    }
});
