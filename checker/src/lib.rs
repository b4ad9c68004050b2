//! kexit's engines, runner, schedule files, reports and CLI.

pub mod bench;
pub mod check;
pub mod cli;
pub mod coverage;
pub mod engines;
pub mod info;
pub mod isolate;
pub mod mutants;
pub mod pct;
pub mod replay;
pub mod report;
pub mod run;
pub mod schedule;
