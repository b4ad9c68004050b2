//! The forms a wait status expectation can take, checked when a scenario is loaded: a typo
//! (`"exploded(7)"`, `"exited(300)"`) is an input error there, not a kernel violation reported
//! after the run because no status could ever match it.

use crate::spec::StatusExpect;

/// Whether `s` is a status the model can report: `exited(0..=255)`, `signaled(1..=127)`,
/// `stopped(1..=127)` or `continued` (`kexit_model::flags::decode_status`).
pub fn well_formed(s: &str) -> bool {
    if s == "continued" {
        return true;
    }
    let Some((word, rest)) = s.split_once('(') else {
        return false;
    };
    let Some(Ok(n)) = rest.strip_suffix(')').map(str::parse::<u32>) else {
        return false;
    };
    match word {
        "exited" => n <= 255,
        "signaled" | "stopped" => (1..=127).contains(&n),
        _ => false,
    }
}

/// The first status in `e` that is not well formed.
pub fn first_malformed(e: &StatusExpect) -> Option<&str> {
    match e {
        StatusExpect::One(s) => (!well_formed(s)).then_some(s.as_str()),
        StatusExpect::AnyOf(v) => v.iter().map(String::as_str).find(|s| !well_formed(s)),
    }
}

/// The error message for a malformed status.
pub fn complaint(s: &str) -> String {
    format!(
        "status {s:?} is not one the kernel can report: exited(0..255), signaled(1..127), stopped(1..127) or continued"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_the_model_reports_are_accepted_and_typos_are_not() {
        for ok in [
            "exited(0)",
            "exited(255)",
            "signaled(9)",
            "stopped(17)",
            "continued",
        ] {
            assert!(well_formed(ok), "{ok}");
        }
        for bad in [
            "exploded(7)",
            "exited(300)",
            "signaled(0)",
            "exited",
            "exited(1",
            "Continued",
            "exited(-1)",
        ] {
            assert!(!well_formed(bad), "{bad}");
        }
    }
}
