//! How numbers are written into files and messages: one spelling for every output.
//!
//! Two policies, one per reader:
//!
//! - [`num`], for files a program reads back (CSV cells, sentences inside CSV): the
//!   shortest representation that parses back to the same `f64`, so no digit is lost;
//! - [`display`], for what a person reads (console tables, error messages, the report's
//!   tables): six significant digits, without the binary noise of the last bits
//!   (`2.3400000000000003` reads `2.34`).
//!
//! [`table`] lines such numbers up in console tables by terminal width.

pub mod table;

/// Significant digits of [`display`].
pub const DISPLAY_DIGITS: usize = 6;

/// Amounts smaller than this fraction of the money in play (a budget, the money an
/// agreement moves) are rounding residue of the arithmetic, not money: a fixed budget
/// redistributed sums to `−5.55e-17`, not to 0. Tables print them as 0 through
/// [`snap_zero`].
pub const ROUNDING_REL: f64 = 1e-9;

/// Format an f64 for CSV and text: shortest round-trip representation, `inf` spelled out.
pub fn num(v: f64) -> String {
    if v.is_finite() {
        let s = format!("{v}");
        if s == "-0" { "0".to_string() } else { s }
    } else {
        non_finite(v)
    }
}

fn non_finite(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v > 0.0 {
        "inf".to_string()
    } else {
        "-inf".to_string()
    }
}

/// Format an f64 for a person: rounded to [`DISPLAY_DIGITS`] significant digits, without
/// trailing zeros, in positional notation from 0.0001 up to 10¹⁵ (so money in 元 keeps
/// its digits) and as `1.5e-7` or `2e20` outside that range; ±0 is `0`, and non-finite
/// values are spelled as by [`num`].
///
/// Digits past the sixth become zeros (`1234567.8` is `1234570`): the figure claims six
/// digits, whatever its size.
pub fn display(v: f64) -> String {
    if !v.is_finite() {
        return non_finite(v);
    }
    if v == 0.0 {
        return "0".to_string();
    }
    // `{:.5e}` rounds the exact binary value once, to six digits; every spelling below
    // is built from those digits, so positional and exponent forms never round twice.
    let sci = format!("{:.*e}", DISPLAY_DIGITS - 1, v.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let body = if (-4..15).contains(&exp) {
        positional(&digits, exp)
    } else {
        exponent(&digits, exp)
    };
    if v < 0.0 { format!("-{body}") } else { body }
}

/// [`display`] with a `+` in front of a positive value, for differences.
pub fn display_signed(v: f64) -> String {
    let s = display(v);
    if v > 0.0 { format!("+{s}") } else { s }
}

/// `v`, or 0 when it is within `tol` of zero (see [`ROUNDING_REL`]).
pub fn snap_zero(v: f64, tol: f64) -> f64 {
    if v.abs() <= tol.abs() { 0.0 } else { v }
}

/// `digits` (the significant digits, first one non-zero) times 10^`exp - len + 1`,
/// positionally, without trailing zeros after the point.
fn positional(digits: &str, exp: i32) -> String {
    let n = digits.len() as i32;
    if exp >= n - 1 {
        let zeros = (exp - (n - 1)) as usize;
        return format!("{digits}{}", "0".repeat(zeros));
    }
    if exp >= 0 {
        let (int, frac) = digits.split_at(exp as usize + 1);
        let frac = frac.trim_end_matches('0');
        return if frac.is_empty() {
            int.to_string()
        } else {
            format!("{int}.{frac}")
        };
    }
    let lead = "0".repeat((-exp - 1) as usize);
    format!("0.{lead}{}", digits.trim_end_matches('0'))
}

/// `d.ddde±x` with the mantissa's trailing zeros dropped (`1e20`, `1.5e-7`).
fn exponent(digits: &str, exp: i32) -> String {
    let (first, rest) = digits.split_at(1);
    let rest = rest.trim_end_matches('0');
    if rest.is_empty() {
        format!("{first}e{exp}")
    } else {
        format!("{first}.{rest}e{exp}")
    }
}

#[cfg(test)]
mod tests {
    use crate::numfmt::{display, display_signed, num, snap_zero};

    #[test]
    fn shortest_round_trip_and_named_non_finite_values() {
        assert_eq!(num(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(num(-0.0), "0");
        assert_eq!(num(12.0), "12");
        assert_eq!(num(f64::INFINITY), "inf");
        assert_eq!(num(f64::NEG_INFINITY), "-inf");
        assert_eq!(num(f64::NAN), "NaN");
    }

    #[test]
    fn display_drops_the_binary_noise_of_the_last_bits() {
        assert_eq!(display(2.3400000000000003), "2.34");
        assert_eq!(display(1.8449999999999998), "1.845");
        assert_eq!(display(0.1 + 0.2), "0.3");
        assert_eq!(display(11.929999999999998), "11.93");
        assert_eq!(display(-2.9299999999999984), "-2.93");
    }

    #[test]
    fn display_rounds_to_six_significant_digits() {
        assert_eq!(display(62.817912), "62.8179");
        assert_eq!(display(62.81795), "62.818");
        assert_eq!(display(1.0851987), "1.0852");
        assert_eq!(display(0.30712345), "0.307123");
        assert_eq!(display(2.0 / 3.0), "0.666667");
        // Rounding that carries into a new digit moves the exponent.
        assert_eq!(display(9.999996), "10");
        assert_eq!(display(999_999.7), "1000000");
        assert_eq!(display(0.000_999_999_7), "0.001");
        // Ties of the decimal value round to even, as Rust's formatting does.
        assert_eq!(display(0.5), "0.5");
        assert_eq!(display(1.234565e3), format!("{:.2}", 1.234565e3));
    }

    #[test]
    fn display_of_whole_numbers_and_large_money() {
        assert_eq!(display(12.0), "12");
        assert_eq!(display(795.0), "795");
        assert_eq!(display(6000.0), "6000");
        assert_eq!(display(-6000.0), "-6000");
        assert_eq!(display(100_000.0), "100000");
        // Digits past the sixth are not claimed.
        assert_eq!(display(1_234_567.8), "1234570");
        assert_eq!(display(79_500_000_123.0), "79500000000");
        assert_eq!(display(123_456_789_012_345.0), "123457000000000");
        // From 10¹⁵ on, an exponent.
        assert_eq!(display(1e15), "1e15");
        assert_eq!(display(2.5e20), "2.5e20");
        assert_eq!(display(-1.7976931348623157e308), "-1.79769e308");
    }

    #[test]
    fn display_of_small_and_tiny_values() {
        assert_eq!(display(0.0011), "0.0011");
        assert_eq!(display(0.000123456789), "0.000123457");
        assert_eq!(display(-0.0009), "-0.0009");
        // Below 0.0001, an exponent.
        assert_eq!(display(0.0000123456789), "1.23457e-5");
        assert_eq!(display(-5.551115123125783e-17), "-5.55112e-17");
        assert_eq!(display(1e-9), "1e-9");
        assert_eq!(display(5e-324), "4.94066e-324");
    }

    #[test]
    fn display_of_zero_and_non_finite_values() {
        assert_eq!(display(0.0), "0");
        assert_eq!(display(-0.0), "0");
        assert_eq!(display(f64::INFINITY), "inf");
        assert_eq!(display(f64::NEG_INFINITY), "-inf");
        assert_eq!(display(f64::NAN), "NaN");
    }

    #[test]
    fn display_reads_back_within_its_rounding() {
        for v in [
            std::f64::consts::PI,
            -271.828182845,
            1e-4,
            9.87654321e14,
            0.00042,
            123456.5,
        ] {
            let back: f64 = display(v).parse().unwrap();
            assert!((back - v).abs() <= 5e-6 * v.abs(), "{v} → {}", display(v));
        }
    }

    #[test]
    fn signed_display_and_zero_snapping() {
        assert_eq!(display_signed(0.0011), "+0.0011");
        assert_eq!(display_signed(-73.0233), "-73.0233");
        assert_eq!(display_signed(0.0), "0");
        assert_eq!(display_signed(-0.0), "0");
        assert_eq!(display_signed(f64::INFINITY), "+inf");
        assert_eq!(display_signed(f64::NAN), "NaN");
        let tol = 1e-9 * 795.0;
        assert_eq!(display(snap_zero(-5.551115123125783e-17, tol)), "0");
        assert_eq!(display_signed(snap_zero(6.66e-16, tol)), "0");
        assert_eq!(display(snap_zero(0.0011, tol)), "0.0011");
        assert!(snap_zero(f64::NAN, tol).is_nan());
    }
}
