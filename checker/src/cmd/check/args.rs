//! The arguments of `kexit check`.

use crate::engine::EngineKind;
use clap::builder::PossibleValue;
use clap::ValueEnum;
use std::path::PathBuf;

/// `--engine`: one engine, or every engine that fits the scenario (`all`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineArg {
    One(EngineKind),
    All,
}

impl EngineArg {
    pub fn kind(self) -> Option<EngineKind> {
        match self {
            EngineArg::One(e) => Some(e),
            EngineArg::All => None,
        }
    }
}

impl ValueEnum for EngineArg {
    fn value_variants<'a>() -> &'a [Self] {
        use EngineKind::*;
        &[
            EngineArg::One(Loom),
            EngineArg::One(Pct),
            EngineArg::One(Random),
            EngineArg::One(Dfs),
            EngineArg::One(Urw),
            EngineArg::One(Os),
            EngineArg::One(State),
            EngineArg::All,
        ]
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(match self {
            EngineArg::One(e) => e.name(),
            EngineArg::All => "all",
        }))
    }
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Scenario names, globs over names (`exit-*`), paths to .toml files, directories (every
    /// .toml in them) or patterns over file names (`mine/*.toml`). Default: the catalogue.
    pub scenarios: Vec<String>,
    /// Engine: state (exhaustive, no bound), loom (exhaustive up to a preemption bound), pct,
    /// random, dfs, urw (shuttle), os (threads), all.
    /// Default: the state engine within 1,000,000 states (--max-states); where it does not
    /// finish, loom where the scenario fits in loom's 5 threads, pct otherwise.
    #[arg(long, value_enum)]
    pub engine: Option<EngineArg>,
    /// Model variant (see `kexit variants`).
    #[arg(long, default_value = "seed")]
    pub variant: String,
    /// Executions per scenario and engine (default: loom unlimited, shuttle 10000, os 1000).
    #[arg(long, value_parser = crate::limits_arg::count)]
    pub iterations: Option<u64>,
    /// First seed of the seeded engines; execution k runs with seed S+k.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Loom preemption bound, 0 to 64 (default: the scenario's own, else unbounded).
    #[arg(long, value_parser = crate::limits_arg::preemption_bound)]
    pub preemption_bound: Option<usize>,
    /// Seconds per scenario and engine (above 0, at most 30 days).
    #[arg(long, value_parser = crate::limits_arg::seconds)]
    pub time_limit: Option<f64>,
    /// Parallel workers for the seeded engines and os, 1 to 256 (default: number of cores).
    /// The state engine runs that many scenarios at once; on one scenario, that many workers
    /// share its search (default 1: their counts vary from run to run, the verdict does not).
    #[arg(long, value_parser = crate::limits_arg::jobs)]
    pub jobs: Option<usize>,
    /// Run the I-th of N disjoint slices (I/N) of the scenarios and seed ranges.
    #[arg(long)]
    pub shard: Option<String>,
    /// Where schedule files go (DIR/failures/).
    #[arg(long, default_value = ".kexit")]
    pub out: PathBuf,
    /// Machine-readable results on stdout.
    #[arg(long)]
    pub json: bool,
    /// Machine-readable results on stdout, one JSON object per line as each result ends, then
    /// one line with the exit code.
    #[arg(long, conflicts_with = "json")]
    pub json_lines: bool,
    /// Larger budgets: unbounded loom, 10x iterations.
    #[arg(long)]
    pub deep: bool,
    /// Run loom in this process instead of a child process (a loom abort then ends kexit).
    #[arg(long)]
    pub in_process: bool,
    /// State engine: stop (not exhaustive) after this many distinct states.
    #[arg(long, value_parser = crate::limits_arg::count)]
    pub max_states: Option<u64>,
    /// State engine: instead of searching, check the fingerprint. Random executions without
    /// pruning must always lead from the same (state, chosen actor) to the same next state.
    #[arg(long)]
    pub audit: bool,
    /// State engine: breadth-first, so a violation's schedule is a shortest one.
    #[arg(long)]
    pub shortest: bool,
    /// Fail (exit 1) when a result without a violation was not exhaustive (its budget or
    /// time limit ran out first).
    #[arg(long)]
    pub require_exhaustive: bool,
    /// Fail (exit 1) when a result without a violation that is not exhaustive ran fewer than
    /// N executions (a time limit that left too little work done).
    #[arg(long, value_name = "N", value_parser = crate::limits_arg::count)]
    pub min_executions: Option<u64>,
    /// Also write the results as JUnit XML (one test case per scenario, variant and engine).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write an HTML report to DIR/report.html, one row per result, each violation
    /// linked to its swimlane page (DIR/*.html).
    #[arg(long, value_name = "DIR")]
    pub html: Option<PathBuf>,
    /// Also write the violations as SARIF 2.1.0, located at sys/kern/kern_exit.c:LINE with the
    /// trace as a code flow.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
}
