//! Final outcomes of loom runs, to compare with the state engine's (`Options::finals`): the
//! state engine must reach every final state, and verdict, that loom reaches.

use super::Finals;
use crate::engine::loom::{loom_spawn, LoomEngine};
use crate::engine::{loom_builder, loom_quietly};
use kexit_model::Variant;
use kexit_scenarios::world::execute_keeping_kernel;
use kexit_scenarios::Spec;
use parking_lot::Mutex;
use std::sync::Arc;

/// Every final outcome of loom's exploration at preemption bound `bound`.
pub fn loom_finals(spec: &Spec, variant: &Variant, bound: Option<usize>) -> Result<Finals, String> {
    let finals: Arc<Mutex<Finals>> = Arc::default();
    let (s, v, f) = (
        Arc::new(spec.clone()),
        Arc::new(variant.clone()),
        finals.clone(),
    );
    loom_quietly(move || {
        loom_builder(bound).check(move || {
            let mut out =
                execute_keeping_kernel(&s, &v, LoomEngine::with_local_state(), &*loom_spawn());
            let k = out.kernel.take().expect("kept");
            let kind = out.violation.as_ref().map(|v| v.kind);
            f.lock().insert((k.fingerprint(), kind));
        })
    })?;
    let r = finals.lock().clone();
    Ok(r)
}

/// Every final outcome the state engine reaches (its whole search, up to the first
/// violation); `full`: without partial-order reduction, to check the reduction.
pub fn state_finals(spec: &Spec, variant: &Variant, full: bool) -> (Finals, super::StateRun) {
    finals_of(spec, variant, full, 1)
}

/// `state_finals` of a search shared by `workers` workers (`parallel.rs`).
pub fn shared_search_finals(
    spec: &Spec,
    variant: &Variant,
    workers: usize,
) -> (Finals, super::StateRun) {
    finals_of(spec, variant, false, workers)
}

fn finals_of(
    spec: &Spec,
    variant: &Variant,
    full: bool,
    workers: usize,
) -> (Finals, super::StateRun) {
    let finals: Arc<Mutex<Finals>> = Arc::default();
    let opts = super::Options {
        full,
        finals: Some(finals.clone()),
        ..Default::default()
    };
    let r = super::explore(
        spec,
        variant,
        &crate::engine::Budget {
            iterations: u64::MAX,
            state_workers: workers,
            ..Default::default()
        },
        &opts,
        &Arc::default(),
    );
    let f = finals.lock().clone();
    (f, r)
}
