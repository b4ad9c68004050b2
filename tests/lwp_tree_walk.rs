//! A ps-like scan walks p_lwp_tree as sysctl_out_proc does (LWPHOLD, a copyout that can
//! block and release p_token, LWPRELE, then RB_NEXT from the LWP it has released). When
//! kern_wait takes the LWP off the tree (939) while the copyout blocks, RB_NEXT follows the
//! links RB_REMOVE left in it: for the master LWP, the only one still on the tree at 939, they
//! lead nowhere, and kern_wait cannot free it before the scan lets p_token go. Finding F12:
//! a non-master LWP that the scan holds after lwp_exit's poll is freed under the walk.

use kexit_checker::engine::shuttle::bytes::{execute_bytes, random_input};
use kexit_checker::engine::{self, Budget, EngineKind};
use kexit_model::trace::{Event, What};
use kexit_model::Variant;

fn steps_from_removed_lwp(trace: &[Event]) -> bool {
    trace.iter().any(|e| {
        matches!(&e.what, What::Text(t)
            if t.starts_with("RB_NEXT from pid 3 lwp 1, off p_lwp_tree")
                && t.ends_with("lead to nothing"))
    })
}

/// Some execution of ps-all-vs-reap has the scan's RB_NEXT just after kern_wait took pid 3's
/// LWP off p_lwp_tree: pseudo-random byte schedules (seed 1) find one (input 9,601 on
/// 2026-12-03), and its schedule replays to the same step.
#[test]
fn rb_next_from_a_removed_lwp_follows_its_stale_links() {
    let s = kexit_scenarios::by_name("ps-all-vs-reap").expect("catalogue scenario");
    let seed = Variant::default();
    let found = (0..100_000u64).find_map(|n| {
        let (out, _) = execute_bytes(&s.spec, &seed, &random_input(1, n, 150)).expect("runs");
        steps_from_removed_lwp(&out.trace).then_some(out)
    });
    let out = found.expect("some schedule steps from the removed LWP");
    assert!(out.violation.is_none(), "{:?}", out.violation);
    let again = engine::replay(&s.spec, &seed, &out.schedule);
    assert!(
        steps_from_removed_lwp(&again.trace),
        "the replay reaches the scan's step from the removed LWP"
    );
    assert!(again.violation.is_none(), "{:?}", again.violation);
}

#[test]
fn the_stale_step_is_harmless_on_every_interleaving() {
    let s = kexit_scenarios::by_name("ps-all-vs-reap").expect("catalogue scenario");
    let budget = Budget {
        iterations: 200_000,
        ..Budget::default()
    };
    let r = engine::run(
        &s.spec,
        &Variant::default(),
        EngineKind::State,
        &budget,
        &|_| {},
    );
    assert!(
        r.found.is_none(),
        "{:?}",
        r.found.map(|f| f.outcome.violation)
    );
    assert!(r.exhaustive, "the state engine explores every interleaving");
}

/// F12: lwp_exit's dsched_exit_thread may sleep (653) after its lwp_lock poll (635), so a scan
/// holds the LWP again, blocks in its copyout while the LWP leaves the tree for the reaper,
/// and steps from it after its LWPRELE let the reaper free it. Every engine finds it, its
/// schedule replays, and polling again after 653-654 removes it.
#[test]
fn finding_f12_a_scan_holds_an_lwp_past_lwp_exits_poll_and_steps_from_it_freed() {
    let s = kexit_scenarios::by_name("scan-vs-lwp-exit").expect("in the catalogue");
    for (kind, budget) in [
        (EngineKind::State, Budget::default()),
        (
            EngineKind::Loom,
            Budget {
                preemption_bound: s.spec.loom_bound,
                iterations: u64::MAX,
                ..Budget::default()
            },
        ),
        (
            EngineKind::Pct,
            Budget {
                iterations: 10_000,
                ..Budget::default()
            },
        ),
    ] {
        let seed = engine::run(&s.spec, &Variant::default(), kind, &budget, &|_| {});
        let v = seed
            .found
            .expect("F12 on the seed")
            .outcome
            .violation
            .unwrap();
        assert_eq!(
            (v.kind, v.func),
            (kexit_model::ViolationKind::UseAfterFree, "sysctl_out_proc")
        );
        let fix = Variant::by_name("fix:lwp-exit-repoll").unwrap();
        let fixed = engine::run(&s.spec, &fix, kind, &budget, &|_| {});
        assert!(fixed.found.is_none() && fixed.error.is_none(), "{kind:?}");
        assert!(kind == EngineKind::Pct || fixed.exhaustive, "{kind:?}");
    }
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/findings/F12-scan-steps-from-freed-lwp.schedule");
    let f = kexit_checker::schedule::ScheduleFile::load(&file).expect("schedule");
    let steps = kexit_checker::schedule::decode(&f.schedule).expect("steps");
    let v = engine::replay(&s.spec, &Variant::default(), &steps).violation;
    assert_eq!(v.map(|v| v.func), Some("sysctl_out_proc"));
}
