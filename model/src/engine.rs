//! The execution engine the model runs on. The model never names loom, shuttle or OS threads:
//! it only asks the engine for a scheduling point, to park and unpark actors, and to yield in
//! polling loops. All kernel state lives behind one lock that is only taken between two
//! scheduling points, so the order in which actors take it decides an execution completely.

pub use crate::trace::Obj;

pub type ActorId = usize;

/// How a step accesses the objects of its scheduling point, where that is less than a write:
/// an engine that reduces by commutativity (the state engine) may let two such steps commute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Access {
    /// Reads only (a plain load).
    Read,
    /// An atomic add whose result the code discards: two of them commute.
    Add,
    /// An atomic set of bits whose result the code discards: two of them commute.
    Set,
    /// An atomic clear of bits whose result the code discards: two of them commute.
    Clear,
}

pub trait Engine: Send + Sync + 'static {
    /// Handle used to unpark an actor's engine thread.
    type Thread: Clone + Send + Sync + 'static;

    /// A point where the engine may switch to another actor, before a step that touches
    /// `objs`. Returns false when the engine wants the execution to stop (a replayed schedule
    /// that has run out).
    fn switch_point(&self, me: ActorId, objs: &[Obj]) -> bool;
    /// `switch_point` for a step that accesses `objs` only as `access` says. Engines that do
    /// not reduce by commutativity treat it as any other point.
    fn access_point(&self, me: ActorId, objs: &[Obj], _access: Access) -> bool {
        self.switch_point(me, objs)
    }
    /// A point before a step on `objs` that only reads those of them in `reads`. Engines that
    /// do not reduce by commutativity see an ordinary point on `objs`.
    fn point_reading(&self, me: ActorId, objs: &[Obj], _reads: &[Obj]) -> bool {
        self.switch_point(me, objs)
    }
    /// A point before a step whose effect depends on how far every other actor has got (a
    /// timed sleep begins: when it may time out depends on who steps before and after it).
    /// Engines that reduce by commutativity must order it with every step; the others see
    /// an ordinary point on `objs`.
    fn ordered_point(&self, me: ActorId, objs: &[Obj]) -> bool {
        self.switch_point(me, objs)
    }
    /// The kernel lock is about to be taken without a scheduling point (plain accesses under
    /// a held token). Only an engine that imposes an order on every acquisition waits here.
    fn silent(&self, _me: ActorId) -> bool {
        true
    }
    /// The kernel lock was released by `me`.
    fn released(&self, _me: ActorId) {}
    /// The calling engine thread (actor `me`).
    fn current(&self, me: ActorId) -> Self::Thread;
    /// Block the calling actor until unparked (spurious returns are allowed).
    fn park(&self, me: ActorId);
    fn unpark(&self, t: &Self::Thread);
    /// Called before the actors start with every object a scheduling point may name and
    /// the number of actors.
    fn prepare(&mut self, _objs: &[Obj], _actors: usize) {}
    /// Called once before the actors start with the kernel they run on, for an engine that
    /// looks at the kernel state between steps (the state engine's fingerprints). The lock is
    /// free whenever the engine is asked to schedule: it is only held within a step.
    fn attach(&self, _kernel: &std::sync::Arc<parking_lot::Mutex<crate::kernel::Kernel>>) {}
    /// Whether actors keep the digest of their local state (`fingerprint.rs`, `local.rs`):
    /// only for an engine that reads fingerprints, since it costs a hash on every step.
    fn local_state(&self) -> bool {
        false
    }
    /// Whether every step is checked against the objects its scheduling point declared
    /// (`stepcheck.rs`): in debug builds, and when an engine audits the model.
    fn check_steps(&self) -> bool {
        cfg!(debug_assertions)
    }
    /// Called once when the model stops an execution early (violation), so an engine that
    /// holds actors back can release them.
    fn abort(&self) {}
}
