//! Command-line interface definitions.

use crate::run::EngineKind;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "kexit",
    version,
    about = "Deterministic model checker for DragonFly BSD's process and LWP exit lifecycle (kern_exit.c, 2014)",
    long_about = "kexit runs an executable model of kern_exit.c on loom (exhaustive), shuttle (PCT, random, \
                  DFS, uniform random walk) and real OS threads. Every violation is saved as a schedule file \
                  that `kexit replay` reproduces step for step.\n\nExit codes: 0 every result matches its \
                  expectation; 1 a violation was found (or an expected one was missed); 2 bad input."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    Loom,
    Pct,
    Random,
    Dfs,
    Urw,
    Os,
    State,
    All,
}

impl EngineArg {
    pub fn kind(self) -> Option<EngineKind> {
        Some(match self {
            EngineArg::Loom => EngineKind::Loom,
            EngineArg::Pct => EngineKind::Pct,
            EngineArg::Random => EngineKind::Random,
            EngineArg::Dfs => EngineKind::Dfs,
            EngineArg::Urw => EngineKind::Urw,
            EngineArg::Os => EngineKind::Os,
            EngineArg::State => EngineKind::State,
            EngineArg::All => return None,
        })
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Explore scenarios and report every violation (default: the whole catalogue).
    #[command(after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Reproduce a saved violation from its schedule file and print the trace.
    #[command(after_help = REPLAY_EXAMPLES)]
    Replay(ReplayArgs),
    /// List the scenarios of the catalogue.
    List {
        #[arg(long)]
        json: bool,
    },
    /// List the model variants (seed, historical bugs, later fixes).
    Variants {
        #[arg(long)]
        json: bool,
    },
    /// Run the catalogue and print which modeled seed lines it reaches, per function.
    Coverage {
        /// PCT executions per scenario.
        #[arg(long, default_value_t = 2000, value_parser = crate::limits_arg::count)]
        iterations: u64,
        #[arg(long)]
        json: bool,
    },
    /// Describe a scenario: actors, scripts, expectations, the seed lines it reaches.
    #[command(after_help = "Example:\n  kexit explain threaded-exit")]
    Explain {
        /// A catalogue scenario's name (`kexit list`).
        name: String,
    },
    /// Every re-created bug against the scenarios that expose it: caught or missed per engine.
    /// Exit code 1 when some bug is caught by no engine.
    #[command(
        after_help = "Examples:\n  kexit mutants\n  kexit mutants --json --iterations 2000 > mutants.json"
    )]
    Mutants {
        #[arg(long)]
        json: bool,
        /// PCT executions per scenario.
        #[arg(long, default_value_t = 10_000, value_parser = crate::limits_arg::count)]
        iterations: u64,
        /// Where schedule files go (DIR/failures/).
        #[arg(long, default_value = ".kexit")]
        out: std::path::PathBuf,
    },
    /// Measure exploration speed, harness overhead, time to the first violation of every
    /// re-created bug, parallel scaling and loom's state-space size; print the tables.
    #[command(
        after_help = "Examples:\n  kexit bench --quick\n  kexit bench --only scaling --json"
    )]
    Bench(crate::bench::BenchArgs),
    /// Internal: one benchmark measurement in a child process.
    #[command(name = "__bench-cell", hide = true)]
    BenchCell { spec: String },
    /// Fuzz: generated scenarios across cores until a time limit; distinct violations are
    /// saved as schedule files (with the scenario beside them) and classified.
    #[command(
        after_help = "Examples:\n  kexit fuzz --time-limit 600 --jobs 2\n  kexit fuzz --engine state --budget 100000 --scenarios 50\n  kexit fuzz --compare --trials 5"
    )]
    Fuzz(crate::fuzz::FuzzArgs),
    /// Internal: one loom exploration in a child process.
    #[command(name = "__loom-worker", hide = true)]
    LoomWorker(crate::isolate::WorkerArgs),
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
    /// Also write the violations as SARIF 2.1.0, located at sys/kern/kern_exit.c:LINE with the
    /// trace as a code flow.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// A schedule file written by `kexit check`, `mutants` or `fuzz` (under .kexit/failures/).
    pub file: PathBuf,
    /// Print the trace as JSON.
    #[arg(long)]
    pub json: bool,
    /// Show each step's line of the seed (path to kern_exit.c).
    #[arg(long)]
    pub source: Option<PathBuf>,
    /// Only show the steps of this pid's actors.
    #[arg(long)]
    pub focus: Option<u32>,
}

const CHECK_EXAMPLES: &str = "Examples:
  kexit check                                      # the whole catalogue, default engines
  kexit check exit-vs-wait --engine state          # every interleaving, no bound
  kexit check orphan-exit --engine state --jobs 2  # two workers share one search
  kexit check exit-vs-wait --engine all            # one scenario on every engine
  kexit check exit-vs-wait --variant bug:wait-unlocked-sleep --engine state --shortest
  kexit check 'path-*' --engine pct --iterations 100000 --jobs 2
  kexit check my-situation.toml --require-exhaustive --json
  kexit check exit-vs-wait --audit                 # the state fingerprint misses nothing?";

const REPLAY_EXAMPLES: &str = "Examples:
  kexit replay .kexit/failures/exit-vs-wait-bug_wait-unlocked-sleep-1a2b3c4d.schedule
  kexit replay FILE --source ../shared/seed/kern_exit.c --focus 2
  kexit replay FILE --json > trace.json";
