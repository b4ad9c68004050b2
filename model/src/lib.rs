//! kexit's model of DragonFly BSD's `sys/kern/kern_exit.c` (2014-10-16): kernel primitives
//! with the kernel's semantics and one Rust function per C function, generic over the
//! execution engine (loom, shuttle, OS threads, schedule replay).

pub mod blocked;
pub mod cx;
pub mod engine;
pub mod fingerprint;
pub mod flags;
pub mod hold;
pub mod jobc;
pub mod kern_exit;
pub mod kernel;
pub mod local;
pub mod lwkt;
pub mod pgrp;
pub mod prims;
pub mod race;
mod recorder;
pub mod runnable;
pub mod signals;
pub mod site;
pub mod stepcheck;
pub mod stops;
pub mod stubs;
pub mod switch;
pub mod trace;
mod userret;
pub mod variant;
pub mod world;

pub use engine::{ActorId, Engine};
pub use trace::{Violation, ViolationKind};
pub use variant::Variant;
pub use world::Outcome;
