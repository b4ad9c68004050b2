//! Real OS threads racing for the kernel lock (stress).

use super::ctl::{parallel, Ctl};
use kexit_model::engine::{ActorId, Engine, Obj};
use kexit_model::world::Spawner;
use kexit_model::Variant;
use kexit_scenarios::world::execute;
use kexit_scenarios::Spec;
use std::sync::Arc;

/// Runs executions on `budget.jobs` threads until the budget ends.
pub(super) fn run_os(
    spec: &Arc<Spec>,
    variant: &Arc<Variant>,
    ctl: &Arc<Ctl>,
    progress: &(dyn Fn(u64) + Sync),
) -> Option<String> {
    parallel(ctl, progress, |_| {
        while ctl.claim().is_some() {
            ctl.done(execute(spec, variant, OsEngine, &*os_spawn()), None);
        }
        None
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
