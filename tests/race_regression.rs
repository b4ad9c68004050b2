//! The race-regression suite: the starter scenarios pass on every engine on the seed model;
//! the variants that must be caught are caught on loom and PCT, and their schedules replay;
//! the variants expected to be harmless pass; the findings on the seed reproduce.

#[path = "support/regression.rs"]
mod regression;

use kexit_checker::engine::{Budget, EngineKind};
use kexit_checker::outcome::{verdict, Verdict};
use kexit_model::trace::ViolationKind;
use kexit_model::Variant;
use kexit_scenarios::select::expected;
use regression::*;

const STARTERS: [&str; 3] = ["exit-vs-wait", "threaded-exit", "orphan-exit"];

#[test]
fn starters_pass_exhaustively_on_loom() {
    for name in STARTERS {
        let s = scenario(name);
        let r = go(&s, &Variant::default(), EngineKind::Loom, loom_budget(&s));
        assert_passes(&r, name);
        assert!(
            r.exhaustive,
            "{name}: loom must finish its bounded exploration"
        );
        assert!(r.executions > 10, "{name}: {} executions", r.executions);
        println!(
            "{name}: loom exhaustive at bound {:?}: {} executions in {:.2?}",
            s.spec.loom_bound, r.executions, r.elapsed
        );
    }
}

#[test]
fn starters_pass_10000_pct_iterations() {
    for name in STARTERS {
        let s = scenario(name);
        let r = go(
            &s,
            &Variant::default(),
            EngineKind::Pct,
            shuttle_budget(10_000),
        );
        assert_passes(&r, name);
        assert_eq!(r.executions, 10_000);
        println!("{name}: pct 10000 executions in {:.2?}", r.elapsed);
    }
}

#[test]
fn starters_pass_on_random_dfs_and_os_threads() {
    for name in STARTERS {
        let s = scenario(name);
        for (engine, n) in [
            (EngineKind::Random, 2_000),
            (EngineKind::Urw, 2_000),
            (EngineKind::Dfs, 2_000),
            (EngineKind::Os, 300),
        ] {
            let r = go(&s, &Variant::default(), engine, shuttle_budget(n));
            assert_passes(&r, name);
            assert!(r.executions > 0);
        }
    }
}

#[test]
fn parent_token_released_across_the_wait_sleep_loses_the_wakeup() {
    let s = scenario("exit-vs-wait");
    let v = variant("bug:wait-unlocked-sleep");
    let loom = assert_caught(
        &s,
        &v,
        EngineKind::Loom,
        loom_budget(&s),
        ViolationKind::Deadlock,
    );
    let pct = assert_caught(
        &s,
        &v,
        EngineKind::Pct,
        shuttle_budget(10_000),
        ViolationKind::Deadlock,
    );
    println!("bug:wait-unlocked-sleep caught: loom after {loom} executions, pct after {pct}");
}

#[test]
fn without_the_waitgen_recheck_the_parent_token_still_closes_the_window() {
    passes_on_loom_and_pct(
        &scenario("exit-vs-wait"),
        &variant("bug:no-waitgen-recheck"),
    );
}

#[test]
fn finding_f1_wnohang_copies_out_an_unwritten_status_and_the_fix_passes() {
    let s = scenario("wnohang-running-child");
    let seed = Variant::default();
    assert_eq!(expected(&s, &seed), vec![ViolationKind::CopyoutUnwritten]);
    assert_caught(
        &s,
        &seed,
        EngineKind::Loom,
        loom_budget(&s),
        ViolationKind::CopyoutUnwritten,
    );
    let fix = variant("fix:wait4-init-status");
    assert!(expected(&s, &fix).is_empty());
    assert_passes(
        &go(&s, &fix, EngineKind::Loom, loom_budget(&s)),
        "wnohang-running-child",
    );
    assert_passes(
        &go(&s, &fix, EngineKind::Pct, shuttle_budget(5_000)),
        "wnohang-running-child",
    );
}

#[test]
fn the_same_seed_gives_the_same_trace() {
    let s = scenario("exit-vs-wait");
    let v = variant("bug:wait-unlocked-sleep");
    let a = go(&s, &v, EngineKind::Pct, shuttle_budget(10_000));
    let seed = a
        .found
        .as_ref()
        .and_then(|f| f.seed)
        .expect("pct finds it with a seed");
    let b = go(
        &s,
        &v,
        EngineKind::Pct,
        Budget {
            seed,
            iterations: 1,
            jobs: 1,
            ..Budget::default()
        },
    );
    let (fa, fb) = (
        a.found.unwrap(),
        b.found.expect("the seed alone reproduces it"),
    );
    assert_eq!(fa.outcome.schedule, fb.outcome.schedule);
    assert_eq!(fa.outcome.trace.len(), fb.outcome.trace.len());
}

#[test]
fn finding_f2_nocldwait_parent_reaps_a_child_moved_to_init_and_the_fix_passes() {
    let s = scenario("nocldwait-wait-race");
    let seed = Variant::default();
    let want = expected(&s, &seed);
    assert_eq!(want, vec![ViolationKind::Kkassert, ViolationKind::DataRace]);
    for engine in [EngineKind::Loom, EngineKind::Pct] {
        let budget = if engine == EngineKind::Loom {
            loom_budget(&s)
        } else {
            shuttle_budget(10_000)
        };
        let r = go(&s, &seed, engine, budget);
        assert_eq!(verdict(&r, &want), Verdict::Caught, "{}", engine.name());
    }
    let fix = variant("fix:wait-recheck-pptr");
    let r = go(&s, &fix, EngineKind::Loom, loom_budget(&s));
    assert_passes(&r, "nocldwait-wait-race");
    assert!(r.exhaustive);
    assert_passes(
        &go(&s, &fix, EngineKind::Pct, shuttle_budget(10_000)),
        "nocldwait-wait-race",
    );
}

/// Re-created bugs the model cannot show (see docs/variants.md): listed by `kexit mutants` as
/// missed; `known_missed_variants_still_pass` asserts that they stay unobservable.
const KNOWN_MISSED: [&str; 1] = ["bug:lwp-wait-no-recheck"];

#[test]
fn every_recreated_bug_is_caught_and_the_seed_passes_the_same_scenarios() {
    let mut caught = Vec::new();
    for info in kexit_scenarios::exposure::EXPOSURES
        .iter()
        .filter(|e| e.variant.starts_with("bug:"))
    {
        let v = variant(info.variant);
        for name in info.scenarios {
            let s = scenario(name);
            let seed = Variant::default();
            let r = go(&s, &seed, EngineKind::Pct, shuttle_budget(2_000));
            // The seed shows nothing here but the finding the scenario records, if any.
            assert!(
                verdict(&r, &expected(&s, &seed)).ok(),
                "seed on {name}: {:?}",
                r.found.as_ref().map(|f| f.outcome.violation.clone())
            );
            if KNOWN_MISSED.contains(&info.variant) {
                continue;
            }
            let want = expected(&s, &v);
            assert!(
                !want.is_empty(),
                "{} declares what {name} must show",
                info.variant
            );
            let pct = go(&s, &v, EngineKind::Pct, shuttle_budget(10_000));
            let mut ok = verdict(&pct, &want) == Verdict::Caught;
            if !ok && s.spec.actor_count() <= kexit_checker::engine::LOOM_MAX_ACTORS {
                ok = verdict(&go(&s, &v, EngineKind::Loom, loom_budget(&s)), &want)
                    == Verdict::Caught;
            }
            assert!(ok, "{} not caught on {name}", info.variant);
            caught.push(info.variant);
        }
    }
    caught.dedup();
    assert!(caught.len() >= 15, "caught: {caught:?}");
}

#[test]
fn known_missed_variants_still_pass() {
    for name in KNOWN_MISSED {
        let v = variant(name);
        for s in kexit_scenarios::exposure::exposure(v.name())
            .map_or(&[][..], |e| e.scenarios)
            .iter()
            .map(|n| scenario(n))
        {
            assert_passes(&go(&s, &v, EngineKind::Pct, shuttle_budget(10_000)), name);
            if s.spec.actor_count() <= kexit_checker::engine::LOOM_MAX_ACTORS {
                let r = go(&s, &v, EngineKind::Loom, loom_budget(&s));
                assert_passes(&r, name);
                assert!(r.exhaustive);
            }
        }
    }
}

#[test]
fn reparent_single_shot_panics_when_the_parent_moves_the_child_first() {
    // The scenario also reaches F11 (the old parent's fixjobc walks onto the tracer's list),
    // which PCT meets first from seed 0 since exit1 may sleep at 440: seed 300 meets the bug.
    caught_on_loom_and_pct("attach-vs-parent-exit", "bug:reparent-single-shot", 300);
}

#[test]
fn reparent_without_wakeup_leaves_the_old_parent_waiting() {
    caught_on_loom_and_pct("attach-takes-only-child", "bug:reparent-no-wakeup", 0);
}

#[test]
fn zomb_hold_across_pholdzomb_deadlocks_two_waiters() {
    caught_on_loom_and_pct("path-two-waiter-lwps", "bug:zomb-hold-deadlock", 0);
}

#[test]
fn lwp_without_proc_hold_uses_the_freed_process_in_heuristic_exiting() {
    caught_on_loom_and_pct("path-extexit-lwp-multi", "bug:lwp-no-proc-hold", 0);
}

#[test]
fn without_the_pptr_recheck_a_nocldwait_parent_reaps_inits_child() {
    let s = scenario("nocldwait-reparent-race");
    // The seed shows F2 here; the bug is measured against the F2 fix it is built on.
    let seed = Variant::default();
    assert_eq!(expected(&s, &seed), vec![ViolationKind::DataRace]);
    let fix = variant("fix:wait-recheck-pptr");
    let r = go(&s, &fix, EngineKind::Loom, loom_budget(&s));
    assert_passes(&r, "nocldwait-reparent-race");
    assert!(r.exhaustive);
    let v = variant("bug:no-pptr-recheck");
    assert_caught(
        &s,
        &v,
        EngineKind::Loom,
        loom_budget(&s),
        ViolationKind::DataRace,
    );
    assert_caught(
        &s,
        &v,
        EngineKind::Pct,
        shuttle_budget(10_000),
        ViolationKind::DataRace,
    );
}

#[test]
fn killlwps_without_lwphold_loses_its_target_under_the_loop() {
    let s = scenario("killlwps-vs-lwp-exit");
    let v = variant("bug:killlwps-no-lwphold");
    // Loom first meets the target gone from p_lwp_tree before the reaper frees it ...
    assert_caught(
        &s,
        &v,
        EngineKind::Loom,
        loom_budget(&s),
        ViolationKind::ListCorruption,
    );
    // ... PCT the same bug after the reaper freed it, rarely: about once in several
    // 100,000 executions (seeds 0..600,000 hold at least one; the first is 428,005 since
    // exit1 runs fixjobc, 2026-12-03).
    let budget = Budget {
        seed: 0,
        ..shuttle_budget(600_000)
    };
    let r = go(&s, &v, EngineKind::Pct, budget);
    let f = r.found.expect("pct finds it");
    assert_eq!(
        f.outcome.violation.unwrap().kind,
        ViolationKind::UseAfterFree
    );
    let r = go(&s, &Variant::default(), EngineKind::Loom, loom_budget(&s));
    assert_passes(&r, "killlwps-vs-lwp-exit");
    assert!(r.exhaustive);
}

#[test]
fn finding_f3_second_waiter_hits_pholdzomb_kkassert_and_the_fix_passes() {
    let s = scenario("two-waiters-vs-kill");
    let seed = Variant::default();
    assert_eq!(expected(&s, &seed), vec![ViolationKind::Kkassert]);
    assert_caught(
        &s,
        &seed,
        EngineKind::Loom,
        loom_budget(&s),
        ViolationKind::Kkassert,
    );
    assert_caught(
        &s,
        &seed,
        EngineKind::Pct,
        shuttle_budget(10_000),
        ViolationKind::Kkassert,
    );
    let v = replay_finding(&s, "F3-two-waiters-kkassert.schedule");
    assert_eq!((v.kind, v.line), (ViolationKind::Kkassert, 918));
    let fix = variant("fix:zomb-keeps-hold");
    assert!(expected(&s, &fix).is_empty());
    let r = go(&s, &fix, EngineKind::Loom, loom_budget(&s));
    assert_passes(&r, "two-waiters-vs-kill");
    assert!(r.exhaustive);
    for name in ["two-waiters-vs-kill", "path-two-waiter-lwps"] {
        let s = scenario(name);
        assert_passes(&go(&s, &fix, EngineKind::Pct, shuttle_budget(10_000)), name);
    }
}

/// Sequential consistency alone cannot lose the vfork parent's wakeup with a plain store of
/// P_PPWAIT; the race check sees that nothing orders that store before the parent's unlocked
/// test of the flag, which atomic_clear_int (a full barrier) does.
#[test]
fn a_plain_store_to_p_ppwait_is_a_race_the_atomic_closes() {
    caught_on_loom_and_pct("vfork-wait", "bug:ppwait-plain-store", 0);
}

#[test]
fn finding_f4_pgsignal_walks_onto_a_freed_member_and_the_fix_passes() {
    let v = finding_and_fix(
        "pgsignal-vs-reap",
        ViolationKind::UseAfterFree,
        "F4-pgsignal-use-after-free.schedule",
        "fix:pgsignal-pg-token",
    );
    assert_eq!(v.func, "pgsignal", "{v}");
}

/// Without reap4/reap5 the zombie is freed under a signaller that found it on its process
/// group (after proc_remove_zombie drained every other holder) and holds it while it blocks.
#[test]
fn without_the_final_reap_stalls_a_group_signaller_holds_a_freed_zombie() {
    let s = scenario("pgsignal-vs-reap");
    let v = variant("bug:no-reap-stall");
    // PCT meets it rarely: first at execution 26,412 since lwp_exit and kern_wait may block
    // at 653 and 991 (2026-12-03; 9,602 before).
    caught_on_loom_and_pct_within(
        "pgsignal-vs-reap",
        "bug:no-reap-stall",
        shuttle_budget(100_000),
    );
    let r = go(&s, &v, EngineKind::Loom, loom_budget(&s));
    let viol = r.found.unwrap().outcome.violation.unwrap();
    assert_eq!(viol.func, "lwpsignal", "{viol}");
}

/// Holders that find a zombie through allproc (a scan's pfind) are drained by
/// proc_remove_zombie's own PSTALLs before the unlink, so reap4/reap5 do not matter to them.
#[test]
fn scan_holds_are_drained_before_the_unlink_without_the_final_reap_stalls() {
    passes_on_loom_and_pct(&scenario("ps-scan-vs-exit"), &variant("bug:no-reap-stall"));
}

/// A seed finding: loom and PCT show it with `kind`, its schedule in docs/findings replays to
/// it (returned), and the fix variant passes the scenario (loom exhaustive at the scenario's bound, PCT).
fn finding_and_fix(
    scenario_name: &str,
    kind: ViolationKind,
    schedule: &str,
    fix_name: &str,
) -> kexit_model::Violation {
    let s = scenario(scenario_name);
    let seed = Variant::default();
    assert_eq!(expected(&s, &seed), vec![kind]);
    assert_caught(&s, &seed, EngineKind::Loom, loom_budget(&s), kind);
    assert_caught(&s, &seed, EngineKind::Pct, shuttle_budget(10_000), kind);
    let v = replay_finding(&s, schedule);
    assert_eq!(v.kind, kind);
    let fix = variant(fix_name);
    assert!(expected(&s, &fix).is_empty());
    passes_on_loom_and_pct(&s, &fix);
    v
}

#[test]
fn finding_f5_a_traced_vfork_child_wakes_its_tracer_not_its_vfork_parent() {
    finding_and_fix(
        "vfork-child-attached",
        ViolationKind::Deadlock,
        "F5-vfork-parent-not-woken.schedule",
        "fix:ppwait-wake-child",
    );
}

/// F6 on the seed; its fix passes path-extexit-lwp-both and leaves F12 in the scan scenario
/// (the scan's hold comes after lwp_exit's poll, then its RB_NEXT steps from the freed LWP).
#[test]
fn finding_f6_two_lwps_leaving_with_extexit_leave_an_undead_process() {
    let s = scenario("extexit-lwps-vs-scan");
    let seed = Variant::default();
    let kind = ViolationKind::ProcessLeftBehind;
    assert_eq!(expected(&s, &seed), vec![kind]);
    assert_caught(&s, &seed, EngineKind::Loom, loom_budget(&s), kind);
    assert_caught(&s, &seed, EngineKind::Pct, shuttle_budget(10_000), kind);
    assert_eq!(replay_finding(&s, "F6-extexit-undead.schedule").kind, kind);
    let fix = variant("fix:extexit-live-lwps");
    let both = scenario("path-extexit-lwp-both");
    assert!(expected(&both, &fix).is_empty());
    passes_on_loom_and_pct(&both, &fix);
    let f12 = ViolationKind::UseAfterFree;
    assert_eq!(expected(&s, &fix), vec![f12]);
    assert_caught(&s, &fix, EngineKind::Loom, loom_budget(&s), f12);
}

#[test]
fn finding_f7_a_parent_tracing_its_child_is_told_twice() {
    let v = finding_and_fix(
        "trace-me-exit-wait",
        ViolationKind::DoubleReap,
        "F7-trace-me-told-twice.schedule",
        "fix:oppid-report-once",
    );
    assert_eq!((v.func, v.line), ("kern_wait", 960));
    // The same finding through a race: a tracer's exit leaves p_oppid to init's wait.
    let s = scenario("attach-vs-parent-exit");
    assert_eq!(
        expected(&s, &Variant::default()),
        vec![ViolationKind::DoubleReap]
    );
    assert_caught(
        &s,
        &Variant::default(),
        EngineKind::Loom,
        loom_budget(&s),
        ViolationKind::DoubleReap,
    );
    assert!(expected(&s, &variant("fix:oppid-report-once")).is_empty());
}

/// F9 shows as a stopped member wrongly hung up (its parent's wait sees SIGHUP) or, where the
/// member's own exit then counts itself too, as the final recount's miscount (both are the
/// finding's kinds; tests/job_control.rs shows the second). Loom meets the first, PCT the
/// second (since a stopped process halts until continued, the hung-up member dies only after
/// orphanpg's SIGCONT).
#[test]
fn finding_f9_a_child_and_its_parent_both_take_its_job_control_count() {
    let s = scenario("fixjobc-vs-child-exit");
    let seed = Variant::default();
    let kinds = vec![ViolationKind::UnexpectedResult, ViolationKind::JobControl];
    assert_eq!(expected(&s, &seed), kinds);
    assert_caught(&s, &seed, EngineKind::Loom, loom_budget(&s), kinds[0]);
    assert_caught(&s, &seed, EngineKind::Pct, shuttle_budget(10_000), kinds[1]);
    let v = replay_finding(&s, "F9-fixjobc-counted-twice.schedule");
    assert_eq!(v.kind, ViolationKind::UnexpectedResult);
    assert!(v.message.contains("signaled(1)"), "{v}");
    let fix = variant("fix:fixjobc-once");
    assert!(expected(&s, &fix).is_empty());
    passes_on_loom_and_pct(&s, &fix);
}
