//! State fingerprints for the state engine: 128 bits over everything that can change what
//! happens next, and nothing that only records what happened.
//!
//! - The kernel state: processes, process groups, LWPs and threads, token holders, each
//!   actor's tokens, run state, wait channel and sleep flags, the dead-LWP lists, pending
//!   reaper work, the exit list, allocation count, reaps recorded.
//! - Not the recording: trace, schedule, step and scheduling-point counters, coverage.
//!   Step numbers that the timed-sleep rule compares (`Run::Timed::began`, `Actor::last`)
//!   enter only as the comparisons the rule makes, so two states that differ only in how
//!   many steps it took to reach them are one state.
//! - Each actor's local state, which lives on its stack where nothing can snapshot it: the
//!   running digest of the site and the result of every step it took (`observe`, called for
//!   every trace event). An actor's code is deterministic given what its steps returned, so
//!   equal digests mean equal local states; `kexit check --engine state --audit` checks it.
//!   Scopes (`local.rs`) forget what no longer matters: after a call only its result, at a
//!   loop head only the loop's live values. Only an engine that reads fingerprints
//!   (`Engine::local_state`) pays for the digests; on the others they stay 0.

use crate::kernel::{Kernel, Run};
use crate::site::Site;
use crate::trace::What;
use std::cell::RefCell;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use xxhash_rust::xxh3::xxh3_128;

/// A `Hasher` that only collects the bytes `Hash` impls write; the fingerprint is xxh3-128
/// of them (derived `Hash` writes many small integers, which a byte buffer takes cheaply).
struct Bytes<'a>(&'a mut Vec<u8>);

impl Hasher for Bytes<'_> {
    fn write(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
    fn finish(&self) -> u64 {
        xxh3_128(self.0) as u64
    }
}

/// Leaves every actor's local state out of fingerprints: a deliberately broken fingerprint,
/// for the test that shows `--audit` catches one.
#[doc(hidden)]
pub static OMIT_LOCAL_STATE: AtomicBool = AtomicBool::new(false);

thread_local! {
    static BUF: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(4096));
}

/// xxh3-128 of what `f` writes, in a reused per-thread buffer.
fn digest_of(f: impl FnOnce(&mut Bytes<'_>)) -> u128 {
    BUF.with(|b| {
        let mut b = b.borrow_mut();
        b.clear();
        f(&mut Bytes(&mut b));
        xxh3_128(&b)
    })
}

/// Folds one step of an actor (where it was and what its code learnt) into its digest. The
/// site is identified by its address: every `at!`/`ext!` expansion is a static of its own, so
/// two code locations never share one. `used` is false when the calling code discards the
/// step's result (a PHOLD's old count).
pub fn observe(digest: &mut u128, site: &'static Site, what: &What, used: bool) {
    *digest = digest_of(|h| {
        digest.hash(h);
        (site as *const Site as usize).hash(h);
        if used {
            hash_seen(what, h);
        }
    });
}

/// A digest that continues `prev` with a site, a tag and a value (the local-state scopes of
/// `local.rs`).
pub(crate) fn fold<K: Hash + ?Sized>(prev: u128, site: &'static Site, tag: u8, key: &K) -> u128 {
    digest_of(|h| {
        prev.hash(h);
        (site as *const Site as usize).hash(h);
        tag.hash(h);
        key.hash(h);
    })
}

/// The part of a step's record that the actor's code receives as a result. The rest
/// (who held a contended token, whom a wakeup woke, what a store overwrote) is recorded for
/// the reader of a trace, but no primitive returns it to the code, so two actors that differ
/// only there are in the same local state.
fn hash_seen<H: Hasher>(what: &What, h: &mut H) {
    match what {
        What::Woke { why, .. } => why.hash(h),
        What::Atomic { old, .. } => old.hash(h),
        What::CmpsetFailed { found, .. } => found.hash(h),
        What::Load { val, .. } => val.hash(h),
        What::Text(s) => s.hash(h),
        What::TokAcquired(..)
        | What::TokRecursed(_)
        | What::TokContended(..)
        | What::TokLostByBlocking(_)
        | What::TokReacquired(_)
        | What::TokReleased(_)
        | What::Interlock(_)
        | What::Sleep { .. }
        | What::Wakeup { .. }
        | What::Store { .. }
        | What::Note(_)
        | What::Freed(..)
        | What::Returns(_) => {}
    }
}

impl Kernel {
    /// The state's fingerprint (see the module documentation for what it covers).
    pub fn fingerprint(&self) -> u128 {
        digest_of(|h| self.hash_state(h))
    }

    fn hash_state<H: Hasher>(&self, h: &mut H) {
        for (pid, p) in &self.procs {
            pid.hash(h);
            p.hash(h);
        }
        for (g, pg) in &self.pgrps {
            g.hash(h);
            pg.hash(h);
        }
        self.lwps.hash(h);
        // A token nobody holds is the same whether or not it has an entry yet.
        for (t, st) in &self.tokens {
            if st.excl.is_some() || !st.shared.is_empty() {
                t.hash(h);
                st.hash(h);
            }
        }
        for a in &self.actors {
            a.kind.hash(h);
            // An actor that has ended takes no more steps: nothing else of it matters.
            if a.run == Run::Finished {
                0u8.hash(h);
                continue;
            }
            1u8.hash(h);
            a.toks.hash(h);
            a.toks_live.hash(h);
            std::mem::discriminant(&a.run).hash(h);
            a.wchan.hash(h);
            a.wpcatch.hash(h);
            a.wmesg.hash(h);
            a.idle_on.hash(h);
            a.line.hash(h);
            a.func.hash(h);
            if !OMIT_LOCAL_STATE.load(Relaxed) {
                a.digest.hash(h);
                a.frames.hash(h);
            }
        }
        self.hash_timed_order(h);
        self.ncpus.hash(h);
        self.deadlwp_list.hash(h);
        self.task_pending.hash(h);
        self.switch_pending.hash(h);
        self.exit_list.hash(h);
        self.exit_freed.hash(h);
        self.allocs.hash(h);
        self.sched.shutdown.hash(h);
        self.sched.abort.hash(h);
        self.rec.violation.is_some().hash(h);
        self.reaps.hash(h);
        self.reports.hash(h);
    }

    /// The timed-sleep rule (`Kernel::runnable`) compares a timed sleep's start with the
    /// current step, with other timed sleeps' starts and with every actor's last step. Those
    /// comparisons, and no step number, enter the fingerprint: every later step number is
    /// larger than all of them, so they decide every comparison the rule can make later.
    fn hash_timed_order<H: Hasher>(&self, h: &mut H) {
        for (a, ac) in self.actors.iter().enumerate() {
            let Run::Timed { began } = ac.run else {
                continue;
            };
            a.hash(h);
            (self.sched.step > began).hash(h);
            for b in &self.actors {
                (b.last < began).hash(h);
                if let Run::Timed { began: other } = b.run {
                    (other < began).hash(h);
                }
            }
        }
    }
}

/// A fast hasher for maps with small, non-adversarial keys (the state search's tables, the
/// step check's part hashes).
#[derive(Default, Clone, Copy)]
pub struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(w));
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u32(&mut self, v: u32) {
        self.write_u64(v as u64)
    }
    fn write_u16(&mut self, v: u16) {
        self.write_u64(v as u64)
    }
    fn write_u8(&mut self, v: u8) {
        self.write_u64(v as u64)
    }
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64)
    }
    fn finish(&self) -> u64 {
        // splitmix64's finalizer: the table takes its bucket from the low bits and its tag
        // from the high ones, so both must depend on every input word.
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}
