//! Command-line interface definitions.

use crate::cmd::check::CheckArgs;
use crate::cmd::replay::ReplayArgs;
use clap::{Parser, Subcommand};

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
        /// Also write an HTML report to DIR/report.html with each caught bug's swimlane page.
        #[arg(long, value_name = "DIR")]
        html: Option<std::path::PathBuf>,
    },
    /// Measure exploration speed, harness overhead, time to the first violation of every
    /// re-created bug, parallel scaling and loom's state-space size; print the tables.
    #[command(
        after_help = "Examples:\n  kexit bench --quick\n  kexit bench --only scaling --json"
    )]
    Bench(crate::cmd::bench::BenchArgs),
    /// Internal: one benchmark measurement in a child process.
    #[command(name = "__bench-cell", hide = true)]
    BenchCell { spec: String },
    /// Fuzz: generated scenarios across cores until a time limit; distinct violations are
    /// saved as schedule files (with the scenario beside them) and classified.
    #[command(
        after_help = "Examples:\n  kexit fuzz --time-limit 600 --jobs 2\n  kexit fuzz --engine state --budget 100000 --scenarios 50\n  kexit fuzz --compare --trials 5"
    )]
    Fuzz(crate::cmd::fuzz::FuzzArgs),
    /// Internal: one loom exploration in a child process.
    #[command(name = "__loom-worker", hide = true)]
    LoomWorker { request: String },
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
  kexit replay FILE --html trace.html       # a swimlane page, open it in a browser
  kexit replay FILE --lanes --width 160     # the same lanes in the terminal
  kexit replay .kexit/failures/exit-vs-wait-bug_wait-unlocked-sleep-1a2b3c4d.schedule
  kexit replay FILE --source ../shared/seed/kern_exit.c --focus 2
  kexit replay FILE --json > trace.json";
