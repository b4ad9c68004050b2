//! Generated scenarios: `arbitrary` turns any bytes into a well-formed scenario of bounded size
//! (at most 4 processes besides init, 1 or 2 LWPs each, 3 operations per LWP and a
//! migration), for fuzzing and property tests. One in four has two cpus, with LWPs on either
//! and some migrating; one in six shares its cpus (`shared_cpus`); some groups share pid 2's
//! session, so job control (pg_jobc, orphaned groups, tty stops) comes into play. Generated
//! scenarios carry no expectations: they are checked against the invariants only.
//! Operations: every one the scenario language has (a terminal's signal to one of the
//! declared process groups included), with the targets a real program could give them (a
//! process only attaches to a later-declared, so never an ancestor, untraced process, at most
//! once: the model refuses those with EINVAL and EBUSY as kern_ptrace does, so generating
//! them would only add refusals). Detach, PT_CONTINUE and PT_KILL name any child:
//! kern_ptrace refuses them unless the caller traces it and has waited for its stop.

use crate::spec::{LwpSpec, Op, ProcSpec, SigchldAction, Signal, Spec, WaitOpt};
use arbitrary::{Arbitrary, Result, Unstructured};
use kexit_model::flags::{SIGSTOP, SIGTERM, SIGTSTP};

pub const MAX_PROCS: usize = 4;
pub const MAX_LWPS: usize = 2;
pub const MAX_OPS: usize = 3;
pub const MAX_ACTORS: usize = 9;

#[derive(Debug, Clone)]
pub struct Generated(pub Spec);

impl<'a> Arbitrary<'a> for Generated {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let nprocs = u.int_in_range(1..=MAX_PROCS)?;
        let init_waits = u.arbitrary()?;
        let mut actors = init_waits as usize;
        let mut procs: Vec<ProcSpec> = Vec::new();
        for i in 0..nprocs {
            let pid = i as u32 + 2;
            // A parent declared earlier (or init): never a cycle.
            let parent = if i == 0 {
                1
            } else {
                *u.choose(&(1..pid).filter(|p| *p == 1 || *p >= 2).collect::<Vec<_>>())?
            };
            procs.push(ProcSpec {
                pid,
                parent,
                pgid: if u.ratio(1, 4)? { Some(2) } else { None },
                traced: u.ratio(1, 6)?,
                nocldwait: u.ratio(1, 6)?,
                cldsigign: u.ratio(1, 8)?,
                ppwait: u.ratio(1, 8)?,
                stopped: u.ratio(1, 8)?,
                continued: u.ratio(1, 8)?,
                sigchld_caught: u.ratio(1, 4)?,
                ctty: u.ratio(1, 2)?,
                // A handler for SIGUSR1 or SIG_IGN on SIGTERM now and then (the kill
                // operation sends those too).
                catch: if u.ratio(1, 6)? {
                    vec![Signal(30)]
                } else {
                    vec![]
                },
                ignore: if u.ratio(1, 8)? {
                    vec![Signal(15)]
                } else {
                    vec![]
                },
                ..Default::default()
            });
        }
        let pids: Vec<u32> = procs.iter().map(|p| p.pid).collect();
        let mut pgids: Vec<u32> = procs.iter().map(|p| p.group()).collect();
        pgids.sort_unstable();
        pgids.dedup();
        // Processes that are or will be traced: ptrace attaches to each at most once.
        let mut traced: Vec<u32> = procs.iter().filter(|p| p.traced).map(|p| p.pid).collect();
        // (parent, child) of the children created by vfork (P_PPWAIT).
        let vfork: Vec<(u32, u32)> = procs
            .iter()
            .filter(|c| c.ppwait)
            .map(|c| (c.parent, c.pid))
            .collect();
        for p in procs.iter_mut() {
            let nlwps = u
                .int_in_range(1..=MAX_LWPS)?
                .min(MAX_ACTORS - actors)
                .max(1);
            // Only a single-threaded parent waits for its vfork child: in the kernel the
            // waiting thread holds the child from fork on, which the model's vfork_wait
            // (a hold taken when the operation runs) matches only if nothing else of the
            // parent can reap the child first.
            let vforked = |pid: u32| -> Vec<u32> {
                vfork
                    .iter()
                    .filter(|(pp, _)| *pp == pid && nlwps == 1)
                    .map(|(_, c)| *c)
                    .collect()
            };
            for _ in 0..nlwps {
                let nops = u.int_in_range(0..=MAX_OPS)?;
                let mut script = Vec::new();
                for _ in 0..nops {
                    let first = script.is_empty();
                    let targets = Targets {
                        pids: &pids,
                        pgids: &pgids,
                        vforked: &vforked(p.pid),
                    };
                    script.push(op(u, p.pid, &targets, &mut traced, first)?);
                }
                p.lwps.push(LwpSpec { cpu: 0, script });
                actors += 1;
            }
        }
        let alloc_fail = if u.ratio(1, 4)? { vec![1] } else { vec![] };
        // Decided last, so that the choices above stay what they were for the same bytes;
        // `!ratio(3, 4)` (one in four) is false once the bytes run out.
        let ncpus = if !u.ratio(3, 4)? { 2 } else { 1 };
        if ncpus == 2 {
            place_on_two_cpus(u, &mut procs)?;
        }
        let shared_cpus = !u.ratio(5, 6)?;
        job_control(u, &mut procs)?;
        Ok(Generated(Spec {
            name: "generated".into(),
            description: "generated by arbitrary".into(),
            ncpus,
            init_waits,
            shared_cpus,
            reapers: None,
            procs,
            alloc_fail,
            exit_callbacks: vec![],
            max_steps: 3000,
            loom_bound: Some(2),
            expect_reaped: vec![],
            expect_zombies: vec![],
            known_finding: None,
        }))
    }
}

/// Job control, decided after everything else: a process alone in its group joins pid 2's
/// session now and then (pid 2's group is always in it), so a parent in another group of that
/// session qualifies the group and an exit can orphan it (fixjobc, orphanpg); and some of the
/// stop and terminate signals sent become SIGTSTP, which an orphaned group's members discard.
fn job_control(u: &mut Unstructured<'_>, procs: &mut [ProcSpec]) -> Result<()> {
    for p in procs
        .iter_mut()
        .filter(|p| p.pid != 2 && p.group() == p.pid)
    {
        if !u.ratio(2, 3)? {
            p.session = Some(2);
        }
    }
    let ops = procs
        .iter_mut()
        .flat_map(|p| p.lwps.iter_mut())
        .flat_map(|l| l.script.iter_mut());
    for op in ops {
        if let Op::Kill { sig, .. } | Op::Killpg { sig, .. } = op {
            if matches!(sig.0, SIGTERM | SIGSTOP) && !u.ratio(1, 2)? {
                sig.0 = SIGTSTP;
            }
        }
    }
    Ok(())
}

/// Two cpus: each LWP starts on either, and now and then migrates to the other one at some
/// point of its script (usched_set(USCHED_SET_CPU), finding F10's path).
fn place_on_two_cpus(u: &mut Unstructured<'_>, procs: &mut [ProcSpec]) -> Result<()> {
    for l in procs.iter_mut().flat_map(|p| p.lwps.iter_mut()) {
        l.cpu = u.int_in_range(0..=1)?;
        if !u.ratio(2, 3)? {
            // A vfork parent's wait stays first: the model's hold on the child stands for the
            // one fork took.
            let first = matches!(l.script.first(), Some(Op::VforkWait { .. })) as usize;
            let at = u.int_in_range(first..=l.script.len())?;
            l.script.insert(at, Op::Migrate { cpu: 1 - l.cpu });
        }
    }
    Ok(())
}

/// What an operation of one LWP can name: the declared processes and process groups, and
/// the LWP's process's children with P_PPWAIT when that process is single-threaded.
struct Targets<'t> {
    pids: &'t [u32],
    pgids: &'t [u32],
    vforked: &'t [u32],
}

/// One operation of an LWP of `me`; `first` says whether this is the LWP's first operation.
fn op(
    u: &mut Unstructured<'_>,
    me: u32,
    t: &Targets<'_>,
    traced: &mut Vec<u32>,
    first: bool,
) -> Result<Op> {
    let (pids, vforked) = (t.pids, t.vforked);
    let children: Vec<i32> = pids
        .iter()
        .filter(|p| **p > me)
        .map(|p| *p as i32)
        .collect();
    Ok(match u.int_in_range(0..=16)? {
        0 => Op::Exit {
            code: u.int_in_range(0..=3)?,
        },
        1 => Op::Extexit {
            who: *u.choose(&[0, 0x1_0000, 0x2_0000])?,
            action: *u.choose(&[0, 1, 7])?,
            status: u.int_in_range(0..=3)?,
            addr_ok: u.ratio(3, 4)?,
            expect_errno: None,
        },
        2 | 3 => {
            let mut sel = vec![-1, 0];
            sel.extend(children.iter().copied());
            let mut options = Vec::new();
            for o in [WaitOpt::Wnohang, WaitOpt::Wuntraced, WaitOpt::Wcontinued] {
                if u.ratio(1, 4)? {
                    options.push(o);
                }
            }
            Op::Wait {
                pid: *u.choose(&sel)?,
                options,
                rusage: u.ratio(1, 4)?,
                expect: None,
            }
        }
        // SIGKILL mostly; also signals whose default action kills (TERM), dumps core (QUIT),
        // stops or continues, one that is ignored by default (WINCH) and USR1.
        4 => Op::Kill {
            pid: *u.choose(pids)?,
            sig: Signal(*u.choose(&[9, 9, 9, 15, 3, 30, 17, 19, 28])?),
        },
        5 => Op::Exec,
        6 => Op::AtExit {
            callback: u.int_in_range(1..=2)?,
            expect_errno: None,
        },
        7 => Op::RmAtExit {
            callback: u.int_in_range(1..=2)?,
            expect_removed: None,
        },
        8 => Op::Sleep {
            pcatch: u.arbitrary()?,
        },
        9 => Op::Stop {
            pid: *u.choose(pids)?,
        },
        10 => Op::Cont {
            pid: *u.choose(pids)?,
        },
        11 => Op::Sigchld {
            action: *u.choose(&[
                SigchldAction::Catch,
                SigchldAction::Ignore,
                SigchldAction::Default,
            ])?,
        },
        12 => Op::Scan {
            pid: *u.choose(pids)?,
            zombies: u.arbitrary()?,
        },
        // vfork: the parent waits for a child created with P_PPWAIT (see `Generated`).
        13 if !vforked.is_empty() && first => Op::VforkWait {
            pid: *u.choose(vforked)?,
        },
        14 => {
            let free: Vec<u32> = children
                .iter()
                .map(|c| *c as u32)
                .filter(|c| !traced.contains(c) && !vforked.contains(c))
                .collect();
            if free.is_empty() {
                Op::Exec
            } else {
                let pid = *u.choose(&free)?;
                traced.push(pid);
                Op::Attach {
                    pid,
                    expect_errno: None,
                }
            }
        }
        15 if !children.is_empty() => {
            let pid = *u.choose(&children)? as u32;
            match u.int_in_range(0..=2)? {
                0 => Op::Detach {
                    pid,
                    sig: Signal(0),
                    expect_errno: None,
                },
                1 => Op::PtraceContinue {
                    pid,
                    sig: Signal(*u.choose(&[0, 15])?),
                    expect_errno: None,
                },
                _ => Op::PtraceKill {
                    pid,
                    expect_errno: None,
                },
            }
        }
        16 if u.ratio(1, 2)? => Op::Pgsignal {
            pgid: *u.choose(t.pgids)?,
            sig: kexit_model::flags::SIGWINCH,
        },
        16 => Op::Killpg {
            pgid: *u.choose(t.pgids)?,
            sig: Signal(*u.choose(&[kexit_model::flags::SIGWINCH, 15])?),
            expect_errno: None,
        },
        _ => Op::Sleep {
            pcatch: u.arbitrary()?,
        },
    })
}

/// Deterministic pseudo-random bytes (xorshift) to feed `Generated::arbitrary` in tests.
pub fn pseudo_random_bytes(state: &mut u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| {
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            *state as u8
        })
        .collect()
}
