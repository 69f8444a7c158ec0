//! Deterministic synthetic scenarios at national-county scale, for scale tests and benchmarks.
