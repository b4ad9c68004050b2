//! kexit's engines, runner, schedule files, reports and CLI.

pub mod api;
pub mod bench;
pub mod bytes;
pub mod check;
pub mod ci_report;
pub mod classify;
pub mod cli;
pub mod compare;
pub mod coverage;
pub mod ended;
pub mod engines;
pub mod fuzz;
pub mod info;
pub mod interrupt;
pub mod isolate;
pub mod limits_arg;
pub mod mutants;
pub mod pct;
pub mod replay;
pub mod report;
pub mod run;
pub mod schedule;
pub mod state;
pub mod table;
