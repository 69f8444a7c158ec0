//! Streaming statistics: moments, exact quantiles and a mergeable quantile sketch (MODEL.md §3.2).
