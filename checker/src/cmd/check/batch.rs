//! The state engine over many scenarios at once: one search per worker, `--jobs` workers,
//! results in the order of the input (each search is deterministic, so the results do not
//! depend on the number of workers).

use crate::engine::{Budget, EngineKind, RunResult};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kexit_model::Variant;
use kexit_scenarios::Spec;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

/// Runs the state engine on every `Some` item on `jobs` workers; `None` items are left for
/// the caller. With one worker or one item nothing runs here (the caller's own loop shows
/// progress per scenario then).
pub fn run_parallel(
    items: &[Option<(&Spec, &Budget)>],
    variant: &Variant,
    jobs: usize,
    interactive: bool,
) -> Vec<Option<RunResult>> {
    let todo: Vec<usize> = (0..items.len()).filter(|i| items[*i].is_some()).collect();
    let mut out: Vec<Option<RunResult>> = (0..items.len()).map(|_| None).collect();
    if jobs <= 1 || todo.len() <= 1 {
        return out;
    }
    let bar = ProgressBar::with_draw_target(
        Some(todo.len() as u64),
        if interactive {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    bar.set_style(
        ProgressStyle::with_template("{spinner} state engine: {pos}/{len} scenarios ({elapsed})")
            .expect("template"),
    );
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, RunResult)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.min(todo.len()) {
            s.spawn(|| loop {
                let k = next.fetch_add(1, SeqCst);
                let Some(&i) = todo.get(k) else { break };
                let (spec, budget) = items[i].expect("listed");
                // One worker per search: the workers here are the scenarios.
                let budget = Budget {
                    state_workers: 1,
                    ..budget.clone()
                };
                let r = crate::engine::run(spec, variant, EngineKind::State, &budget, &|_| {});
                results.lock().push((i, r));
                bar.inc(1);
            });
        }
    });
    bar.finish_and_clear();
    for (i, r) in results.into_inner() {
        out[i] = Some(r);
    }
    out
}
