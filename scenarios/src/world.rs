//! Builds a kernel from a scenario and runs one execution of it on an engine: the scenario's
//! scripts as the LWPs' user programs, init and the reapers as the model's daemons, then the
//! checks of the state the execution ends in.

use crate::checks::final_checks;
use crate::script::do_op;
use crate::spec::*;
use kexit_model::cx::Cx;
use kexit_model::engine::Engine;
use kexit_model::ext;
use kexit_model::flags::*;
use kexit_model::kern_exit::exit::INITPID;
use kexit_model::kern_exit::misc::deadlwp_init;
use kexit_model::kernel::*;
use kexit_model::lwkt::{run_idle, share_cpus};
use kexit_model::trace::*;
use kexit_model::variant::Variant;
use kexit_model::world::{
    empty_kernel, new_actor, run_bodies, run_init, run_reaper, ActorBody, Outcome, Spawner,
};

pub enum Body {
    /// An LWP's script; `true` when its process is declared stopped (it starts in tstop).
    Script(LwpId, Vec<Op>, bool),
    Init(LwpId),
    Reaper(u8),
    Idle(u8),
}

pub fn build(spec: &Spec, variant: &Variant) -> (Kernel, Vec<Body>) {
    let mut k = empty_kernel(variant);
    k.ncpus = spec.ncpus.max(1);
    k.exit_list = (0u32..)
        .zip(&spec.exit_callbacks)
        .map(|(i, f)| (u32::MAX - i, *f))
        .collect();
    k.alloc_fail = spec.alloc_fail.clone();
    k.sched.max_steps = spec.max_steps;
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
        let init_actor = ps.pid == INITPID && spec.init_waits;
        let tree = add_lwps(&mut k, &mut bodies, ps, init_actor);
        k.procs.insert(ps.pid, new_proc(ps, tree));
    }
    link_lists(&mut k, &procs);
    for cpu in spec.reaper_cpus() {
        let label = format!("reaper cpu{cpu}");
        k.actors.push(new_actor(
            ActorKind::Reaper(cpu),
            label,
            vec![Ident::TaskQueue(cpu)],
        ));
        bodies.push(Body::Reaper(cpu));
    }
    for cpu in spec.idle_cpus() {
        let label = format!("idle cpu{cpu}");
        k.actors.push(new_actor(
            ActorKind::Idle(cpu),
            label,
            vec![Ident::Switch(cpu)],
        ));
        bodies.push(Body::Idle(cpu));
    }
    if spec.shared_cpus {
        share_cpus(&mut k);
    }
    (k, bodies)
}

/// The LWPs of process `ps` with their actors and bodies (init's one, when it reaps); their
/// ids, in order.
fn add_lwps(k: &mut Kernel, bodies: &mut Vec<Body>, ps: &ProcSpec, init_actor: bool) -> Vec<LwpId> {
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
            // A process declared stopped has every LWP counted as stopped already.
            sigkill: false,
            wstop: ps.stopped,
            td_flags: TDF_RUNNING,
            td_mpflags: 0,
            td_refs: 0,
            freed: false,
            td_freed: false,
            migrate_gd: None,
            stale_next: None,
        });
        tree.push(l);
        bodies.push(if init_actor {
            Body::Init(l)
        } else {
            Body::Script(l, ps.lwps[t].script.clone(), ps.stopped)
        });
    }
    tree
}

/// Process `ps` as the scenario declares it, with the LWPs `tree`.
fn new_proc(ps: &ProcSpec, tree: Vec<LwpId>) -> Proc {
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
    if ps.nocldstop {
        ps_flag |= PS_NOCLDSTOP;
    }
    let nlwps = tree.len();
    Proc {
        pid: ps.pid,
        pptr: (ps.pid != INITPID).then_some(if ps.parent == 0 { INITPID } else { ps.parent }),
        children: Vec::new(),
        stat: if ps.stopped { SSTOP } else { SACTIVE },
        flags,
        xstat: if ps.stopped { SIGSTOP } else { 0 },
        lock: 0,
        waitgen: WaitGen(0),
        nthreads: nlwps as i32,
        nstopped: if ps.stopped { nlwps as i32 } else { 0 },
        lwp_tree: tree,
        pgid: ps.group(),
        pgrp: Some(ps.group()),
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
        tsig: 0,
        sigcatch: signal_bits(&ps.catch),
        // kern_sigaction never puts SIGCONT in p_sigignore (341-344): ignored, it still
        // continues a stopped process.
        sigignore: signal_bits(&ps.ignore) & !(1 << SIGCONT),
        sigchld: false,
        in_allproc: true,
        freed: false,
        jobc_gone: false,
    }
}

/// The lists the declared processes are on: p_children, the vfork parent's hold, pg_members.
fn link_lists(k: &mut Kernel, procs: &[ProcSpec]) {
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
    for ps in procs {
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
    // pg_session (one per group, validated), and pg_jobc as fork and setpgid's fixjobc
    // calls left it: the members whose parent is in another group of the same session.
    for ps in procs {
        k.pgrps.get_mut(&ps.group()).expect("listed").session = ps.session_id();
    }
    for pid in &pids {
        let p = &k.procs[pid];
        let (g, parent_group) = (p.pgid, p.pptr.map(|pp| k.procs[&pp].pgid));
        if let Some(h) = parent_group.filter(|h| *h != g) {
            if k.pgrps[&h].session == k.pgrps[&g].session {
                k.pgrps.get_mut(&g).expect("listed").jobc += 1;
            }
        }
    }
}

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
                Body::Script(l, ops, stopped) => {
                    Box::new(move |cx| run_script(cx, l, &ops, stopped))
                }
                Body::Init(l) => Box::new(move |cx| run_init(cx, l)),
                Body::Reaper(cpu) => Box::new(move |cx| run_reaper(cx, cpu)),
                Body::Idle(cpu) => Box::new(move |cx| run_idle(cx, cpu)),
            }
        })
        .collect();
    let mut out = run_bodies(kernel, bodies, engine, spawn);
    if out.violation.is_none() {
        let mut k = out.kernel.take().expect("kernel");
        final_checks(&mut k, spec);
        out.violation = k.rec.violation.clone();
        out.kernel = Some(k);
    }
    out
}

fn run_script<E: Engine>(cx: &Cx<'_, E>, l: LwpId, ops: &[Op], stopped: bool) -> KR<()> {
    let head = ext!("script", "run_script");
    // A process declared stopped has its LWPs halted in user mode: each is in tstop, which
    // its return to user mode reaches, until the process is set running. A vfork parent is
    // in the kernel, in vfork's wait for its child: it halts on its way out of it.
    if stopped && !matches!(ops.first(), Some(Op::VforkWait { .. })) {
        cx.restart(head, 0);
        cx.userret()?;
    }
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

/// Signals as bits (bit n: signal n), SIGCHLD left out (it has fields of its own).
fn signal_bits(sigs: &[crate::spec::Signal]) -> u64 {
    sigs.iter()
        .filter(|s| s.0 != SIGCHLD && (1..64).contains(&s.0))
        .fold(0, |m, s| m | 1 << s.0)
}
