//! A run's verdict against what its scenario and variant must show.

use crate::engine::RunResult;
use kexit_model::trace::ViolationKind;
use serde::Serialize;

#[derive(Serialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Caught,
    Violation,
    Missed,
    Error,
}

impl Verdict {
    pub fn ok(self) -> bool {
        matches!(self, Verdict::Pass | Verdict::Caught)
    }
    pub fn text(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Caught => "caught",
            Verdict::Violation => "VIOLATION",
            Verdict::Missed => "MISSED",
            Verdict::Error => "ERROR",
        }
    }
}

pub fn verdict(r: &RunResult, want: &[ViolationKind]) -> Verdict {
    if r.error.is_some() {
        return Verdict::Error;
    }
    match &r.found {
        Some(f)
            if f.outcome
                .violation
                .as_ref()
                .is_some_and(|v| want.contains(&v.kind)) =>
        {
            Verdict::Caught
        }
        Some(_) => Verdict::Violation,
        None if !want.is_empty() => Verdict::Missed,
        None => Verdict::Pass,
    }
}
