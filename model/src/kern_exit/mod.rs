//! The functions of kern_exit.c, one Rust function per C function, in the seed's order:
//! `exit.rs` (lines 111-703), `wait.rs` (718-1134), `misc.rs` (1150-1268).

pub mod exit;
pub mod misc;
pub mod wait;
