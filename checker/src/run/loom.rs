//! The loom engine's exploration: bounds 1..=K in turn (or one bound, or none), each a loom
//! model check that stops at the first violation or when the harness says so.

use super::*;

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
