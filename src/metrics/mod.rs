//! Formula comparison metrics: inequality, targeting, winners and losers (issue 6).
