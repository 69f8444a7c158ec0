//! Output files: CSV and JSON serialisers and the atomic writer (MODEL.md §4).
