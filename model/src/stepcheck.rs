//! The footprint check (`Engine::check_steps`): every write a step makes stays within what
//! its scheduling point declared, state protected by a token the actor holds exclusively, or
//! the actor's own state.
//!
//! Loom's reduction and the state engine's both take the objects a scheduling point names as
//! everything the step that follows touches, silent follow-ups (`Cx::k`) included. A write
//! outside them would make two steps look independent when they are not, and a reduction
//! could then skip an order that matters. This check compares, around every hold of the
//! kernel lock, the kernel state part by part, and raises a model error for a changed part
//! that the step may not change. Reads cannot be seen this way; they are left to review
//! (docs/model.md, "The state engine").

use crate::engine::{Access, ActorId};
use crate::flags::Pid;
use crate::kernel::Kernel;
use crate::trace::*;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

/// What a scheduling point declared: each object, and whether the step may write it.
/// `None`: the step may touch anything (`Engine::ordered_point`).
pub type Declared = Option<Vec<(Obj, bool)>>;

/// The declaration of a scheduling point on `objs`, of which only `reads` are read-only.
pub(crate) fn declared(objs: &[Obj], reads: &[Obj], access: Option<Access>) -> Declared {
    let read_only = |o: &Obj| access == Some(Access::Read) || reads.contains(o);
    Some(objs.iter().map(|o| (*o, !read_only(o))).collect())
}

/// One separately checked part of the kernel state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Word(Field),
    Proc(Pid, ProcPart),
    PgMembers(Pid),
    PgLock(Pid),
    PgJobc(Pid),
    Lwp(LwpId, LwpPart),
    Token(Tok),
    /// Another actor's run state and wait channel (its own are always its to change).
    Actor(ActorId),
    DeadLwps(u8),
    TaskPending(u8),
    SwitchPending(u8),
    ExitList,
    Allocs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum ProcPart {
    Exists,
    ByToken,
    Pgrp,
    PgNext,
    Signals,
    Sigacts,
    InAllproc,
    Freed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum LwpPart {
    Sigkill,
    Freed,
    /// Its p_lwp_tree links (`Lwp::stale_next`), under its process's p_token.
    Links,
}

/// The kernel state before a hold of the kernel lock, part by part (hashes), with the wait
/// channel each actor was on.
pub struct Snapshot {
    /// In the order `snapshot` visits them, which only a process or LWP coming or going
    /// changes.
    parts: Vec<(Part, u64)>,
    wchans: Vec<Option<Ident>>,
}

fn hash_of(v: impl Hash) -> u64 {
    let mut h = crate::fingerprint::Fx::default();
    v.hash(&mut h);
    h.finish()
}

pub(crate) fn snapshot(k: &Kernel) -> Snapshot {
    let mut parts = Vec::with_capacity(16 * k.procs.len() + 8 * k.lwps.len() + 32);
    let mut put = |p: Part, h: u64| parts.push((p, h));
    for (pid, p) in &k.procs {
        let pid = *pid;
        put(Part::Proc(pid, ProcPart::Exists), 0);
        put(Part::Word(Field::PFlags(pid)), p.flags);
        put(Part::Word(Field::PStat(pid)), p.stat);
        put(Part::Word(Field::PWaitgen(pid)), p.waitgen.0);
        put(Part::Word(Field::PLock(pid)), p.lock);
        let by_token = (
            (&p.pptr, &p.children, p.xstat, p.nthreads, &p.lwp_tree),
            (p.pgid, p.sigparent, p.oppid, p.jobc_gone),
        );
        put(Part::Proc(pid, ProcPart::ByToken), hash_of(by_token));
        put(Part::Proc(pid, ProcPart::Pgrp), hash_of(p.pgrp));
        put(Part::Proc(pid, ProcPart::PgNext), hash_of(p.pg_next));
        put(
            Part::Proc(pid, ProcPart::Signals),
            hash_of((p.killed, p.sigchld, p.fatal, p.caught, p.tsig)),
        );
        let sigacts = (p.ps_flag, p.sigchld_caught, p.sigcatch, p.sigignore);
        put(Part::Proc(pid, ProcPart::Sigacts), hash_of(sigacts));
        put(Part::Proc(pid, ProcPart::InAllproc), p.in_allproc as u64);
        put(Part::Proc(pid, ProcPart::Freed), p.freed as u64);
    }
    for (g, pg) in &k.pgrps {
        put(Part::PgMembers(*g), hash_of(pg.first));
        put(Part::PgLock(*g), hash_of(pg.lock_holder));
        put(Part::PgJobc(*g), hash_of(pg.jobc));
    }
    for (l, lwp) in k.lwps.iter().enumerate() {
        put(Part::Word(Field::LwpMpflags(l)), lwp.mpflags);
        put(Part::Word(Field::LwpLock(l)), lwp.lock);
        // td_gd and td_migrate_gd change only with td_flags (a migration's steps).
        let td = (lwp.td_flags, lwp.cpu, lwp.migrate_gd);
        put(Part::Word(Field::TdFlags(l)), hash_of(td));
        put(Part::Word(Field::TdMpflags(l)), lwp.td_mpflags);
        put(Part::Word(Field::TdRefs(l)), lwp.td_refs);
        put(Part::Lwp(l, LwpPart::Sigkill), lwp.sigkill as u64);
        put(Part::Lwp(l, LwpPart::Links), hash_of(lwp.stale_next));
        put(
            Part::Lwp(l, LwpPart::Freed),
            hash_of((lwp.freed, lwp.td_freed)),
        );
    }
    for (t, st) in &k.tokens {
        put(Part::Token(*t), hash_of(st));
    }
    for (i, a) in k.actors.iter().enumerate() {
        put(Part::Actor(i), hash_of((a.run, a.wchan, a.wpcatch)));
    }
    for (c, list) in k.deadlwp_list.iter().enumerate() {
        put(Part::DeadLwps(c as u8), hash_of(list));
    }
    for (c, t) in k.task_pending.iter().enumerate() {
        put(Part::TaskPending(c as u8), *t as u64);
    }
    for (c, list) in k.switch_pending.iter().enumerate() {
        put(Part::SwitchPending(c as u8), hash_of(list));
    }
    put(Part::ExitList, hash_of((&k.exit_list, &k.exit_freed)));
    put(Part::Allocs, k.allocs as u64);
    let wchans = k.actors.iter().map(|a| a.wchan).collect();
    Snapshot { parts, wchans }
}

/// Raises a model error if the hold of the kernel lock by `me` that began at `before`
/// changed a part the step may not change.
pub(crate) fn verify(k: &mut Kernel, me: ActorId, before: Snapshot) {
    if k.rec.violation.is_some() {
        return;
    }
    let after = snapshot(k);
    let same_shape = before.parts.len() == after.parts.len()
        && before
            .parts
            .iter()
            .zip(&after.parts)
            .all(|(b, a)| b.0 == a.0);
    let changed: Vec<Part> = if same_shape {
        let pairs = before.parts.iter().zip(&after.parts);
        pairs
            .filter(|(b, a)| b.1 != a.1)
            .map(|(_, a)| a.0)
            .collect()
    } else {
        let b: BTreeMap<Part, u64> = before.parts.iter().copied().collect();
        let a: BTreeMap<Part, u64> = after.parts.iter().copied().collect();
        let gone = b.keys().filter(|p| !a.contains_key(p));
        let new_or_changed = a
            .iter()
            .filter(|(p, h)| b.get(p) != Some(h))
            .map(|(p, _)| p);
        new_or_changed.chain(gone).copied().collect()
    };
    if changed.is_empty() {
        return;
    }
    let bad: Vec<Part> = changed
        .into_iter()
        .filter(|p| !may_change(k, me, *p, &before))
        .collect();
    if let Some(part) = bad.first() {
        let declared = match &k.actors[me].declared {
            None => "anything".to_string(),
            Some(v) => v
                .iter()
                .map(|(o, w)| format!("{o:?}{}", if *w { "" } else { " (read)" }))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let msg = format!(
            "a step changed {part:?}, outside what its scheduling point declared ({declared}) \
             and not protected by a token it holds: a reduction could miss an order"
        );
        k.fail(Some(me), ViolationKind::ModelError, None, msg);
    }
}

fn may_change(k: &Kernel, me: ActorId, part: Part, before: &Snapshot) -> bool {
    let Some(declared) = &k.actors[me].declared else {
        return true;
    };
    let writes = |o: Obj| declared.iter().any(|(x, w)| *x == o && *w);
    // Held, exclusively, at the end of the hold: the state is the actor's alone. (A token is
    // released by a step of its own, or by blocking after the writes of its hold.)
    let exclusive = |t: &Tok| {
        k.actors[me]
            .toks
            .iter()
            .any(|(x, _, shared)| x == t && !shared)
    };
    let owns = |t: Tok| k.holds(me, t) && exclusive(&t);
    let owns_any_pgrp = || {
        let toks = &k.actors[me].toks;
        toks.iter()
            .any(|(t, _, _)| matches!(t, Tok::Pgrp(_)) && owns(*t))
    };
    match part {
        Part::Word(f) => writes(Obj::Word(f)),
        // Or no other actor can reach the process any more (kern_wait clears p_xstat at 995
        // after dropping p_token: the zombie is off every list by then).
        Part::Proc(p, ProcPart::ByToken) => owns(Tok::Proc(p)) || unreachable(k, p),
        Part::Proc(p, ProcPart::Pgrp) => owns(Tok::Proc(p)) && owns_any_pgrp(),
        Part::Proc(_, ProcPart::PgNext) => owns_any_pgrp(),
        Part::Proc(p, ProcPart::Signals) => writes(Obj::Sig(p)),
        Part::Proc(p, ProcPart::Sigacts) => writes(Obj::Sigacts(p)),
        Part::Proc(_, ProcPart::InAllproc) => owns(Tok::ProcList),
        // Freeing a process is a step on all of it (its token, words and signals).
        Part::Proc(p, ProcPart::Exists | ProcPart::Freed) => writes(Obj::Tok(Tok::Proc(p))),
        Part::PgMembers(g) | Part::PgJobc(g) => owns(Tok::Pgrp(g)),
        Part::PgLock(g) => writes(Obj::Ident(Ident::PgLock(g))),
        Part::Lwp(l, LwpPart::Links) => owns(Tok::Proc(k.lwps[l].pid)),
        Part::Lwp(l, LwpPart::Sigkill) => writes(Obj::Sig(k.lwps[l].pid)),
        // Freeing an LWP is a step on all of it (lwp_dispose declares its token and words).
        Part::Lwp(l, LwpPart::Freed) => writes(Obj::Tok(Tok::Lwp(l))),
        Part::Token(t) => writes(Obj::Tok(t)),
        Part::Actor(i) if i == me => true,
        Part::Actor(i) => {
            let woken = before.wchans[i].is_some_and(|w| writes(Obj::Ident(w)));
            let signalled = match k.actors[i].kind {
                crate::kernel::ActorKind::Lwp(l) => writes(Obj::Sig(k.lwps[l].pid)),
                _ => false,
            };
            woken || signalled
        }
        Part::DeadLwps(c) => owns(Tok::Deadlwp(c)),
        Part::TaskPending(c) => writes(Obj::Ident(Ident::TaskQueue(c))),
        Part::SwitchPending(c) => writes(Obj::Ident(Ident::Switch(c))),
        Part::ExitList => writes(Obj::ExitList),
        // The only allocation the model counts is at_exit's kmalloc, under the exit list.
        Part::Allocs => writes(Obj::ExitList),
    }
}

/// No list, parent or group leads to the process: only the actor that took it off them can
/// touch it.
fn unreachable(k: &Kernel, p: Pid) -> bool {
    let proc = &k.procs[&p];
    !proc.in_allproc
        && proc.pptr.is_none()
        && proc.pgrp.is_none()
        && !k.procs.values().any(|q| q.children.contains(&p))
}
