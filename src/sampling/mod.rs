//! Random streams, distributions, noise models and the Gaussian copula (MODEL.md §3.1).
