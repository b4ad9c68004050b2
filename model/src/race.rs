//! The race check: a happens-before check (vector clocks, as in a data-race detector) on the
//! shared state that no token orders by itself: the plain words (`p_flag`, `p_stat`,
//! `td_flags`), the exit callout list and the signal dispositions. Two accesses by different
//! actors, one of them a write, with nothing ordering them are a race, reported where the
//! second one happens.
//!
//! What orders two accesses is what orders them in the kernel, not the model's own lock:
//! - a token: what its holder did before releasing it (or losing it by blocking) happens
//!   before what the next holder does after acquiring it; shared holders are ordered after
//!   exclusive ones, not with each other;
//! - an atomic operation on a word (every `atomic_*` is a full barrier on x86), and a plain
//!   load of a word the kernel only changes atomically (`p_lock`, `p_waitgen`, `td_mpflags`):
//!   what came before the last atomic update happens before what follows the load;
//! - a wakeup or a signal that makes a sleeper runnable: what the waker did before happens
//!   before what the sleeper does after.
//!
//! An atomic update of a word the kernel also writes plainly (`p_flag`) races only with an
//! unordered plain store of it (which can undo the update).
//!
//! Reads the seed makes on purpose without the lock that orders the writes (and re-checks
//! under it) are listed in `DELIBERATE`, each with why it is safe; they are neither checked
//! nor remembered. Accesses the model makes silently (under a token, `Cx::k`) are not seen:
//! the token-protected fields among them are checked by `Kernel::need`
//! (ASSERT_LWKT_TOKEN_HELD) instead.

use crate::engine::ActorId;
use crate::flags::Pid;
use crate::site::Site;
use crate::trace::{Field, Tok, What};
use std::collections::HashMap;

type Clock = Vec<u32>;

/// A piece of shared state the race check watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Data {
    Word(Field),
    /// exit_list (kern_exit.c:95-96): nothing locks it.
    ExitList,
    /// A process's signal dispositions (p_sigacts).
    Sigacts(Pid),
}

impl std::fmt::Display for Data {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Data::Word(w) => write!(f, "{w}"),
            Data::ExitList => write!(f, "exit_list"),
            Data::Sigacts(p) => write!(f, "p_sigacts(pid {p})"),
        }
    }
}

/// How an access touches a piece of state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Read,
    Write,
    /// An atomic read-modify-write of a word the kernel also writes plainly (`p_flag`): it
    /// races with an unordered plain store, which can undo it (a lost update), not with a read
    /// (the atomic is indivisible) nor with another atomic.
    Atomic,
}

/// One access, as the check remembers it.
#[derive(Clone, Copy, Debug)]
pub struct Access {
    pub actor: ActorId,
    /// The actor's own clock element when it made the access.
    epoch: u32,
    /// The step of the trace (`Kernel::step`) it belongs to.
    pub step: u32,
    pub site: &'static Site,
    pub kind: Kind,
    /// The bits of a word the access tests (a read) or may change (a write).
    mask: u64,
}

/// Two unordered accesses to `data`, `second` just now.
#[derive(Clone, Debug)]
pub struct Race {
    pub data: Data,
    pub first: Access,
    pub second: Access,
}

/// Reads the seed makes without the lock that orders the writes, on purpose: (function, seed
/// line, why it is safe).
pub const DELIBERATE: &[(&str, u32, &str)] = &[
    (
        "exit1",
        549,
        "the parent's ps_flag, read once without its p_token: a sigaction racing with the exit \
         takes effect before or after it (word-sized, so either value is whole), and a zombie \
         left to a parent that has just set SIG_IGN is still reaped by its kern_wait",
    ),
    (
        "kern_wait",
        902,
        "SZOMB is final once set; a stale answer (not yet a zombie) is caught by the \
         p_waitgen re-check before the sleep (1120-1123), which exit1 bumps after 488 (490)",
    ),
    (
        "dokillpg",
        0,
        "kern_sig.c's test of p_stat == SZOMB: SZOMB is final once set, and a process found \
         not yet a zombie is signalled under its p_token, where lwpsignal sees P_WEXIT",
    ),
    (
        "orphanpg",
        0,
        "kern_proc.c's test of each member's p_stat == SSTOP, under the group's pg_token and \
         not the member's p_token: a stop or an exit racing with the scan is seen before or \
         after it (word-sized), and a stop seen after may be taken as made after the group was \
         orphaned; only a tty stop, which an orphaned group's member discards, makes that \
         wrong, and the orphaned-stop check reports it (finding F15)",
    ),
    (
        "kern_wait",
        1050,
        "a pre-check for a stopped child; 1052-1065 take the child's p_token and test again",
    ),
];

fn deliberate(site: &Site) -> bool {
    DELIBERATE
        .iter()
        .any(|(f, l, _)| *f == site.func && *l == site.line)
}

/// A word the kernel only changes with atomic operations: its accesses synchronize.
fn atomic_word(f: Field) -> bool {
    !matches!(f, Field::PFlags(_) | Field::PStat(_) | Field::TdFlags(_))
}

/// The accesses a later one may race with. Two writes race whatever their bits, so the writes
/// kept are ordered one after another; an earlier one stays while it may change bits the later
/// ones do not (a read of those bits may race with it alone).
#[derive(Default, Clone)]
struct Shadow {
    writes: Vec<Access>,
    reads: Vec<Access>,
}

#[derive(Default, Clone)]
pub struct RaceCheck {
    clocks: Vec<Clock>,
    /// What the exclusive and the shared holders of each token released.
    toks: HashMap<Tok, (Clock, Clock)>,
    atomics: HashMap<Field, Clock>,
    shadow: HashMap<Data, Shadow>,
    /// What a thread did before it switched out, for the cpu's next thread, which runs its
    /// lwkt_switch_return (`lwkt.rs`).
    switched: HashMap<usize, Clock>,
}

fn join(a: &mut Clock, b: &Clock) {
    if a.len() < b.len() {
        a.resize(b.len(), 0);
    }
    for (x, y) in a.iter_mut().zip(b) {
        *x = (*x).max(*y);
    }
}

impl RaceCheck {
    fn clock(&mut self, a: ActorId) -> &mut Clock {
        if self.clocks.len() <= a {
            self.clocks.resize_with(a + 1, Vec::new);
        }
        let c = &mut self.clocks[a];
        if c.len() <= a {
            c.resize(a + 1, 0);
        }
        // Epochs start at 1: another actor's clock holds 0 for an actor it knows nothing of.
        if c[a] == 0 {
            c[a] = 1;
        }
        c
    }

    /// `a` publishes what it did so far into `into` and goes on in a new epoch.
    fn release(clocks: &mut [Clock], a: ActorId, into: &mut Clock) {
        join(into, &clocks[a]);
        clocks[a][a] += 1;
    }

    fn acquire_token(&mut self, a: ActorId, t: Tok, shared: bool) {
        self.clock(a);
        let (excl, sh) = self.toks.entry(t).or_default();
        join(&mut self.clocks[a], excl);
        if !shared {
            join(&mut self.clocks[a], sh);
        }
    }

    fn release_token(&mut self, a: ActorId, t: Tok, shared: bool) {
        self.clock(a);
        let (excl, sh) = self.toks.entry(t).or_default();
        Self::release(&mut self.clocks, a, if shared { sh } else { excl });
    }

    /// An atomic read-modify-write (or, `write` false, a load of an atomic word).
    fn atomic(&mut self, a: ActorId, f: Field, write: bool) {
        self.clock(a);
        let loc = self.atomics.entry(f).or_default();
        join(&mut self.clocks[a], loc);
        if write {
            Self::release(&mut self.clocks, a, loc);
        }
    }

    /// Actor `a` switches LWP `l`'s thread out: what it did happens before the switch-return
    /// that the cpu's next thread runs for it (`switch_return`).
    pub fn switch_out(&mut self, a: ActorId, l: usize) {
        self.clock(a);
        let into = self.switched.entry(l).or_default();
        Self::release(&mut self.clocks, a, into);
    }

    /// Actor `a` runs the switch-return of LWP `l`'s thread on the cpu it left.
    pub fn switch_return(&mut self, a: ActorId, l: usize) {
        self.clock(a);
        if let Some(c) = self.switched.get(&l) {
            join(&mut self.clocks[a], c);
        }
    }

    /// `by` makes the sleeping `woken` runnable (a wakeup, a signal).
    pub fn wake(&mut self, by: ActorId, woken: ActorId) {
        self.clock(woken);
        self.clock(by);
        let mut c = std::mem::take(&mut self.clocks[by]);
        join(&mut self.clocks[woken], &c);
        c[by] += 1;
        self.clocks[by] = c;
    }

    /// The synchronization in a step of `a` recorded as `what`; `shared_of` says whether `a`
    /// holds a token shared.
    pub fn observe(&mut self, a: ActorId, what: &What, shared_of: impl Fn(Tok) -> bool) {
        match what {
            What::TokAcquired(t, shared) => self.acquire_token(a, *t, *shared),
            What::TokReacquired(ts) => ts
                .iter()
                .for_each(|t| self.acquire_token(a, *t, shared_of(*t))),
            What::TokReleased(t) => self.release_token(a, *t, shared_of(*t)),
            What::TokLostByBlocking(ts) => ts
                .iter()
                .for_each(|t| self.release_token(a, *t, shared_of(*t))),
            What::Atomic { field, .. } | What::CmpsetFailed { field, .. } => {
                self.atomic(a, *field, true)
            }
            What::Load { field, .. } if atomic_word(*field) => self.atomic(a, *field, false),
            What::Store { field, .. } if atomic_word(*field) => self.atomic(a, *field, true),
            _ => {}
        }
    }

    /// An access by `a` to `data` at `site`, to the bits in `mask` (a word's; `u64::MAX` for
    /// the rest): the race it makes with an earlier access, if any. A read races with a write
    /// that may change a bit it tests; two writes always race (a store writes the whole word).
    pub fn access(
        &mut self,
        a: ActorId,
        step: u32,
        site: &'static Site,
        data: Data,
        kind: Kind,
        mask: u64,
    ) -> Option<Race> {
        if kind == Kind::Read && deliberate(site) {
            return None;
        }
        let epoch = self.clock(a)[a];
        let c = &self.clocks[a];
        let ordered = |x: &Access| x.actor == a || c.get(x.actor).is_some_and(|e| *e >= x.epoch);
        let sh = self.shadow.entry(data).or_default();
        let conflicts = |x: &Access| match (x.kind, kind) {
            (Kind::Atomic, k) | (k, Kind::Atomic) => k == Kind::Write,
            (Kind::Write, Kind::Write) => true,
            _ => x.mask & mask != 0,
        };
        let earlier = sh
            .writes
            .iter()
            .chain(if kind == Kind::Write {
                &sh.reads[..]
            } else {
                &[]
            })
            .find(|x| conflicts(x) && !ordered(x))
            .copied();
        let now = Access {
            actor: a,
            epoch,
            step,
            site,
            kind,
            mask,
        };
        match kind {
            Kind::Atomic => {
                // Atomics need not be ordered with each other: keep each actor's last one.
                sh.writes
                    .retain(|w| !(w.kind == Kind::Atomic && w.actor == a));
                sh.writes.push(now);
            }
            Kind::Write => {
                sh.writes.retain(|w| w.mask & !mask != 0);
                sh.writes.push(now);
                sh.reads.clear();
            }
            Kind::Read => {
                sh.reads.retain(|r| r.actor != a);
                sh.reads.push(now);
            }
        }
        earlier.map(|first| Race {
            data,
            first,
            second: now,
        })
    }
}

impl crate::kernel::Kernel {
    /// An access by `me` at `site` to state the race check watches that no load or store
    /// records (the exit callout list, the signal dispositions), made by the step the caller
    /// records next.
    pub fn race_access(&mut self, me: ActorId, site: &'static Site, data: Data, kind: Kind) {
        let step = self.sched.step + 1;
        if let Some(r) = self.race.access(me, step, site, data, kind, u64::MAX) {
            self.report_race(r);
        }
    }

    /// The access to word `f` just recorded (a plain load or store testing or changing the
    /// bits `mask`, or an atomic update); words the kernel changes only atomically
    /// synchronize instead (`RaceCheck::observe`).
    pub(crate) fn race_word(
        &mut self,
        me: ActorId,
        site: &'static Site,
        f: Field,
        kind: Kind,
        mask: u64,
    ) {
        if atomic_word(f) {
            return;
        }
        if let Some(r) = self
            .race
            .access(me, self.sched.step, site, Data::Word(f), kind, mask)
        {
            self.report_race(r);
        }
    }

    /// Raise `r` as the execution's violation.
    pub(crate) fn report_race(&mut self, r: Race) {
        let verb = |x: &Access| match x.kind {
            Kind::Atomic => "atomically updates",
            Kind::Write => "writes",
            Kind::Read => "reads",
        };
        let place = |x: &Access| {
            if x.site.is_seed() {
                format!("{} at {}:{}", x.site.func, x.site.file, x.site.line)
            } else {
                format!("{} ({})", x.site.func, x.site.file)
            }
        };
        let (a, b) = (&r.first, &r.second);
        let msg = format!(
            "{} {} {} in {} (step {}) and {} {} it in {} (step {}), and nothing orders the two \
             (no token held across both, no atomic, no wakeup in between)",
            self.label(a.actor),
            verb(a),
            r.data,
            place(a),
            a.step,
            self.label(b.actor),
            verb(b),
            place(b),
            b.step
        );
        let site = b.site;
        self.fail(
            Some(b.actor),
            crate::trace::ViolationKind::DataRace,
            Some(site),
            msg,
        );
    }
}
