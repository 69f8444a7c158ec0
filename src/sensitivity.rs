//! Global sensitivity analysis: Morris elementary effects and Sobol indices (issue 6).
