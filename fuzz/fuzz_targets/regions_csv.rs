//! Region CSV parsing: any bytes either load or record at least one problem, never panic.
#![no_main]

use ecocomp::scenario::ctx::Ctx;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("regions.csv");
    let mut ctx = Ctx::new(path, "");
    let loaded = ecocomp::scenario::regions::load_csv(path, Ok(data.to_vec()), &mut ctx);
    match loaded {
        Some(l) => {
            let n = l.regions.data.n;
            assert!(l.regions.data.cols.iter().all(|c| c.len() == n));
            assert_eq!(l.regions.meta.name.len(), n);
        }
        None => assert!(!ctx.problems.is_empty(), "rejected without a problem"),
    }
});
