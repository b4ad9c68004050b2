//! Summaries of explored subtrees: the steps that may follow, each with its causal past.

use super::foot::{Bits, Foot, Sig, MODES};
use super::FxMap;
use kexit_model::engine::ActorId;

/// What happens before a step inside a subtree: the actors of its causal past there and the
/// objects they accessed, by mode (a past is interned by the thousand: it keeps only the
/// per-mode sets, not the derived ones a `Foot` carries).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Past {
    actors: u64,
    global: bool,
    modes: [Bits; MODES],
}

impl Past {
    fn is_empty(&self) -> bool {
        self.actors == 0 && !self.global
    }

    fn add(&mut self, q: ActorId, f: &Foot) {
        if q < 64 {
            self.actors |= 1 << q;
        }
        self.global |= f.global;
        for (m, n) in self.modes.iter_mut().zip(&f.modes) {
            m.or(n);
        }
    }

    fn intersect(&self, o: &Past) -> Past {
        let mut modes = self.modes;
        for (m, n) in modes.iter_mut().zip(&o.modes) {
            m.and(n);
        }
        Past {
            actors: self.actors & o.actors,
            global: self.global && o.global,
            modes,
        }
    }
}

/// The end of a chain of pasts with the same hash.
const NONE: u32 = u32::MAX;

/// Pasts, interned: most are equal, and an entry is then two numbers. Adding a step and
/// intersecting are memoized by those numbers (a past and a step signature, or two pasts),
/// since the same few combinations recur at every merge. Past 0 is the empty one.
pub struct Pasts {
    list: Vec<Past>,
    /// By a hash of the past, the latest past with that hash; `same_hash` chains the others.
    ids: FxMap<u64, u32>,
    same_hash: Vec<u32>,
    with_step: FxMap<(u32, Sig), u32>,
    meets: FxMap<(u32, u32), u32>,
}

impl Default for Pasts {
    fn default() -> Self {
        let mut p = Pasts {
            list: Vec::new(),
            ids: FxMap::default(),
            same_hash: Vec::new(),
            with_step: FxMap::default(),
            meets: FxMap::default(),
        };
        p.intern(Past::default());
        p
    }
}

impl Pasts {
    fn intern(&mut self, p: Past) -> u32 {
        use std::hash::{Hash, Hasher};
        let mut h = super::Fx::default();
        p.hash(&mut h);
        let key = h.finish();
        let head = self.ids.get(&key).copied().unwrap_or(NONE);
        let mut at = head;
        while at != NONE {
            if self.list[at as usize] == p {
                return at;
            }
            at = self.same_hash[at as usize];
        }
        let id = self.list.len() as u32;
        self.list.push(p);
        self.same_hash.push(head);
        self.ids.insert(key, id);
        id
    }

    /// Whether step `s` (by `q` with footprint `f`), run before the subtree, happens before
    /// the entry's step through its causal past.
    pub fn ordered_before(&self, e: &Entry, q: ActorId, f: &Foot) -> bool {
        if e.past == 0 {
            return false;
        }
        let p = &self.list[e.past as usize];
        !p.is_empty()
            && (p.global || q < 64 && p.actors >> q & 1 == 1 || f.conflicts_with_modes(&p.modes))
    }

    /// Whether the entry's causal past holds a step that may touch anything: then every step
    /// before the subtree happens before the entry's, which can race with nothing.
    pub fn orders_everything(&self, e: &Entry) -> bool {
        self.list[e.past as usize].global
    }

    /// The actors of the entry's causal past.
    pub fn actors(&self, e: &Entry) -> u64 {
        self.list[e.past as usize].actors
    }

    /// `e` with step `s` (by `q` with footprint `f`) added to its causal past.
    pub fn with_step(&mut self, e: Entry, s: Sig, q: ActorId, f: &Foot) -> Entry {
        let past = match self.with_step.get(&(e.past, s)) {
            Some(id) => *id,
            None => {
                let mut p = self.list[e.past as usize];
                p.add(q, f);
                let id = self.intern(p);
                self.with_step.insert((e.past, s), id);
                id
            }
        };
        Entry { sig: e.sig, past }
    }

    fn intersect(&mut self, a: u32, b: u32) -> u32 {
        if a == b {
            return a;
        }
        let key = (a.min(b), a.max(b));
        if let Some(id) = self.meets.get(&key) {
            return *id;
        }
        let p = self.list[a as usize].intersect(&self.list[b as usize]);
        let id = self.intern(p);
        self.meets.insert(key, id);
        id
    }
}

/// A step that may follow a state, and its causal past below that state.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Entry {
    pub sig: Sig,
    past: u32,
}

impl Entry {
    /// A next step of the state itself (nothing below it comes first).
    pub fn next(sig: Sig) -> Self {
        Entry { sig, past: 0 }
    }
}

/// The steps that may follow a state anywhere below it, one entry per signature, sorted.
#[derive(Clone, Default, PartialEq, Eq, Hash, Debug)]
pub struct Summary(pub Vec<Entry>);

impl Summary {
    /// Adds `e`; a signature already there keeps the pasts' intersection (it stands for both
    /// occurrences, so it may claim only the orderings both have).
    pub fn merge(&mut self, e: Entry, pasts: &mut Pasts) {
        match self.0.binary_search_by_key(&e.sig, |x| x.sig) {
            Ok(i) => self.0[i].past = pasts.intersect(self.0[i].past, e.past),
            Err(i) => self.0.insert(i, e),
        }
    }
}
