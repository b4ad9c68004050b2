//! Builds a kernel from a scenario, runs one execution on an engine, and checks the state
//! the execution ends in.

use crate::cx::{Cx, Sys};
use crate::engine::{ActorId, Engine};
use crate::ext;
use crate::flags::*;
use crate::kern_exit::exit::INITPID;
use crate::kernel::*;
use crate::trace::*;
use crate::variant::Variant;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Everything one execution leaves behind.
pub struct Outcome {
    pub violation: Option<Violation>,
    pub trace: Vec<Event>,
    pub labels: Vec<String>,
    /// The actor that took each kernel-lock acquisition, in order: replays the execution.
    pub schedule: Vec<u8>,
    /// Scheduling points the engine saw (kernel-lock acquisitions minus the silent ones).
    pub points: u32,
    pub lines: Vec<u64>,
    /// The final kernel state (kept by `run_bodies` for tests; dropped by `execute`).
    pub kernel: Option<Kernel>,
}

pub type Spawner = dyn Fn(Box<dyn FnOnce() + Send>) -> Box<dyn FnOnce() + Send>;

/// A kernel with nothing in it yet.
pub fn empty_kernel(variant: &Variant) -> Kernel {
    Kernel {
        procs: BTreeMap::new(),
        pgrps: BTreeMap::new(),
        lwps: Vec::new(),
        tokens: BTreeMap::new(),
        actors: Vec::new(),
        ncpus: 1,
        deadlwp_list: Vec::new(),
        task_pending: Vec::new(),
        switch_pending: Vec::new(),
        exit_list: Vec::new(),
        exit_freed: Vec::new(),
        alloc_fail: Vec::new(),
        allocs: 0,
        variant: variant.clone(),
        reaps: Vec::new(),
        reports: Vec::new(),
        race: Default::default(),
        sched: Sched {
            schedule: Vec::with_capacity(512),
            schedule_cut: None,
            step: 0,
            points: 0,
            max_steps: 3000,
            abort: false,
            holder: 0,
            shutdown: false,
            pending_unpark: Vec::new(),
            local_state: false,
            check_steps: false,
        },
        rec: Recorder {
            trace: Vec::with_capacity(256),
            lines: Vec::new(),
            violation: None,
        },
    }
}

/// Every object a scheduling point can name in this kernel.
pub(crate) fn all_objects(k: &Kernel) -> Vec<Obj> {
    let mut v = vec![Obj::Tok(Tok::ProcList), Obj::ExitList];
    for &p in k.procs.keys() {
        for f in [
            Field::PFlags(p),
            Field::PStat(p),
            Field::PWaitgen(p),
            Field::PLock(p),
        ] {
            v.push(Obj::Word(f));
        }
        v.extend([Obj::Tok(Tok::Proc(p)), Obj::Sig(p), Obj::Sigacts(p)]);
        v.extend([Ident::Proc(p), Ident::Nthreads(p), Ident::PLock(p)].map(Obj::Ident));
    }
    for &g in k.pgrps.keys() {
        v.extend([Obj::Tok(Tok::Pgrp(g)), Obj::Ident(Ident::PgLock(g))]);
    }
    for l in 0..k.lwps.len() {
        for f in [
            Field::LwpMpflags(l),
            Field::LwpLock(l),
            Field::TdFlags(l),
            Field::TdMpflags(l),
            Field::TdRefs(l),
        ] {
            v.push(Obj::Word(f));
        }
        v.push(Obj::Tok(Tok::Lwp(l)));
        v.extend([Ident::Lwp(l), Ident::Td(l), Ident::User(l), Ident::Ipi(l)].map(Obj::Ident));
    }
    let shared = (0..k.actors.len()).any(|a| k.cpu_of(a).is_some());
    for c in 0..k.ncpus {
        if shared {
            v.push(Obj::Tok(Tok::Cpu(c)));
        }
        v.extend([
            Obj::Tok(Tok::Deadlwp(c)),
            Obj::Ident(Ident::TaskQueue(c)),
            Obj::Ident(Ident::Switch(c)),
        ]);
    }
    v
}

pub fn new_actor(kind: ActorKind, label: String, idle_on: Vec<Ident>) -> Actor {
    Actor {
        kind,
        label,
        toks: Vec::new(),
        toks_live: true,
        run: Run::Running,
        wchan: None,
        wpcatch: false,
        wmesg: "",
        idle_on,
        line: 0,
        func: "",
        last: 0,
        digest: 0,
        frames: Vec::new(),
        declared: None,
    }
}

/// The code an actor runs; it ends by unwinding (thread exit, shutdown or abort).
pub type ActorBody<E> = Box<dyn for<'a, 's> FnOnce(&'a Cx<'s, E>) -> KR<()> + Send>;

/// Run `bodies` (one per actor of `kernel`) to the end on `engine`.
pub fn run_bodies<E: Engine>(
    mut kernel: Kernel,
    bodies: Vec<ActorBody<E>>,
    mut engine: E,
    spawn: &Spawner,
) -> Outcome {
    let n = kernel.actors.len();
    engine.prepare(&all_objects(&kernel), n);
    kernel.sched.local_state = engine.local_state();
    kernel.sched.check_steps = engine.check_steps();
    assert_eq!(n, bodies.len(), "one body per actor");
    let sys = Arc::new(Sys {
        engine,
        variant: kernel.variant.clone(),
        kernel: Arc::new(Mutex::new(kernel)),
        threads: Mutex::new(vec![None; n]),
    });
    sys.engine.attach(&sys.kernel);
    let mut joins = Vec::new();
    for (me, body) in bodies.into_iter().enumerate() {
        let sys = sys.clone();
        joins.push(spawn(Box::new(move || run_actor(&sys, me, body))));
    }
    for j in joins {
        j();
    }
    let mut k = sys.kernel.lock();
    let kernel = std::mem::replace(&mut *k, empty_kernel(&Variant::default()));
    let mut out = Outcome {
        violation: kernel.rec.violation.clone(),
        trace: Vec::new(),
        labels: kernel.actors.iter().map(|a| a.label.clone()).collect(),
        schedule: Vec::new(),
        points: kernel.sched.points,
        lines: kernel.rec.lines.clone(),
        kernel: None,
    };
    let mut kernel = kernel;
    out.trace = std::mem::take(&mut kernel.rec.trace);
    out.schedule = std::mem::take(&mut kernel.sched.schedule);
    if let Some(cut) = kernel.sched.schedule_cut {
        out.schedule.truncate(cut);
    }
    out.kernel = Some(kernel);
    out
}

fn run_actor<E: Engine>(sys: &Sys<E>, me: ActorId, body: ActorBody<E>) {
    sys.threads.lock()[me] = Some(sys.engine.current(me));
    let cx = Cx { sys, me };
    let r = cx.wait_for_cpu().and_then(|()| body(&cx));
    debug_assert!(r.is_err(), "actor bodies end by unwinding");
    cx.finish();
}

pub fn run_init<E: Engine>(cx: &Cx<'_, E>, l: LwpId) -> KR<()> {
    loop {
        cx.restart(ext!("init", "main loop"), ());
        let r = cx.sys_wait4(WAIT_ANY, 0, false)?;
        if r.error == ECHILD {
            cx.tsleep(
                ext!("init", "sigsuspend"),
                Ident::User(l),
                PCATCH,
                "sigsusp",
                false,
            )?;
        }
        let mut g = cx.sp(&[Obj::Sig(INITPID)])?;
        if let Some(p) = g.procs.get_mut(&INITPID) {
            p.sigchld = false;
        }
    }
}

pub fn run_reaper<E: Engine>(cx: &Cx<'_, E>, cpu: u8) -> KR<()> {
    let site = ext!("subr_taskqueue.c", "taskqueue_thread_loop");
    loop {
        cx.restart(site, ());
        cx.tsleep_interlock(site, Ident::TaskQueue(cpu), 0)?;
        let pending = {
            let mut g = cx.k()?;
            std::mem::replace(&mut g.task_pending[cpu as usize], false)
        };
        if pending {
            cx.reaplwps(cpu)?;
        } else {
            cx.tsleep(site, Ident::TaskQueue(cpu), PINTERLOCKED, "tqthr", false)?;
        }
    }
}
