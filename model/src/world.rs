//! Builds a kernel from a scenario, runs one execution on an engine, and checks the state
//! the execution ends in.

use crate::cx::{Cx, Sys};
use crate::engine::{ActorId, Engine};
use crate::ext;
use crate::flags::*;
use crate::kern_exit::exit::INITPID;
use crate::kern_exit::misc::deadlwp_init;
use crate::kernel::*;
use crate::spec::*;
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

pub enum Body {
    Script(LwpId, Vec<Op>),
    Init(LwpId),
    Reaper(u8),
}

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
        exit_list: Vec::new(),
        exit_freed: Vec::new(),
        alloc_fail: Vec::new(),
        allocs: 0,
        variant: variant.clone(),
        trace: Vec::with_capacity(256),
        schedule: Vec::with_capacity(512),
        schedule_cut: None,
        step: 0,
        points: 0,
        max_steps: 3000,
        violation: None,
        abort: false,
        holder: 0,
        shutdown: false,
        pending_unpark: Vec::new(),
        reaps: Vec::new(),
        reports: Vec::new(),
        lines: Vec::new(),
        local_state: false,
        check_steps: false,
        race: Default::default(),
    }
}

pub fn build(spec: &Spec, variant: &Variant) -> (Kernel, Vec<Body>) {
    let mut k = empty_kernel(variant);
    k.ncpus = spec.ncpus.max(1);
    k.exit_list = (0u32..)
        .zip(&spec.exit_callbacks)
        .map(|(i, f)| (u32::MAX - i, *f))
        .collect();
    k.alloc_fail = spec.alloc_fail.clone();
    k.max_steps = spec.max_steps;
    deadlwp_init(&mut k);
    let mut bodies = Vec::new();
    let mut procs: Vec<ProcSpec> = spec.procs.clone();
    if !procs.iter().any(|p| p.pid == INITPID) {
        procs.insert(
            0,
            ProcSpec {
                pid: INITPID,
                ..Default::default()
            },
        );
    }
    for ps in &procs {
        let mut flags = P_MAYBETHREADED;
        if ps.ctty {
            flags |= P_CONTROLT;
        }
        if ps.traced {
            flags |= P_TRACED;
        }
        if ps.ppwait {
            flags |= P_PPWAIT;
        }
        if ps.continued {
            flags |= P_CONTINUED;
        }
        let mut ps_flag = 0;
        if ps.nocldwait {
            ps_flag |= PS_NOCLDWAIT;
        }
        // SIG_IGN on SIGCHLD is PS_CLDSIGIGN (kern_sigaction sets both).
        if ps.cldsigign || ps.ignore.iter().any(|s| s.0 == SIGCHLD) {
            ps_flag |= PS_CLDSIGIGN;
        }
        let init_actor = ps.pid == INITPID && spec.init_waits;
        let nlwps = if init_actor { 1 } else { ps.lwps.len() };
        let mut tree = Vec::new();
        for t in 0..nlwps {
            let l = k.lwps.len();
            let cpu = ps.lwps.get(t).map_or(0, |x| x.cpu) % k.ncpus;
            let actor = k.actors.len();
            let label = if ps.pid == INITPID {
                "init".to_string()
            } else {
                format!("pid {} lwp {}", ps.pid, t + 1)
            };
            let idle_on = if init_actor {
                vec![Ident::Proc(INITPID), Ident::User(l)]
            } else {
                vec![Ident::User(l)]
            };
            k.actors.push(new_actor(ActorKind::Lwp(l), label, idle_on));
            k.lwps.push(Lwp {
                tid: t as u32 + 1,
                pid: ps.pid,
                cpu,
                actor,
                mpflags: 0,
                lock: 0,
                sigkill: false,
                td_flags: TDF_RUNNING,
                td_mpflags: 0,
                td_refs: 0,
                freed: false,
                td_freed: false,
                stale_next: None,
            });
            tree.push(l);
            bodies.push(if init_actor {
                Body::Init(l)
            } else {
                Body::Script(l, ps.lwps[t].script.clone())
            });
        }
        k.procs.insert(
            ps.pid,
            Proc {
                pid: ps.pid,
                pptr: (ps.pid != INITPID).then_some(if ps.parent == 0 {
                    INITPID
                } else {
                    ps.parent
                }),
                children: Vec::new(),
                stat: if ps.stopped { SSTOP } else { SACTIVE },
                flags,
                xstat: if ps.stopped { SIGSTOP } else { 0 },
                lock: 0,
                waitgen: WaitGen(0),
                nthreads: nlwps as i32,
                lwp_tree: tree,
                pgid: ps.pgid.unwrap_or(ps.pid),
                pgrp: Some(ps.pgid.unwrap_or(ps.pid)),
                pg_next: None,
                sigparent: SIGCHLD,
                tty_pgrp: ps.tty_pgrp,
                oppid: ps.oppid,
                ps_flag,
                sigchld_caught: ps.sigchld_caught
                    || ps.pid == INITPID
                    || ps.catch.iter().any(|s| s.0 == SIGCHLD),
                killed: false,
                fatal: 0,
                caught: 0,
                sigcatch: signal_bits(&ps.catch),
                sigignore: signal_bits(&ps.ignore),
                sigchld: false,
                in_allproc: true,
                freed: false,
            },
        );
    }
    // p_children in LIST_INSERT_HEAD order: the last forked child first.
    let pids: Vec<Pid> = k.procs.keys().copied().collect();
    for &pid in &pids {
        if let Some(pp) = k.procs[&pid].pptr {
            k.procs
                .get_mut(&pp)
                .expect("validated parent")
                .children
                .insert(0, pid);
        }
    }
    // A vfork parent has held its child since sys_vfork (PHOLD, kern_fork.c:136): its
    // script begins with the vfork wait, which releases the hold (validated).
    for ps in &procs {
        let vforker = procs.iter().find(|p| p.pid == ps.parent);
        let held = ps.ppwait
            && vforker.is_some_and(|p| {
                p.lwps.first().and_then(|l| l.script.first())
                    == Some(&Op::VforkWait { pid: ps.pid })
            });
        if held {
            k.procs.get_mut(&ps.pid).expect("built").lock = 1;
        }
    }
    // pg_members in ascending pid order (LIST_INSERT_HEAD from the highest pid down).
    for pid in pids.iter().rev() {
        let g = k.procs[pid].pgid;
        let head = k.pgrps.entry(g).or_default();
        let old = head.first.replace(*pid);
        k.procs.get_mut(pid).expect("listed").pg_next = old;
    }
    for cpu in spec.reaper_cpus() {
        let label = format!("reaper cpu{cpu}");
        k.actors.push(new_actor(
            ActorKind::Reaper(cpu),
            label,
            vec![Ident::TaskQueue(cpu)],
        ));
        bodies.push(Body::Reaper(cpu));
    }
    (k, bodies)
}

/// Every object a scheduling point can name in this kernel.
pub fn all_objects(k: &Kernel) -> Vec<Obj> {
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
        v.extend([Ident::Lwp(l), Ident::Td(l), Ident::User(l)].map(Obj::Ident));
    }
    for c in 0..k.ncpus {
        v.extend([Obj::Tok(Tok::Deadlwp(c)), Obj::Ident(Ident::TaskQueue(c))]);
    }
    v
}

fn new_actor(kind: ActorKind, label: String, idle_on: Vec<Ident>) -> Actor {
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

/// Run one execution of `spec` on `engine`; `spawn` starts an engine thread and returns its
/// join function.
pub fn execute<E: Engine>(spec: &Spec, variant: &Variant, engine: E, spawn: &Spawner) -> Outcome {
    let mut out = execute_keeping_kernel(spec, variant, engine, spawn);
    out.kernel = None;
    out
}

/// `execute`, keeping the final kernel state in `Outcome::kernel`: a violation can then be
/// judged by the state it left (`kexit fuzz` tells a scenario that blocks by construction
/// from a lost wakeup this way).
pub fn execute_keeping_kernel<E: Engine>(
    spec: &Spec,
    variant: &Variant,
    engine: E,
    spawn: &Spawner,
) -> Outcome {
    let (kernel, bodies) = build(spec, variant);
    let bodies: Vec<ActorBody<E>> = bodies
        .into_iter()
        .map(|b| -> ActorBody<E> {
            match b {
                Body::Script(l, ops) => Box::new(move |cx| run_script(cx, l, &ops)),
                Body::Init(l) => Box::new(move |cx| run_init(cx, l)),
                Body::Reaper(cpu) => Box::new(move |cx| run_reaper(cx, cpu)),
            }
        })
        .collect();
    let mut out = run_bodies(kernel, bodies, engine, spawn);
    if out.violation.is_none() {
        let mut k = out.kernel.take().expect("kernel");
        final_checks(&mut k, spec);
        out.violation = k.violation.clone();
        out.kernel = Some(k);
    }
    out
}

/// Run `bodies` (one per actor of `kernel`) to the end on `engine`.
pub fn run_bodies<E: Engine>(
    mut kernel: Kernel,
    bodies: Vec<ActorBody<E>>,
    mut engine: E,
    spawn: &Spawner,
) -> Outcome {
    let n = kernel.actors.len();
    engine.prepare(&all_objects(&kernel), n);
    kernel.local_state = engine.local_state();
    kernel.check_steps = engine.check_steps();
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
        violation: kernel.violation.clone(),
        trace: Vec::new(),
        labels: kernel.actors.iter().map(|a| a.label.clone()).collect(),
        schedule: Vec::new(),
        points: kernel.points,
        lines: kernel.lines.clone(),
        kernel: None,
    };
    let mut kernel = kernel;
    out.trace = std::mem::take(&mut kernel.trace);
    out.schedule = std::mem::take(&mut kernel.schedule);
    if let Some(cut) = kernel.schedule_cut {
        out.schedule.truncate(cut);
    }
    out.kernel = Some(kernel);
    out
}

fn run_actor<E: Engine>(sys: &Sys<E>, me: ActorId, body: ActorBody<E>) {
    sys.threads.lock()[me] = Some(sys.engine.current(me));
    let cx = Cx { sys, me };
    let r = body(&cx);
    debug_assert!(r.is_err(), "actor bodies end by unwinding");
    cx.finish();
}

use crate::checks::final_checks;
use crate::script::do_op;

fn run_script<E: Engine>(cx: &Cx<'_, E>, l: LwpId, ops: &[Op]) -> KR<()> {
    let head = ext!("script", "run_script");
    for (i, op) in ops.iter().enumerate() {
        // Between two operations only the position in the script is live.
        cx.restart(head, i);
        do_op(cx, op)?;
        cx.userret()?;
    }
    // The script is done: the LWP stays in user mode (pause(2)) until it is killed.
    loop {
        cx.restart(head, ops.len());
        cx.tsleep(
            ext!("kern_sig.c", "sys_pause"),
            Ident::User(l),
            PCATCH,
            "pause",
            false,
        )?;
        cx.userret()?;
    }
}

fn run_init<E: Engine>(cx: &Cx<'_, E>, l: LwpId) -> KR<()> {
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

fn run_reaper<E: Engine>(cx: &Cx<'_, E>, cpu: u8) -> KR<()> {
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

/// Signals as bits (bit n: signal n), SIGCHLD left out (it has fields of its own).
fn signal_bits(sigs: &[crate::spec::Signal]) -> u64 {
    sigs.iter()
        .filter(|s| s.0 != SIGCHLD && (1..64).contains(&s.0))
        .fold(0, |m, s| m | 1 << s.0)
}
