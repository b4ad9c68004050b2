//! Dynamic partial-order reduction for the state search (Flanagan and Godefroid, POPL 2005),
//! made stateful by summaries (after Yang, Chen, Gopalakrishnan and Kirby, SPIN 2008).
//!
//! - **Dependence.** Two steps of different actors are dependent when their footprints (the
//!   objects their scheduling points declare, the lists loom's reduction relies on as well)
//!   share an object in conflicting modes, or when either may touch anything. Two loads of a
//!   word do not conflict, nor do two atomic adds (or two sets, or two clears) whose results
//!   the code discards (`foot.rs`).
//! - **Happens-before** is tracked with vector clocks over the current path: a step is ordered
//!   after the earlier steps of its actor and every earlier step it conflicts with, nothing
//!   else (`clocks.rs`). An unpark is no ordering of its own: the kernel unparks actors that
//!   do not wait for the step at all (every actor, when one finishes), and an ordering that
//!   is not a conflict hides races. The step that really wakes a sleeper conflicts with the
//!   sleeper's resumption anyway: both name the wait channel.
//! - **Races.** At every new state, for each enabled actor's next step, the latest dependent
//!   step on the path that does not happen before that actor is a race: the actor is added to
//!   that decision's backtrack set. Where it was not enabled, an actor that was and has a
//!   later step that happens before it is added instead, and failing that every actor enabled
//!   there (Flanagan and Godefroid's rule).
//! - **State caching.** A search that cuts at a visited state does not see the steps below
//!   it. Each finished state keeps a summary: every step that may follow any state of its
//!   explored subtree (enabled there, taken or not), with what is known to happen before it
//!   inside the subtree (`summary.rs`). Cutting runs the race check for each of them; a path
//!   step happens before one if it is ordered with the step's actor on the path or conflicts
//!   with a step of its causal past in the subtree. Pasts are kept as the intersection over
//!   every occurrence, so they only ever claim fewer orderings than hold (more backtracking,
//!   never less). A state whose summary cannot be complete (reached again while still on the
//!   path: a cycle) makes every decision on the path explore every enabled actor.

pub mod clocks;
pub mod foot;
pub mod path;
pub mod sleep;
pub mod summary;

pub use clocks::Clocks;
pub use foot::{Foot, Mode, Sig, Sigs};
pub use path::PathIndex;
pub use summary::{Entry, Pasts, Summary};

pub use kexit_model::fingerprint::Fx;

pub type FxMap<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<Fx>>;
