//! What the workers of one state search share: the states explored to the end and the
//! interned tables their entries refer to.

use super::por::{Entry, FxMap, Pasts, Sig, Sigs, Summary};
use parking_lot::Mutex;
use std::sync::Arc;

/// A state explored to the end: its summary (an index into `Shared::summaries`), whether
/// that is complete, and the actors (as bits over actor ids) whose steps from it were left
/// asleep.
#[derive(Clone, Copy)]
pub(super) struct Done {
    pub summary: u32,
    pub complete: bool,
    pub asleep: u64,
}

/// What the workers of one search share (`parallel.rs`): the states explored to the end, and
/// the interned step signatures, pasts and summaries their entries refer to. Each worker
/// locks it for the bookkeeping of a new decision, never while it replays.
#[derive(Default)]
pub struct Shared {
    pub(super) visited: FxMap<u128, Done>,
    pub(super) summaries: Vec<Summary>,
    summary_ids: FxMap<Summary, u32>,
    pub(super) sigs: Sigs,
    pub(super) pasts: Pasts,
    /// `after_step`, memoized by summary and step.
    lifted: FxMap<(u32, Sig), Vec<Entry>>,
}

impl Shared {
    /// The entries of summary `id` as seen from before step `s`, which happens before an
    /// entry when it is ordered with the entry's step or with its causal past. Entries that
    /// `s` orders with everything are left out: they can race with no step on any path, and
    /// keeping one would only make the intersection with another occurrence of its
    /// signature claim fewer orderings.
    pub(super) fn after_step(&mut self, id: u32, s: Sig) -> &[Entry] {
        if !self.lifted.contains_key(&(id, s)) {
            let q = self.sigs.actor(s);
            let f = *self.sigs.foot(s);
            let mut out = Vec::new();
            for e in &self.summaries[id as usize].0 {
                let p = self.sigs.actor(e.sig);
                let ordered = q == p
                    || f.conflicts(self.sigs.foot(e.sig))
                    || self.pasts.ordered_before(e, q, &f);
                let e = if ordered {
                    self.pasts.with_step(*e, s, q, &f)
                } else {
                    *e
                };
                if !self.pasts.orders_everything(&e) {
                    out.push(e);
                }
            }
            self.lifted.insert((id, s), out);
        }
        &self.lifted[&(id, s)]
    }

    /// The number of states explored to the end.
    pub fn explored(&self) -> u64 {
        self.visited.len() as u64
    }

    pub(super) fn intern_summary(&mut self, s: &Summary) -> u32 {
        if let Some(id) = self.summary_ids.get(s) {
            return *id;
        }
        let id = self.summaries.len() as u32;
        self.summaries.push(s.clone());
        self.summary_ids.insert(s.clone(), id);
        id
    }
}

pub type SharedTable = Arc<Mutex<Shared>>;
