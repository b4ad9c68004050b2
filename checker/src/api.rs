//! kexit from your own `#[test]`: run a scenario (catalogue name, file or inline TOML) on an
//! engine and a variant within a budget, and get the verdict, the violation and the saved
//! schedule file back.
//!
//! ```no_run
//! use kexit_checker::api::Check;
//! use kexit_checker::engine::EngineKind;
//!
//! let checked = Check::scenario("exit-vs-wait")
//!     .engine(EngineKind::State)
//!     .variant("bug:wait-unlocked-sleep")
//!     .save_schedules_to("target/kexit")
//!     .run()
//!     .expect("the scenario and the variant exist");
//! assert!(checked.ok(), "{}", checked.summary());
//! assert!(checked.violation.is_some() && checked.schedule_file.is_some());
//! ```
//!
//! Loom runs in the calling process here (a loom abort would end the test binary); the
//! `kexit` command runs it in a child process instead.

use crate::engine::{self, Budget, EngineKind, RunResult};
use crate::outcome::{verdict, Verdict};
use kexit_model::{Variant, Violation};
use kexit_scenarios::select::expected;
use kexit_scenarios::Scenario;
use std::path::{Path, PathBuf};
use std::time::Duration;

enum Source {
    Name(String),
    File(PathBuf),
    Toml(String),
}

/// A run to make: built with the methods below, started with [`Check::run`].
pub struct Check {
    source: Source,
    engine: EngineKind,
    variant: String,
    budget: Budget,
    iterations: Option<u64>,
    out: Option<PathBuf>,
}

/// What a run found.
pub struct Checked {
    pub scenario: String,
    pub variant: String,
    pub engine: EngineKind,
    /// Pass, caught (the violation the scenario or variant expects), violation (one nobody
    /// expected), missed (an expected one not found) or error.
    pub verdict: Verdict,
    /// Every interleaving was explored (within loom's bound, where it has one).
    pub exhaustive: bool,
    pub executions: u64,
    pub violation: Option<Violation>,
    /// The schedule file of the violation, when `save_schedules_to` was given.
    pub schedule_file: Option<PathBuf>,
    /// Everything the engine reported (counts, the outcome with its trace).
    pub result: RunResult,
}

impl Check {
    fn new(source: Source) -> Self {
        Check {
            source,
            engine: EngineKind::State,
            variant: "seed".into(),
            budget: Budget::default(),
            iterations: None,
            out: None,
        }
    }

    /// A catalogue scenario (`kexit list`).
    pub fn scenario(name: &str) -> Self {
        Check::new(Source::Name(name.into()))
    }

    /// A scenario file of your own.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Check::new(Source::File(path.into()))
    }

    /// A scenario written inline, in the TOML of the catalogue.
    pub fn toml(text: &str) -> Self {
        Check::new(Source::Toml(text.into()))
    }

    /// The engine (default: the state engine, exhaustive without a bound).
    pub fn engine(mut self, engine: EngineKind) -> Self {
        self.engine = engine;
        self
    }

    /// The model variant (default: the seed; see `kexit variants`).
    pub fn variant(mut self, name: &str) -> Self {
        self.variant = name.into();
        self
    }

    /// Executions (default: as `kexit check`: unlimited for the state engine and loom, a
    /// budget for the others).
    pub fn iterations(mut self, n: u64) -> Self {
        self.iterations = Some(n);
        self
    }

    /// The state engine's state budget (default `engine::DEFAULT_MAX_STATES`, 20,000,000).
    pub fn max_states(mut self, n: u64) -> Self {
        self.budget.max_states = n;
        self
    }

    pub fn time_limit(mut self, t: Duration) -> Self {
        self.budget.time_limit = Some(t);
        self
    }

    /// The first seed of the seeded engines.
    pub fn seed(mut self, seed: u64) -> Self {
        self.budget.seed = seed;
        self
    }

    /// Save a violation's schedule file under `dir/failures/` (for `kexit replay`).
    pub fn save_schedules_to(mut self, dir: impl AsRef<Path>) -> Self {
        self.out = Some(dir.as_ref().to_path_buf());
        self
    }

    fn load(&self) -> Result<Scenario, String> {
        match &self.source {
            Source::Name(n) => kexit_scenarios::by_name(n)
                .ok_or_else(|| format!("unknown scenario {n:?} (see `kexit list`)")),
            Source::File(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| format!("cannot read scenario file {}: {e}", p.display()))?;
                kexit_scenarios::parse(&p.display().to_string(), &text).map_err(|e| e.to_string())
            }
            Source::Toml(text) => {
                kexit_scenarios::parse("inline.toml", text).map_err(|e| e.to_string())
            }
        }
    }

    /// Runs it. Errors are bad input (an unknown scenario or variant, a malformed file, a
    /// schedule file that cannot be written); what the run finds is in [`Checked`].
    pub fn run(self) -> Result<Checked, String> {
        let s = self.load()?;
        let variant = Variant::by_name(&self.variant)
            .ok_or_else(|| format!("unknown variant {:?} (see `kexit variants`)", self.variant))?;
        let mut budget = self.budget.clone();
        budget.iterations = self
            .iterations
            .unwrap_or_else(|| self.engine.default_iterations(1));
        if self.engine == EngineKind::Loom {
            budget.preemption_bound = s.spec.loom_bound;
        }
        let r = engine::run(&s.spec, &variant, self.engine, &budget, &|_| {});
        let v = verdict(&r, &expected(&s, &variant));
        let violation = r.found.as_ref().and_then(|f| f.outcome.violation.clone());
        let schedule_file = match (&r.found, &self.out) {
            (Some(f), Some(dir)) => {
                let file = f.schedule_file(&s.spec, &s.origin, variant.name(), self.engine.name());
                Some(
                    file.save(dir)
                        .map_err(|e| format!("cannot write under {}: {e}", dir.display()))?,
                )
            }
            _ => None,
        };
        Ok(Checked {
            scenario: s.spec.name.clone(),
            variant: variant.name().to_string(),
            engine: self.engine,
            verdict: v,
            exhaustive: r.exhaustive,
            executions: r.executions,
            violation,
            schedule_file,
            result: r,
        })
    }
}

impl Checked {
    /// The result is what the scenario expects (a pass, or the violation it expects).
    pub fn ok(&self) -> bool {
        self.verdict.ok()
    }

    /// One paragraph for an assertion message: verdict, counts, the violation and how to
    /// replay it.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} ({}, {}): {}, {} executions, {}",
            self.scenario,
            self.variant,
            self.engine.name(),
            self.verdict.text(),
            self.executions,
            if self.exhaustive {
                "exhaustive"
            } else {
                "not exhaustive"
            }
        );
        if let Some(v) = &self.violation {
            s.push_str(&format!("\n{v}"));
        }
        if let Some(e) = &self.result.error {
            s.push_str(&format!("\nerror: {e}"));
        }
        if let Some(p) = &self.schedule_file {
            s.push_str(&format!("\nreplay: kexit replay {}", p.display()));
        }
        s
    }
}
