//! The engines the model runs on. Each scheduling point of the model is one engine-visible
//! operation (an atomic RMW on a shared counter) so loom's DPOR and shuttle's schedulers see
//! exactly the model's scheduling points and nothing else.

use kexit_model::engine::{ActorId, Engine, Obj};
use kexit_model::world::Spawner;
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;

/// One loom atomic per kernel object the model names, created on first use, so loom's
/// partial-order reduction sees which steps commute.
/// The objects are kept sorted and found by binary search: hashing an `Obj` with the
/// default SipHash on every scheduling point cost 7% of a loom run.
#[derive(Default)]
pub struct LoomEngine {
    objects: Vec<(Obj, loom::sync::atomic::AtomicUsize)>,
    local_state: bool,
    check_steps: bool,
}

impl LoomEngine {
    pub fn new() -> Self {
        Self::default()
    }

    /// Actors keep local-state digests, so final fingerprints compare with the state
    /// engine's (`state::compare`).
    pub fn with_local_state() -> Self {
        LoomEngine {
            local_state: true,
            ..Self::default()
        }
    }

    /// Every step is checked against the objects its scheduling point declared
    /// (`kexit_model::stepcheck`), as in a debug build.
    pub fn checking_steps(self) -> Self {
        LoomEngine {
            check_steps: true,
            ..self
        }
    }
}

impl Engine for LoomEngine {
    type Thread = loom::thread::Thread;
    fn local_state(&self) -> bool {
        self.local_state
    }
    fn check_steps(&self) -> bool {
        self.check_steps || cfg!(debug_assertions)
    }
    fn switch_point(&self, _me: ActorId, objs: &[Obj]) -> bool {
        for o in objs {
            let i = self
                .objects
                .binary_search_by(|(x, _)| x.cmp(o))
                .expect("object prepared");
            self.objects[i].1.fetch_add(1, SeqCst);
        }
        true
    }
    /// The atomics are created by the harness thread before it spawns the actors, so loom
    /// sees their initialization happen before every use.
    fn prepare(&mut self, objs: &[Obj], _actors: usize) {
        let mut sorted = objs.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        self.objects = sorted
            .into_iter()
            .map(|o| (o, loom::sync::atomic::AtomicUsize::new(0)))
            .collect();
    }
    fn current(&self, _me: ActorId) -> Self::Thread {
        loom::thread::current()
    }
    fn park(&self, _me: ActorId) {
        loom::thread::park()
    }
    fn unpark(&self, t: &Self::Thread) {
        t.unpark()
    }
}

pub fn loom_spawn() -> Box<Spawner> {
    Box::new(|f| {
        let h = loom::thread::spawn(f);
        Box::new(move || h.join().expect("model thread panicked"))
    })
}

/// Shuttle's `park` may wake spuriously, which multiplies executions and makes DFS spin;
/// actors block on a channel of their own instead (no spurious wakeups).
pub struct ShuttleEngine {
    point: shuttle::sync::atomic::AtomicUsize,
    wake: Vec<shuttle::sync::mpsc::Sender<()>>,
    // Each receiver is only ever used by its own actor.
    wait: Vec<std::sync::Mutex<shuttle::sync::mpsc::Receiver<()>>>,
}

impl Default for ShuttleEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl ShuttleEngine {
    pub fn new() -> Self {
        ShuttleEngine {
            point: shuttle::sync::atomic::AtomicUsize::new(0),
            wake: Vec::new(),
            wait: Vec::new(),
        }
    }
}

impl Engine for ShuttleEngine {
    type Thread = ActorId;
    fn switch_point(&self, _me: ActorId, _objs: &[Obj]) -> bool {
        self.point.fetch_add(1, SeqCst);
        true
    }
    fn prepare(&mut self, _objs: &[Obj], actors: usize) {
        for _ in 0..actors {
            let (tx, rx) = shuttle::sync::mpsc::channel();
            self.wake.push(tx);
            self.wait.push(std::sync::Mutex::new(rx));
        }
    }
    fn current(&self, me: ActorId) -> Self::Thread {
        me
    }
    fn park(&self, me: ActorId) {
        let _ = self.wait[me].lock().expect("own receiver").recv();
    }
    fn unpark(&self, t: &Self::Thread) {
        let _ = self.wake[*t].send(());
    }
}

pub fn shuttle_spawn() -> Box<Spawner> {
    Box::new(|f| {
        let h = shuttle::thread::spawn(f);
        Box::new(move || h.join().expect("model thread panicked"))
    })
}

/// Real OS threads racing for the kernel lock (stress). Not reproducible by seed, but the
/// order of kernel-lock acquisitions is still logged, so a violation replays exactly.
pub struct OsEngine;

impl Engine for OsEngine {
    type Thread = std::thread::Thread;
    fn switch_point(&self, _me: ActorId, _objs: &[Obj]) -> bool {
        std::hint::spin_loop();
        true
    }
    fn current(&self, _me: ActorId) -> Self::Thread {
        std::thread::current()
    }
    fn park(&self, _me: ActorId) {
        std::thread::park_timeout(std::time::Duration::from_millis(20))
    }
    fn unpark(&self, t: &Self::Thread) {
        t.unpark()
    }
}

pub fn os_spawn() -> Box<Spawner> {
    Box::new(|f| {
        let h = std::thread::spawn(f);
        Box::new(move || h.join().expect("model thread panicked"))
    })
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
