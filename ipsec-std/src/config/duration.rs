//! Time values as ipsec.conf writes them (`30`, `30s`, `9m`, `1.5h`, `1d`).
//!
//! ipsec.conf(5): an integer optionally followed by `s` (seconds), or a decimal number followed
//! by `m`, `h` or `d`. The TOML format takes the same strings (or an integer of seconds).

use std::fmt;
use std::time::Duration;

/// Why a time value was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationError(pub &'static str);

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for DurationError {}

/// The longest time we accept: 10 years, far beyond any lifetime or timer.
const MAX_SECS: u64 = 10 * 366 * 86_400;

/// Parses a time value (whole seconds; fractions of a second are dropped, as strongSwan does).
///
/// # Errors
/// [`DurationError`] for an empty value, an unknown unit, a fraction of seconds, a negative or
/// malformed number, or more than 10 years.
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    let s = s.trim();
    let (num, unit_secs): (&str, u64) = match s.char_indices().last() {
        None => return Err(DurationError("empty time value")),
        Some((i, 's')) => (s.get(..i).unwrap_or_default(), 1),
        Some((i, 'm')) => (s.get(..i).unwrap_or_default(), 60),
        Some((i, 'h')) => (s.get(..i).unwrap_or_default(), 3600),
        Some((i, 'd')) => (s.get(..i).unwrap_or_default(), 86_400),
        Some((_, c)) if c.is_ascii_digit() => (s, 1),
        Some(_) => return Err(DurationError("unknown time unit (use s, m, h or d)")),
    };
    let (whole, frac) = match num.split_once('.') {
        Some((w, f)) => (w, f),
        None => (num, ""),
    };
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(DurationError(
            "not a number followed by an optional unit (s, m, h, d)",
        ));
    }
    if num.contains('.') && (frac.is_empty() || unit_secs == 1) {
        return Err(DurationError("a decimal number needs a unit of m, h or d"));
    }
    let too_long = DurationError("time value too large (over 10 years)");
    let whole: u64 = whole.parse().map_err(|_| too_long)?;
    // Fractions: up to 6 digits are exact to the microsecond for every unit.
    let frac = frac.get(..frac.len().min(6)).unwrap_or_default();
    let frac_num: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| too_long)?
    };
    let frac_den: u64 = 10u64
        .checked_pow(u32::try_from(frac.len()).unwrap_or(6))
        .ok_or(too_long)?;
    let secs = whole.checked_mul(unit_secs).ok_or(too_long)?;
    if secs > MAX_SECS {
        return Err(too_long);
    }
    // unit_secs * 1e6 * frac_num / frac_den: exact in u64 for these bounds.
    let extra_micros = unit_secs
        .checked_mul(1_000_000)
        .and_then(|u| u.checked_mul(frac_num))
        .and_then(|v| v.checked_div(frac_den))
        .ok_or(too_long)?;
    // strongSwan keeps times in whole seconds; so do we (`0.001h` is 3 s).
    Ok(Duration::from_secs(secs.saturating_add(extra_micros / 1_000_000)))
}

/// Writes whole seconds in the largest unit that represents them exactly (`8h`, `90s`; `1.5h`
/// becomes `90m`); parsing the result gives the same duration. Fractions of a second, which
/// [`parse_duration`] never produces, are dropped.
#[must_use]
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    for (unit, n) in [("d", 86_400u64), ("h", 3600), ("m", 60)] {
        if secs != 0 && secs.checked_rem(n) == Some(0) {
            return format!("{}{unit}", secs.checked_div(n).unwrap_or_default());
        }
    }
    format!("{secs}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_decimals() {
        for (text, secs) in [
            ("0", 0),
            ("30", 30),
            ("30s", 30),
            ("9m", 540),
            ("1h", 3600),
            ("8h", 28_800),
            ("1d", 86_400),
            ("1.5h", 5400),
            ("0.5m", 30),
            ("2.25d", 194_400),
            (" 120 ", 120),
        ] {
            assert_eq!(parse_duration(text), Ok(Duration::from_secs(secs)), "{text}");
        }
        assert_eq!(parse_duration("0.001h"), Ok(Duration::from_secs(3)));
    }

    #[test]
    fn bad_values() {
        for (text, why) in [
            ("", "empty"),
            ("1w", "unknown time unit"),
            ("h", "not a number"),
            ("-5s", "not a number"),
            ("1.5", "needs a unit"),
            ("1.5s", "needs a unit"),
            ("1.h", "needs a unit"),
            ("1e3s", "not a number"),
            ("99999999999999999999s", "too large"),
            ("4000d", "too large"),
        ] {
            let e = parse_duration(text).unwrap_err();
            assert!(e.0.contains(why), "{text}: {e}");
        }
    }

    #[test]
    fn formatting_round_trips() {
        for secs in [0u64, 1, 30, 59, 60, 90, 540, 3600, 5400, 28_800, 86_400, 90_061] {
            let d = Duration::from_secs(secs);
            assert_eq!(
                parse_duration(&format_duration(d)),
                Ok(d),
                "{secs} -> {}",
                format_duration(d)
            );
        }
        assert_eq!(format_duration(Duration::from_secs(28_800)), "8h");
        assert_eq!(format_duration(Duration::from_secs(5400)), "90m");
        assert_eq!(format_duration(Duration::from_secs(0)), "0s");
    }
}
