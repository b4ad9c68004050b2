//! The loom engine's exploration: bounds 1..=K in turn (or one bound, or none), each a loom
//! model check that stops at the first violation or when the harness says so; and the model's
//! seam on loom (one loom atomic per kernel object).

use super::ctl::Ctl;
use super::*;
use kexit_model::engine::{ActorId, Engine, Obj};
use kexit_model::world::Spawner;
use kexit_scenarios::world::execute;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering::SeqCst;

pub(super) fn run_loom(
    spec: &Arc<Spec>,
    variant: &Arc<Variant>,
    ctl: &Arc<Ctl>,
    exhaustive: &mut bool,
) -> Option<String> {
    install_quiet_panic_hook();
    IN_LOOM.with(|f| f.set(true));
    let r = run_loom_bounds(spec, variant, ctl, exhaustive);
    IN_LOOM.with(|f| f.set(false));
    r
}

fn run_loom_bounds(
    spec: &Arc<Spec>,
    variant: &Arc<Variant>,
    ctl: &Arc<Ctl>,
    exhaustive: &mut bool,
) -> Option<String> {
    if spec.actor_count() > LOOM_MAX_ACTORS {
        return Some(format!(
            "scenario needs {} model threads plus the harness; loom allows {} in all",
            spec.actor_count(),
            LOOM_MAX_ACTORS + 1
        ));
    }
    // With a bound K, bounds 1..=K run in turn: shallow bugs show up far sooner.
    let bounds: Vec<Option<usize>> = match ctl.budget.preemption_bound {
        Some(k) if ctl.budget.single_bound => vec![Some(k)],
        Some(k) => (1..=k.max(1)).map(Some).collect(),
        None => vec![None],
    };
    for bound in bounds {
        let b = loom_builder(bound);
        let (s, v, c) = (spec.clone(), variant.clone(), ctl.clone());
        let r = catch_unwind(AssertUnwindSafe(|| {
            b.check(move || {
                if c.claim().is_none() {
                    std::panic::panic_any(StopExploration);
                }
                let out = execute(&s, &v, LoomEngine::new(), &*loom_spawn());
                let stop = out.violation.is_some();
                c.done(out, None);
                if stop {
                    std::panic::panic_any(StopExploration);
                }
            })
        }));
        match r {
            Ok(()) => *exhaustive = true,
            Err(p) if p.is::<StopExploration>() => return None,
            Err(p) => return Some(format!("model panicked under loom: {}", panic_text(&p))),
        }
    }
    None
}

/// A loom model builder for kexit at preemption bound `bound`. `Builder::new()` reads LOOM_*
/// from the environment: every field is set explicitly.
pub fn loom_builder(bound: Option<usize>) -> ::loom::model::Builder {
    let mut b = ::loom::model::Builder::new();
    b.max_threads = LOOM_MAX_ACTORS + 1;
    b.max_branches = 1_000_000;
    b.max_permutations = None;
    b.max_duration = None;
    b.preemption_bound = bound;
    b.checkpoint_file = None;
    b.location = false;
    b.log = false;
    b
}

/// Payload of the panic that ends a loom exploration early.
struct StopExploration;

thread_local! {
    /// Set while this thread explores with loom, which unwinds its threads with panics.
    static IN_LOOM: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether a panic with this payload is loom's own unwinding or the stop of an exploration,
/// which the panic hook keeps quiet.
pub(super) fn quiet(payload: &(dyn std::any::Any + Send)) -> bool {
    payload.is::<StopExploration>() || IN_LOOM.with(|f| f.get())
}

/// Runs a loom exploration on this thread with loom's own unwinding kept quiet; `f` may end
/// the exploration early with [`stop_exploration`], which is then not an error.
pub fn loom_quietly(f: impl FnOnce()) -> Result<(), String> {
    install_quiet_panic_hook();
    IN_LOOM.with(|x| x.set(true));
    let r = catch_unwind(AssertUnwindSafe(f));
    IN_LOOM.with(|x| x.set(false));
    match r {
        Ok(()) => Ok(()),
        Err(p) if p.is::<StopExploration>() => Ok(()),
        Err(p) => Err(panic_text(&p)),
    }
}

/// Ends the loom exploration running on this thread (inside [`loom_quietly`]).
pub fn stop_exploration() -> ! {
    std::panic::panic_any(StopExploration)
}

/// One loom atomic per kernel object the model names, created on first use, so loom's
/// partial-order reduction sees which steps commute.
/// The objects are kept sorted and found by binary search: hashing an `Obj` with the
/// default SipHash on every scheduling point cost 7% of a loom run.
#[derive(Default)]
pub struct LoomEngine {
    objects: Vec<(Obj, ::loom::sync::atomic::AtomicUsize)>,
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
    type Thread = ::loom::thread::Thread;
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
            .map(|o| (o, ::loom::sync::atomic::AtomicUsize::new(0)))
            .collect();
    }
    fn current(&self, _me: ActorId) -> Self::Thread {
        ::loom::thread::current()
    }
    fn park(&self, _me: ActorId) {
        ::loom::thread::park()
    }
    fn unpark(&self, t: &Self::Thread) {
        t.unpark()
    }
}

pub fn loom_spawn() -> Box<Spawner> {
    Box::new(|f| {
        let h = ::loom::thread::spawn(f);
        Box::new(move || h.join().expect("model thread panicked"))
    })
}
