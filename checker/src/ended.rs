//! How each result of `kexit check` ended, so that a run never passes on work it did not do:
//! the summary counts exhaustive, budget-limited and time-limited results apart, `--json`
//! carries the reason per result, a result that explored nothing is an error, and
//! `--require-exhaustive` fails a run in which some result was not exhaustive.

use crate::engine::{Budget, RunResult};
use serde::Serialize;

/// Why a result's exploration ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ended {
    /// Every interleaving (within loom's preemption bound, where it has one).
    Exhaustive,
    /// At the first violation.
    Violation,
    /// The execution or state budget ran out first.
    Budget,
    /// The time limit ran out first.
    TimeLimit,
    /// SIGINT or SIGTERM stopped it (`interrupt.rs`).
    Interrupted,
    /// The run failed (a model panic, a worker that died, nothing explored).
    Error,
}

impl Ended {
    const ALL: [Ended; 6] = [
        Ended::Exhaustive,
        Ended::Violation,
        Ended::Budget,
        Ended::TimeLimit,
        Ended::Interrupted,
        Ended::Error,
    ];

    /// How the summary line counts it.
    fn label(self) -> &'static str {
        match self {
            Ended::Exhaustive => "exhaustive",
            Ended::Violation => "at a violation",
            Ended::Budget => "budget-limited",
            Ended::TimeLimit => "time-limited",
            Ended::Interrupted => "interrupted",
            Ended::Error => "failed",
        }
    }

    /// Its budget or its time limit ran out before it was exhaustive (what
    /// `--require-exhaustive` and `--min-executions` judge).
    pub fn unfinished(self) -> bool {
        matches!(self, Ended::Budget | Ended::TimeLimit)
    }

    pub fn of(r: &RunResult, budget: &Budget) -> Ended {
        if r.error.is_some() {
            return Ended::Error;
        }
        if r.found.is_some() {
            return Ended::Violation;
        }
        if r.exhaustive {
            return Ended::Exhaustive;
        }
        if crate::interrupt::requested() {
            return Ended::Interrupted;
        }
        let budget_spent = r.executions >= budget.iterations
            || r.state
                .as_ref()
                .is_some_and(|st| st.states >= budget.max_states);
        if budget_spent || budget.time_limit.is_none() {
            Ended::Budget
        } else {
            Ended::TimeLimit
        }
    }
}

/// A run that explored nothing has checked nothing: it is an error, not a pass.
pub fn refuse_no_work(r: &mut RunResult, budget: &Budget) {
    if r.executions == 0 && r.found.is_none() && r.error.is_none() {
        let within = budget
            .time_limit
            .map_or(String::new(), |t| format!(" within the time limit ({t:?})"));
        r.error = Some(format!(
            "no execution completed{within}: nothing was checked"
        ));
    }
}

/// The summary's count of how results ended, e.g. "50 exhaustive, 12 at a violation,
/// 3 budget-limited".
pub fn tally(ended: impl IntoIterator<Item = Ended>) -> String {
    let ended: Vec<Ended> = ended.into_iter().collect();
    let parts: Vec<String> = Ended::ALL
        .iter()
        .map(|&kind| (kind, ended.iter().filter(|&&e| e == kind).count()))
        .filter(|(_, k)| *k > 0)
        .map(|(kind, k)| format!("{k} {}", kind.label()))
        .collect();
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineKind;
    use std::time::Duration;

    fn result(engine: EngineKind, executions: u64, exhaustive: bool) -> RunResult {
        RunResult {
            engine,
            executions,
            points: 0,
            exhaustive,
            elapsed: Duration::ZERO,
            found: None,
            lines: Vec::new(),
            error: None,
            state: None,
        }
    }

    #[test]
    fn a_result_says_whether_its_budget_or_its_time_ran_out() {
        let timed = Budget {
            iterations: 100,
            time_limit: Some(Duration::from_secs(1)),
            ..Budget::default()
        };
        let pct = |n| result(EngineKind::Pct, n, false);
        assert_eq!(Ended::of(&pct(100), &timed), Ended::Budget);
        assert_eq!(Ended::of(&pct(40), &timed), Ended::TimeLimit);
        assert_eq!(
            Ended::of(&result(EngineKind::Loom, 7, true), &timed),
            Ended::Exhaustive
        );
        assert_eq!(
            tally([Ended::Exhaustive, Ended::Exhaustive, Ended::TimeLimit]),
            "2 exhaustive, 1 time-limited"
        );
    }

    #[test]
    fn a_result_that_explored_nothing_is_an_error() {
        let mut r = result(EngineKind::Pct, 0, false);
        refuse_no_work(&mut r, &Budget::default());
        assert!(r
            .error
            .as_deref()
            .is_some_and(|e| e.contains("nothing was checked")));
        assert_eq!(Ended::of(&r, &Budget::default()), Ended::Error);
        let mut worked = result(EngineKind::Pct, 1, false);
        refuse_no_work(&mut worked, &Budget::default());
        assert!(worked.error.is_none());
    }
}
