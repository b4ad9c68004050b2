//! The kernel primitives behave as the 2014 kernel's do (docs/kernel-semantics): checked on
//! every interleaving with loom. Each test drives primitives directly from custom actor bodies.

use kexit_checker::engine::loom::{loom_spawn, LoomEngine};
use kexit_model::cx::Cx;
use kexit_model::flags::*;
use kexit_model::kernel::{Kernel, KR};
use kexit_model::prims::AOp;
use kexit_model::trace::{Field, Ident, Tok, ViolationKind};
use kexit_model::world::{run_bodies, ActorBody, Outcome};
use kexit_model::{at, Variant};
use kexit_scenarios::spec::{LwpSpec, ProcSpec, Spec};
use kexit_scenarios::world::build;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

type Body = ActorBody<LoomEngine>;

/// A kernel with one single-LWP process per actor: pids 2, 3, ... (actor i is pid i+2).
fn kernel(actors: usize) -> Kernel {
    let procs = (0..actors)
        .map(|i| ProcSpec {
            pid: i as u32 + 2,
            parent: 1,
            lwps: vec![LwpSpec::default()],
            ..Default::default()
        })
        .collect();
    let spec = Spec {
        name: "primitive".into(),
        description: String::new(),
        ncpus: 1,
        init_waits: false,
        shared_cpus: false,
        reapers: Some(vec![]),
        procs,
        alloc_fail: vec![],
        exit_callbacks: vec![],
        max_steps: 500,
        loom_bound: None,
        expect_reaped: vec![],
        expect_zombies: vec![],
        known_finding: None,
    };
    build(&spec, &Variant::default()).0
}

/// Explores every interleaving of the bodies `make` builds; `check` sees each outcome.
fn explore(
    actors: usize,
    make: impl Fn() -> Vec<Body> + Send + Sync + 'static,
    check: impl Fn(&Outcome) + Send + Sync + 'static,
) -> usize {
    explore_in(move || kernel(actors), make, check)
}

fn explore_in(
    kern: impl Fn() -> Kernel + Send + Sync + 'static,
    make: impl Fn() -> Vec<Body> + Send + Sync + 'static,
    check: impl Fn(&Outcome) + Send + Sync + 'static,
) -> usize {
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let mut b = loom::model::Builder::new();
    b.max_branches = 100_000;
    b.preemption_bound = None;
    b.max_duration = None;
    b.max_permutations = None;
    b.check(move || {
        r.fetch_add(1, SeqCst);
        let engine = LoomEngine::new().checking_steps();
        let out = run_bodies(kern(), make(), engine, &*loom_spawn());
        check(&out);
    });
    runs.load(SeqCst)
}

/// Ends an actor's body the way every body ends: by unwinding.
fn done() -> KR<()> {
    Err(kexit_model::kernel::Unwind::Shutdown)
}

const F: &str = "test";

#[test]
fn tokens_serialize_their_holders() {
    // Two actors increment p_flags of pid 2 with a plain load and store under pid 2's token.
    let body = || -> Body {
        Box::new(|cx: &Cx<LoomEngine>| {
            cx.lwkt_gettoken(at!(276, "lwkt_gettoken"), Tok::Proc(2))?;
            let v = cx.load(at!(200, "P_WEXIT"), Field::PFlags(2))?;
            cx.store(at!(202, "P_WEXIT"), Field::PFlags(2), v + 1)?;
            cx.lwkt_reltoken(at!(689, "lwkt_reltoken"), Tok::Proc(2))?;
            done()
        })
    };
    let n = explore(
        2,
        move || vec![body(), body()],
        |out| {
            assert!(out.violation.is_none(), "{:?}", out.violation);
            let k = out.kernel.as_ref().unwrap();
            assert_eq!(
                k.procs[&2].flags,
                P_MAYBETHREADED + 2,
                "an increment under the token was lost"
            );
        },
    );
    assert!(n > 1);
}

#[test]
fn plain_read_modify_write_without_token_loses_updates() {
    let body = || -> Body {
        Box::new(|cx: &Cx<LoomEngine>| {
            let v = cx.load(at!(319, "P_POSTEXIT"), Field::PFlags(2))?;
            cx.store(at!(319, "P_POSTEXIT"), Field::PFlags(2), v + 1)?;
            done()
        })
    };
    let lost = Arc::new(AtomicUsize::new(0));
    let l = lost.clone();
    explore(
        2,
        move || vec![body(), body()],
        move |out| {
            if out.kernel.as_ref().unwrap().procs[&2].flags == P_MAYBETHREADED + 1 {
                l.fetch_add(1, SeqCst);
            }
        },
    );
    assert!(
        lost.load(SeqCst) > 0,
        "separate load and store must let an update be lost"
    );
}

/// Waiter: checks a flag word and sleeps if it is clear; waker: sets it and wakes.
/// `locked`: both sides hold pid 2's token around check+sleep and set+wakeup.
fn flag_protocol(locked: bool) -> Vec<Body> {
    let waiter: Body = Box::new(move |cx: &Cx<LoomEngine>| {
        if locked {
            cx.lwkt_gettoken(at!(851, "lwkt_gettoken"), Tok::Proc(2))?;
        }
        while cx.load(at!(1120, "p_waitgen"), Field::PWaitgen(2))? == 0 {
            cx.tsleep(at!(1124, "tsleep"), Ident::Proc(2), 0, "wait", false)?;
            // The token was released while asleep (the waker took it) and is held again.
            assert_eq!(
                cx.holds(Tok::Proc(2))?,
                locked,
                "token not re-acquired after the sleep"
            );
        }
        if locked {
            cx.lwkt_reltoken(at!(1130, "lwkt_reltoken"), Tok::Proc(2))?;
        }
        done()
    });
    let waker: Body = Box::new(move |cx: &Cx<LoomEngine>| {
        if locked {
            cx.lwkt_gettoken(at!(556, "ksignal"), Tok::Proc(2))?;
        }
        cx.atomic(at!(490, "atomic_add_long"), Field::PWaitgen(2), AOp::Add(1))?;
        if locked {
            cx.lwkt_reltoken(at!(556, "ksignal"), Tok::Proc(2))?;
        }
        cx.wakeup(at!(700, "wakeup"), Ident::Proc(2))?;
        done()
    });
    vec![waiter, waker]
}

#[test]
fn check_then_sleep_without_interlock_loses_the_wakeup() {
    let found = Arc::new(AtomicUsize::new(0));
    let f = found.clone();
    explore(
        2,
        || flag_protocol(false),
        move |out| {
            if let Some(v) = &out.violation {
                assert_eq!(v.kind, ViolationKind::Deadlock);
                f.fetch_add(1, SeqCst);
            }
        },
    );
    assert!(found.load(SeqCst) > 0, "the lost wakeup must be found");
}

#[test]
fn token_held_until_the_sleeper_is_queued_closes_the_window_and_comes_back() {
    explore(
        2,
        || flag_protocol(true),
        |out| assert!(out.violation.is_none(), "{:?}", out.violation),
    );
}

#[test]
fn pcatch_sleep_is_interrupted_by_a_signal_and_plain_timed_sleep_times_out() {
    explore(
        2,
        || -> Vec<Body> {
            vec![
                Box::new(|cx: &Cx<LoomEngine>| {
                    let e =
                        cx.tsleep(at!(1124, "tsleep"), Ident::User(0), PCATCH, "pause", false)?;
                    assert_eq!(e, EINTR);
                    let e = cx.tsleep(at!(636, "tsleep"), Ident::Lwp(0), 0, "lwpexit", true)?;
                    assert_eq!(e, EWOULDBLOCK);
                    done()
                }),
                Box::new(|cx: &Cx<LoomEngine>| {
                    let _ = cx.ksignal(at!(521, "ksignal"), 2, SIGKILL)?;
                    done()
                }),
            ]
        },
        |out| assert!(out.violation.is_none(), "{:?}", out.violation),
    );
}

#[test]
fn pholdzomb_gives_the_reap_right_to_one_waiter_at_a_time() {
    let make = move || -> Vec<Body> {
        (0..2)
            .map(|_| -> Body {
                Box::new(|cx: &Cx<LoomEngine>| {
                    // Pid 4 stands for the zombie; PHOLDZOMB retries as kern_wait's goto loop does.
                    while cx.pholdzomb(at!(918, "PHOLDZOMB"), 4)? {}
                    let v = cx.load(at!(918, "PHOLDZOMB"), Field::PLock(4))?;
                    assert_eq!(v & PLOCK_MASK, 1, "two waiters hold the zombie at once");
                    assert!(v & PLOCK_ZOMB != 0);
                    cx.prelezomb(at!(923, "PRELEZOMB"), 4)?;
                    done()
                })
            })
            .chain(std::iter::once(
                Box::new(|_cx: &Cx<LoomEngine>| done()) as Body
            ))
            .collect()
    };
    explore(3, make, |out| {
        assert!(out.violation.is_none(), "{:?}", out.violation);
        assert_eq!(out.kernel.as_ref().unwrap().procs[&4].lock, 0);
    });
}

#[test]
fn pstall_returns_only_when_the_holds_are_gone() {
    explore(
        2,
        || -> Vec<Body> {
            vec![
                Box::new(|cx: &Cx<LoomEngine>| {
                    cx.phold(at!(503, "PHOLD"), 3)?;
                    cx.prele(at!(507, "PRELE"), 3)?;
                    done()
                }),
                Box::new(|cx: &Cx<LoomEngine>| {
                    cx.pstall(at!(957, "PSTALL"), 3, "reap3", 0)?;
                    done()
                }),
            ]
        },
        |out| assert!(out.violation.is_none(), "{:?}", out.violation),
    );
}

#[test]
fn use_after_free_is_reported() {
    let kern = || {
        let mut k = kernel(1);
        k.procs.get_mut(&2).unwrap().freed = true;
        k
    };
    let n = explore_in(
        kern,
        || -> Vec<Body> {
            vec![Box::new(|cx: &Cx<LoomEngine>| {
                cx.phold(at!(503, "PHOLD"), 2)?;
                done()
            })]
        },
        |out| {
            assert_eq!(
                out.violation.as_ref().map(|v| v.kind),
                Some(ViolationKind::UseAfterFree)
            )
        },
    );
    assert_eq!(n, 1);
}

#[test]
fn token_protected_list_without_its_token_is_a_data_race() {
    explore(
        1,
        || -> Vec<Body> {
            vec![Box::new(|cx: &Cx<LoomEngine>| {
                let mut g = cx.k()?;
                g.children(cx.me, 2, at!(499, "LIST_FIRST"))?;
                drop(g);
                done()
            })]
        },
        |out| {
            assert_eq!(
                out.violation.as_ref().map(|v| v.kind),
                Some(ViolationKind::DataRace)
            )
        },
    );
}
