//! kexit's engines, runner, schedule files, reports and CLI.
//!
//! Layers, each using only those before it: `interrupt`, `limits_arg`, `report`, `schedule`
//! (leaves); `engine` (every engine behind one `run`); `outcome`, `ended`, `classify` (what a
//! run's result means); `cmd` (one module per command, none using another) and `api`; `cli`
//! (the command line that names the commands).

pub mod api;
pub mod classify;
pub mod cli;
pub mod cmd;
pub mod ended;
pub mod engine;
pub mod interrupt;
pub mod limits_arg;
pub mod outcome;
pub mod report;
pub mod schedule;
pub mod swimlane;
