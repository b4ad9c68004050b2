//! The state engine's execution layer: the model runs on shuttle threads, and a scheduler of
//! our own hands every scheduling decision to a [`Chooser`] together with the fingerprint of
//! the state the decision is taken in.
//!
//! A decision point is a moment where every actor is suspended at a model scheduling point,
//! parked in a blocking primitive, not yet started, or finished: the current actor has just
//! reached a switch point, blocked, or ended. Shuttle asks the scheduler at many more places
//! (channel sends, thread spawns); there the running task simply goes on, because the model
//! only touches kernel state between two of its own scheduling points.

pub use super::por::foot::Footprint;
use super::por::Mode;
use kexit_model::engine::{Access, ActorId, Engine, Obj};
use kexit_model::kernel::{Kernel, Run};
use kexit_model::ViolationKind;
use parking_lot::Mutex;
use shuttle::scheduler::{Schedule, Scheduler, Task, TaskId};
use std::hash::Hasher;
use std::sync::Arc;
use xxhash_rust::xxh3::Xxh3Default;

/// What the search answers at a decision point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    Run(ActorId),
    /// Stop this execution here (the state's subtree is explored or being explored).
    Cut,
}

/// Everything the search learns at a decision point.
pub struct Decision<'a> {
    /// The state's fingerprint (None when the chooser did not want it).
    pub fp: Option<u128>,
    /// The actors that can take the next step (sorted, never empty).
    pub enabled: &'a [ActorId],
    /// The footprint of each enabled actor's next step (same order), when the chooser wants
    /// them (`Chooser::wants_footprints`); else empty.
    pub next: &'a [Footprint],
    /// A data race has been reported in this execution. The race check's clocks record the
    /// path, not the state, so whether a step raises one can depend on how the state was
    /// reached (docs/model.md, deviation 10): the audit does not hold such a step to the
    /// fingerprint.
    pub race: bool,
}

/// The search strategy behind the scheduler (DFS with a visited set, the audit's random
/// walk, breadth-first replays).
pub trait Chooser {
    /// Called before each execution; false ends the run.
    fn begin(&mut self) -> bool;
    /// Whether the next decision needs the state's fingerprint (it costs a hash of the state).
    fn wants_fingerprint(&self) -> bool {
        true
    }
    /// Whether the next decision needs the enabled actors' footprints (`Decision::next`; when
    /// not, it is empty). A replayed decision does not: it costs a copy per actor.
    fn wants_footprints(&self) -> bool {
        true
    }
    fn choose(&mut self, d: &Decision<'_>) -> Choice;
    /// A decision the chooser takes without looking at the state (replaying the current
    /// path): the actor to run, given the actors whose tasks can run (`ready`), or a cut when
    /// the one it replays is not among them. None: the decision goes to `choose`.
    fn replay_next(&mut self, _ready: &[ActorId]) -> Option<Choice> {
        None
    }
}

/// Where each actor's thread is, as far as the fingerprint must know.
#[derive(Default)]
pub struct Link {
    kernel: Option<Arc<Mutex<Kernel>>>,
    /// Suspended at a model scheduling point, waiting to be chosen.
    at_point: Vec<bool>,
    /// Parked in a blocking primitive.
    parked: Vec<bool>,
    /// An unpark not yet consumed by a park. Unparks coalesce, as `std::thread::unpark`'s
    /// token does: a parked actor re-checks everything when it wakes, however many there were.
    woken: Vec<bool>,
    started: Vec<bool>,
    /// The objects of the step each actor waits to take at its scheduling point, and of the
    /// last one it took (a parked actor resumes inside that step).
    next: Vec<Footprint>,
    last: Vec<Footprint>,
    /// The search cut this execution: every actor refuses to go on, so the execution ends
    /// through the model's own abort path.
    cut: bool,
}

pub type SharedLink = Arc<Mutex<Link>>;

/// The model-side engine: marks where each actor is and yields to shuttle at every point.
pub struct StateEngine {
    link: SharedLink,
    wake: Vec<shuttle::sync::mpsc::Sender<()>>,
    wait: Vec<std::sync::Mutex<shuttle::sync::mpsc::Receiver<()>>>,
    /// Check every step against its declared objects (`kexit_model::stepcheck`).
    check_steps: bool,
}

impl StateEngine {
    pub fn new(link: SharedLink) -> Self {
        StateEngine {
            link,
            wake: Vec::new(),
            wait: Vec::new(),
            check_steps: cfg!(debug_assertions),
        }
    }

    /// The engine of an audit: every step is checked against what its point declared.
    pub fn checking_steps(mut self) -> Self {
        self.check_steps = true;
        self
    }

    /// Waits at a scheduling point until the search chooses this actor.
    fn point(&self, me: ActorId, objs: &[Obj], mode: Mode) -> bool {
        self.point_declaring(me, |foot| foot.extend(objs.iter().map(|o| (*o, mode))))
    }

    /// `point` with the footprint `declare` writes (into a buffer kept from an earlier step).
    fn point_declaring(&self, me: ActorId, declare: impl FnOnce(&mut Vec<(Obj, Mode)>)) -> bool {
        {
            let mut l = self.link.lock();
            l.at_point[me] = true;
            let foot = l.next[me].get_or_insert_with(Vec::new);
            foot.clear();
            declare(foot);
        }
        self.wait_for_turn(me)
    }

    /// `point` for a step that may touch anything.
    fn point_anything(&self, me: ActorId) -> bool {
        {
            let mut l = self.link.lock();
            l.at_point[me] = true;
            l.next[me] = None;
        }
        self.wait_for_turn(me)
    }

    fn wait_for_turn(&self, me: ActorId) -> bool {
        shuttle::thread::yield_now();
        let mut l = self.link.lock();
        l.at_point[me] = false;
        !l.cut
    }
}

impl Engine for StateEngine {
    type Thread = ActorId;
    fn switch_point(&self, me: ActorId, objs: &[Obj]) -> bool {
        self.point(me, objs, Mode::Write)
    }
    fn access_point(&self, me: ActorId, objs: &[Obj], access: Access) -> bool {
        self.point(me, objs, Mode::from(access))
    }
    fn point_reading(&self, me: ActorId, objs: &[Obj], reads: &[Obj]) -> bool {
        self.point_declaring(me, |foot| {
            foot.extend(objs.iter().map(|o| {
                let mode = if reads.contains(o) {
                    Mode::Read
                } else {
                    Mode::Write
                };
                (*o, mode)
            }))
        })
    }
    fn ordered_point(&self, me: ActorId, _objs: &[Obj]) -> bool {
        self.point_anything(me)
    }
    fn silent(&self, _me: ActorId) -> bool {
        !self.link.lock().cut
    }
    fn prepare(&mut self, _objs: &[Obj], actors: usize) {
        for _ in 0..actors {
            let (tx, rx) = shuttle::sync::mpsc::channel();
            self.wake.push(tx);
            self.wait.push(std::sync::Mutex::new(rx));
        }
        let mut l = self.link.lock();
        *l = Link {
            kernel: None,
            at_point: vec![false; actors],
            parked: vec![false; actors],
            woken: vec![false; actors],
            started: vec![false; actors],
            next: vec![None; actors],
            last: vec![None; actors],
            cut: false,
        };
    }
    fn attach(&self, kernel: &Arc<Mutex<Kernel>>) {
        self.link.lock().kernel = Some(kernel.clone());
    }
    fn local_state(&self) -> bool {
        true
    }
    fn check_steps(&self) -> bool {
        self.check_steps
    }
    fn current(&self, me: ActorId) -> Self::Thread {
        assert_eq!(
            actor_of(shuttle::current::me()),
            Some(me),
            "actors are the shuttle tasks after the harness, in order"
        );
        self.link.lock().started[me] = true;
        me
    }
    /// Parks until the actor can go on. A wakeup that finds it still unable to (a token
    /// released that it does not wait for, a sleeper's re-check) is consumed here, so that it
    /// is neither a step nor a state: the model would only re-check and park again.
    fn park(&self, me: ActorId) {
        loop {
            self.link.lock().parked[me] = true;
            let _ = self.wait[me].lock().expect("own receiver").recv();
            let mut l = self.link.lock();
            l.parked[me] = false;
            l.woken[me] = false;
            let kernel = l.kernel.clone().expect("attached");
            drop(l);
            if kernel.lock().goes_on_when_woken(me) {
                return;
            }
        }
    }
    fn unpark(&self, t: &Self::Thread) {
        let mut l = self.link.lock();
        if std::mem::replace(&mut l.woken[*t], true) {
            return;
        }
        drop(l);
        let _ = self.wake[*t].send(());
    }
}

/// Task 0 is the harness thread; actor `a` is task `a + 1`.
fn actor_of(t: TaskId) -> Option<ActorId> {
    usize::from(t).checked_sub(1)
}

/// The shuttle scheduler that finds decision points and asks the chooser.
pub struct StateScheduler<C> {
    pub chooser: C,
    link: SharedLink,
}

impl<C: Chooser> StateScheduler<C> {
    pub fn new(chooser: C, link: SharedLink) -> Self {
        StateScheduler { chooser, link }
    }
}

impl Link {
    pub fn is_cut(&self) -> bool {
        self.cut
    }

    /// Carries out a choice: the chosen actor runs its step (later shuttle points inside it
    /// are no decisions), whose footprint is `foot` when the decision computed it; a cut lets
    /// `staying` run on into the model's abort path.
    fn go(&mut self, choice: Choice, foot: Option<Footprint>, staying: TaskId) -> TaskId {
        match choice {
            Choice::Run(a) => {
                match foot {
                    Some(f) => self.last[a] = f,
                    // The step declared at the point: its buffer goes to `last`, and the
                    // old `last` buffer is reused by the next point.
                    None if self.at_point[a] => {
                        let Link { last, next, .. } = self;
                        std::mem::swap(&mut last[a], &mut next[a]);
                    }
                    None => {
                        let k = self.kernel.clone().expect("attached");
                        let f = self.footprint(&k.lock(), a);
                        self.last[a] = f;
                    }
                }
                self.at_point[a] = false;
                TaskId::from(a + 1)
            }
            Choice::Cut => {
                self.cut = true;
                staying
            }
        }
    }

    /// The fingerprint of the state at a decision point (the kernel's, and where each actor's
    /// thread is) and the footprint of each enabled actor's next step. An actor at its
    /// scheduling point takes the step it declared; a parked one resumes inside the step it
    /// blocked in, except after a timed sleep, whose timeout depends on every actor's progress.
    ///
    /// A parked actor whose wakeup came for nothing is not enabled: running it would only
    /// consume the wakeup (`StateEngine::park`), and whether it had one is not part of the
    /// state either.
    /// The last value says whether a data race has been reported (`Decision::race`).
    fn decision_state(
        &self,
        runnable: &[ActorId],
        with_fp: bool,
        with_footprints: bool,
    ) -> (Option<u128>, Vec<ActorId>, Vec<Footprint>, bool) {
        let k = self.kernel.as_ref().expect("attached").lock();
        let stale = |a: ActorId| self.parked[a] && !k.goes_on_when_woken(a);
        let mut enabled: Vec<ActorId> = runnable.iter().copied().filter(|a| !stale(*a)).collect();
        if enabled.is_empty() {
            enabled = runnable.to_vec();
        }
        let next = if with_footprints {
            enabled.iter().map(|&a| self.footprint(&k, a)).collect()
        } else {
            Vec::new()
        };
        let fp = with_fp.then(|| self.fingerprint(&k, |a| self.woken[a] && !stale(a)));
        let race = k
            .rec
            .violation
            .as_ref()
            .is_some_and(|v| v.kind == ViolationKind::DataRace);
        (fp, enabled, next, race)
    }

    /// The footprint of enabled actor `a`'s next step.
    fn footprint(&self, k: &Kernel, a: ActorId) -> Footprint {
        if self.at_point[a] {
            self.next[a].clone()
        } else if !self.started[a] {
            // Up to its first scheduling point an actor touches only its own state (the
            // assumption loom's reduction makes as well).
            Some(Vec::new())
        } else if matches!(k.actors[a].run, Run::Timed { .. }) {
            None
        } else {
            self.last[a].clone()
        }
    }

    /// `woken(a)`: a parked actor's wakeup that will let it go on (any other is consumed
    /// without a trace when it next parks, so it is no state).
    fn fingerprint(&self, k: &Kernel, woken: impl Fn(ActorId) -> bool) -> u128 {
        let mut h = Xxh3Default::new();
        h.write_u128(k.fingerprint());
        for a in 0..self.at_point.len() {
            let parked_woken = self.parked[a] && woken(a);
            h.write_u8(
                self.at_point[a] as u8
                    | (self.parked[a] as u8) << 1
                    | (self.started[a] as u8) << 2
                    | (parked_woken as u8) << 3,
            );
        }
        h.digest128()
    }
}

impl<C: Chooser> Scheduler for StateScheduler<C> {
    fn new_execution(&mut self) -> Option<Schedule> {
        self.chooser.begin().then(|| Schedule::new(0))
    }

    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        _is_yielding: bool,
    ) -> Option<TaskId> {
        let cur_runnable = current.filter(|c| runnable.iter().any(|t| t.id() == *c));
        let mut l = self.link.lock();
        let cur_actor = current.and_then(actor_of);
        // No decision: the harness thread setting up or joining, an actor between two of its
        // points, or an execution that is being cut.
        let deciding = l.kernel.is_some()
            && !l.cut
            && match (cur_runnable, cur_actor) {
                (None, _) => true,
                (Some(_), Some(a)) => l.at_point[a],
                (Some(_), None) => false,
            };
        if !deciding {
            return Some(cur_runnable.unwrap_or_else(|| runnable[0].id()));
        }
        let ready: Vec<ActorId> = runnable.iter().filter_map(|t| actor_of(t.id())).collect();
        if ready.is_empty() {
            return Some(runnable[0].id());
        }
        if let Some(choice) = self.chooser.replay_next(&ready) {
            return Some(l.go(
                choice,
                None,
                cur_runnable.unwrap_or_else(|| runnable[0].id()),
            ));
        }
        let (fp, enabled, mut next, race) = l.decision_state(
            &ready,
            self.chooser.wants_fingerprint(),
            self.chooser.wants_footprints(),
        );
        let d = Decision {
            fp,
            enabled: &enabled,
            next: &next,
            race,
        };
        let choice = self.chooser.choose(&d);
        let foot = match choice {
            Choice::Run(a) => {
                let i = enabled
                    .iter()
                    .position(|x| *x == a)
                    .expect("chosen is enabled");
                next.get_mut(i).map(std::mem::take)
            }
            Choice::Cut => None,
        };
        Some(l.go(
            choice,
            foot,
            cur_runnable.unwrap_or_else(|| runnable[0].id()),
        ))
    }

    fn next_u64(&mut self) -> u64 {
        0
    }
}

/// A chooser the caller keeps a handle to (the shuttle runner takes its scheduler away).
impl<C: Chooser> Chooser for Arc<Mutex<C>> {
    fn begin(&mut self) -> bool {
        self.lock().begin()
    }
    fn wants_fingerprint(&self) -> bool {
        self.lock().wants_fingerprint()
    }
    fn wants_footprints(&self) -> bool {
        self.lock().wants_footprints()
    }
    fn choose(&mut self, d: &Decision<'_>) -> Choice {
        self.lock().choose(d)
    }
    fn replay_next(&mut self, ready: &[ActorId]) -> Option<Choice> {
        self.lock().replay_next(ready)
    }
}
