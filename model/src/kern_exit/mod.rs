//! The functions of kern_exit.c, one Rust function per C function, in the seed's order:
//! `exit.rs` (lines 111-583), `lwp_exit.rs` (584-703), `lwp_wait.rs` (718-806), `wait.rs` (810-1134, the zombie's reaping in `wait_zombie.rs`), `misc.rs` (1150-1268).

pub mod exit;
pub mod lwp_exit;
pub mod lwp_wait;
pub mod misc;
pub mod wait;
mod wait_zombie;
