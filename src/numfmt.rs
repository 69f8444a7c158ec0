//! How numbers are written into files and messages: one spelling for every output.

/// Format an f64 for CSV and text: shortest round-trip representation, `inf` spelled out.
pub fn num(v: f64) -> String {
    if v.is_finite() {
        let s = format!("{v}");
        if s == "-0" { "0".to_string() } else { s }
    } else if v.is_nan() {
        "NaN".to_string()
    } else if v > 0.0 {
        "inf".to_string()
    } else {
        "-inf".to_string()
    }
}

#[cfg(test)]
mod tests {
    use crate::numfmt::num;

    #[test]
    fn shortest_round_trip_and_named_non_finite_values() {
        assert_eq!(num(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(num(-0.0), "0");
        assert_eq!(num(12.0), "12");
        assert_eq!(num(f64::INFINITY), "inf");
        assert_eq!(num(f64::NEG_INFINITY), "-inf");
        assert_eq!(num(f64::NAN), "NaN");
    }
}
