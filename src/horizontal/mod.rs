//! Horizontal basin compensation between jurisdictions (MODEL.md §2; POLICY.md §3).
