//! One module per `kexit` command; none uses another.

pub mod bench;
pub mod check;
pub mod fuzz;
pub mod info;
pub mod mutants;
pub mod replay;
