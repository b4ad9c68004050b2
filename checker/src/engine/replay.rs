//! Replays a recorded schedule exactly: the engine behind `kexit replay`.

use kexit_model::engine::{ActorId, Engine, Obj};
use kexit_model::world::{Outcome, Spawner};
use kexit_model::Variant;
use kexit_scenarios::world::execute_keeping_kernel;
use kexit_scenarios::Spec;
use parking_lot::{Condvar, Mutex};
use std::sync::Arc;

/// Re-runs one execution from its recorded schedule.
pub fn replay(spec: &Spec, variant: &Variant, schedule: &[u8]) -> Outcome {
    let mut out = replay_keeping_kernel(spec, variant, schedule);
    out.kernel = None;
    out
}

/// `replay`, keeping the final kernel state in `Outcome::kernel`.
pub fn replay_keeping_kernel(spec: &Spec, variant: &Variant, schedule: &[u8]) -> Outcome {
    let engine = ReplayEngine::new(schedule.to_vec());
    let spawn = engine.spawner();
    execute_keeping_kernel(spec, variant, engine, &*spawn)
}

/// Replays a recorded schedule: every kernel-lock acquisition waits until the schedule says
/// it is this actor's turn, and the turn passes on only when the lock is released.
pub struct ReplayEngine {
    shared: Arc<ReplayShared>,
}

struct ReplayShared {
    state: Mutex<Baton>,
    cv: Condvar,
}

struct Baton {
    schedule: Vec<u8>,
    pos: usize,
    busy: bool,
    stopped: bool,
    actors: usize,
    /// Actors waiting in `turn` for theirs.
    waiting: Vec<bool>,
    /// Actor threads that have ended (counted by `spawner`).
    gone: usize,
}

impl ReplayEngine {
    pub fn new(schedule: Vec<u8>) -> Self {
        ReplayEngine {
            shared: Arc::new(ReplayShared {
                state: Mutex::new(Baton {
                    schedule,
                    pos: 0,
                    busy: false,
                    stopped: false,
                    actors: usize::MAX,
                    waiting: Vec::new(),
                    gone: 0,
                }),
                cv: Condvar::new(),
            }),
        }
    }

    /// OS threads, as `os_spawn`, that also count the actors whose thread has ended, so a
    /// schedule naming an actor that will never take a turn again (a file edited by hand, or
    /// recorded by a model that has changed since) stops the replay instead of leaving every
    /// other actor waiting for ever.
    pub fn spawner(&self) -> Box<Spawner> {
        struct Gone(Arc<ReplayShared>);
        impl Drop for Gone {
            fn drop(&mut self) {
                self.0.state.lock().gone += 1;
                self.0.cv.notify_all();
            }
        }
        let shared = self.shared.clone();
        Box::new(move |f| {
            let gone = Gone(shared.clone());
            let h = std::thread::spawn(move || {
                let _gone = gone;
                f()
            });
            Box::new(move || h.join().expect("model thread panicked"))
        })
    }

    fn turn(&self, me: ActorId) -> bool {
        let sh = &*self.shared;
        let mut b = sh.state.lock();
        loop {
            if b.stopped {
                return false;
            }
            if !b.busy {
                if b.pos >= b.schedule.len() {
                    b.stopped = true;
                    sh.cv.notify_all();
                    return false;
                }
                let next = b.schedule[b.pos] as usize;
                if next == me {
                    b.busy = true;
                    return true;
                }
                // Everyone else is waiting here or has ended, and the actor whose turn it is
                // is neither: nobody can take the turn.
                let waiting = b.waiting.iter().filter(|w| **w).count() + 1;
                if waiting + b.gone >= b.actors && !b.waiting.get(next).copied().unwrap_or(false) {
                    b.stopped = true;
                    sh.cv.notify_all();
                    return false;
                }
            }
            if b.waiting.len() <= me {
                b.waiting.resize(me + 1, false);
            }
            b.waiting[me] = true;
            sh.cv.wait(&mut b);
            b.waiting[me] = false;
        }
    }
}

impl Engine for ReplayEngine {
    type Thread = ();
    fn switch_point(&self, me: ActorId, _objs: &[Obj]) -> bool {
        self.turn(me)
    }
    fn silent(&self, me: ActorId) -> bool {
        self.turn(me)
    }
    fn released(&self, _me: ActorId) {
        let mut b = self.shared.state.lock();
        if b.busy {
            b.busy = false;
            b.pos += 1;
        }
        self.shared.cv.notify_all();
    }
    fn current(&self, _me: ActorId) -> Self::Thread {}
    fn park(&self, _me: ActorId) {}
    fn unpark(&self, _t: &Self::Thread) {}
    fn prepare(&mut self, _objs: &[Obj], actors: usize) {
        let mut b = self.shared.state.lock();
        b.actors = actors;
        b.waiting = vec![false; actors];
    }
    fn abort(&self) {
        self.shared.state.lock().stopped = true;
        self.shared.cv.notify_all();
    }
}
