//! Range checks for numeric command-line options, as clap value parsers: a value outside its
//! range is an input error (exit code 2, with the range in the message) before any work
//! starts, never a panic or an abort half-way (a `Duration` overflow, a thread that cannot be
//! spawned, a loom worker that runs out of memory for a bound).

/// The longest time limit accepted, in seconds (30 days).
pub const MAX_SECONDS: f64 = 30.0 * 24.0 * 3600.0;
/// The most worker threads accepted.
pub const MAX_JOBS: usize = 256;
/// The largest preemption bound accepted. Paths are at most a few hundred decisions and a
/// bound this large explores what no bound does; without the option loom is unbounded.
pub const MAX_PREEMPTION_BOUND: usize = 64;

/// `s` as a number, or an error naming what it should have been.
fn number<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, String> {
    s.trim().parse().map_err(|_| format!("{s:?} is not {what}"))
}

/// Seconds: a finite number above 0, at most `MAX_SECONDS`.
pub fn seconds(s: &str) -> Result<f64, String> {
    let t: f64 = number(s, "a number of seconds")?;
    if !(t.is_finite() && t > 0.0 && t <= MAX_SECONDS) {
        return Err(format!(
            "expected a number of seconds above 0 and at most {MAX_SECONDS} (30 days), got {s}"
        ));
    }
    Ok(t)
}

/// Worker threads: 1 to `MAX_JOBS`.
pub fn jobs(s: &str) -> Result<usize, String> {
    let n: usize = number(s, "a number of workers")?;
    if !(1..=MAX_JOBS).contains(&n) {
        return Err(format!("expected 1 to {MAX_JOBS} workers, got {n}"));
    }
    Ok(n)
}

/// A preemption bound: 0 to `MAX_PREEMPTION_BOUND`.
pub fn preemption_bound(s: &str) -> Result<usize, String> {
    let n: usize = number(s, "a preemption bound")?;
    if n > MAX_PREEMPTION_BOUND {
        return Err(format!(
            "expected a bound of 0 to {MAX_PREEMPTION_BOUND} (leave the option out for no bound), got {n}"
        ));
    }
    Ok(n)
}

/// A count of executions, states or scenarios: at least 1.
pub fn count(s: &str) -> Result<u64, String> {
    let n: u64 = number(s, "a whole number")?;
    if n == 0 {
        return Err("expected at least 1 (a run of nothing would pass without work)".into());
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_out_of_range_are_refused_with_their_range() {
        assert_eq!(seconds("1.5"), Ok(1.5));
        for bad in ["0", "-1", "nan", "inf", "1e30", "x"] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
        assert_eq!(jobs("2"), Ok(2));
        assert!(jobs("0").is_err() && jobs("100000").is_err());
        assert_eq!(preemption_bound("0"), Ok(0));
        assert!(preemption_bound("99999999999")
            .unwrap_err()
            .contains("no bound"));
        assert_eq!(count("3"), Ok(3));
        assert!(count("0").is_err() && count("-2").is_err());
    }
}
