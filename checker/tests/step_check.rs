//! The footprint check (`kexit_model::stepcheck`) raises a model error for a step that writes
//! outside what its scheduling point declared, and for nothing else.

use kexit_checker::engine::loom::{loom_spawn, LoomEngine};
use kexit_model::cx::Cx;
use kexit_model::kernel::KR;
use kexit_model::trace::{Field, Obj, Tok, ViolationKind};
use kexit_model::world::{run_bodies, ActorBody, Outcome};
use kexit_model::{at, Variant};
use kexit_scenarios::spec::{LwpSpec, ProcSpec, Spec};
use kexit_scenarios::world::build;

const F: &str = "test";

type Body = ActorBody<LoomEngine>;

/// One execution of one actor (pid 2) running `body`, every step checked.
fn run(body: Body) -> Outcome {
    let spec = Spec {
        name: "step-check".into(),
        description: String::new(),
        ncpus: 1,
        init_waits: false,
        shared_cpus: false,
        reapers: Some(vec![]),
        procs: vec![ProcSpec {
            pid: 2,
            parent: 1,
            lwps: vec![LwpSpec::default()],
            ..Default::default()
        }],
        alloc_fail: vec![],
        exit_callbacks: vec![],
        max_steps: 100,
        loom_bound: None,
        expect_reaped: vec![],
        expect_zombies: vec![],
        known_finding: None,
    };
    let slot = std::sync::Arc::new(std::sync::Mutex::new(None));
    let s = slot.clone();
    let body = std::sync::Mutex::new(Some(body));
    loom::model(move || {
        let kernel = build(&spec, &Variant::default()).0;
        let b = body.lock().unwrap().take().expect("one execution");
        let engine = LoomEngine::new().checking_steps();
        let out = run_bodies(kernel, vec![b], engine, &*loom_spawn());
        *s.lock().unwrap() = Some(out);
    });
    let out = slot.lock().unwrap().take();
    out.expect("the execution ran")
}

fn done() -> KR<()> {
    Err(kexit_model::kernel::Unwind::Shutdown)
}

fn model_error(out: &Outcome) -> Option<String> {
    out.violation
        .as_ref()
        .filter(|v| v.kind == ViolationKind::ModelError)
        .map(|v| v.message.clone())
}

#[test]
fn a_token_protected_write_without_the_token_is_a_model_error() {
    let out = run(Box::new(|cx: &Cx<LoomEngine>| {
        let mut g = cx.sp(&[Obj::ExitList])?;
        g.procs.get_mut(&2).unwrap().xstat = 7;
        drop(g);
        done()
    }));
    let msg = model_error(&out).expect("the write is outside the step's declaration");
    assert!(msg.contains("Proc(2, ByToken)"), "{msg}");
}

#[test]
fn the_same_write_under_the_token_passes() {
    let out = run(Box::new(|cx: &Cx<LoomEngine>| {
        cx.lwkt_gettoken(at!(276, "lwkt_gettoken"), Tok::Proc(2))?;
        cx.k()?.procs.get_mut(&2).unwrap().xstat = 7;
        cx.lwkt_reltoken(at!(689, "lwkt_reltoken"), Tok::Proc(2))?;
        done()
    }));
    assert_eq!(model_error(&out), None);
}

#[test]
fn a_word_written_by_a_step_that_declared_it_read_only_is_a_model_error() {
    let out = run(Box::new(|cx: &Cx<LoomEngine>| {
        let mut g = cx.sp_as(
            &[Obj::Word(Field::PFlags(2))],
            kexit_model::engine::Access::Read,
        )?;
        g.procs.get_mut(&2).unwrap().flags |= 1;
        drop(g);
        done()
    }));
    let msg = model_error(&out).expect("a read-only declaration does not cover a write");
    assert!(msg.contains("Word(PFlags(2))"), "{msg}");
}

#[test]
fn a_silent_word_write_even_under_the_token_is_a_model_error() {
    // Words are shared with atomics that take no token: only a declaration orders them.
    let out = run(Box::new(|cx: &Cx<LoomEngine>| {
        cx.lwkt_gettoken(at!(276, "lwkt_gettoken"), Tok::Proc(2))?;
        cx.k()?.procs.get_mut(&2).unwrap().stat = 5;
        done()
    }));
    let msg = model_error(&out).expect("a silent store to a word");
    assert!(msg.contains("Word(PStat(2))"), "{msg}");
}
