//! Monte Carlo engine: reproducible parallel draws with common random numbers (MODEL.md §3).
