//! Vector clocks over the current path. Every change is logged, so that going back to an
//! earlier decision of the path undoes the steps below it instead of rebuilding the clocks
//! from the initial state as the execution replays its path.

use super::foot::{Foot, MODES};
use kexit_model::engine::ActorId;

type Clock = Vec<u32>;

/// Which clock an undo entry restores an element of.
#[derive(Clone, Copy)]
enum Slot {
    Actor(u32),
    Global,
    All(u32),
    But(u32, u8),
}

/// One element of one clock, as it was before a change.
#[derive(Clone, Copy)]
struct Undo {
    slot: Slot,
    index: u32,
    old: u32,
}

/// `a = max(a, b)` element by element, logging every element it raises.
fn join(a: &mut Clock, b: &Clock, slot: Slot, log: &mut Vec<Undo>) {
    for (i, (x, y)) in a.iter_mut().zip(b).enumerate() {
        if *y > *x {
            log.push(Undo {
                slot,
                index: i as u32,
                old: *x,
            });
            *x = *y;
        }
    }
}

/// The clocks of the accesses to one object: of all of them, and for each commuting mode, of
/// all accesses in other modes (what a new access in that mode is ordered after).
#[derive(Clone)]
struct ObjClock {
    all: Clock,
    but: [Clock; MODES],
}

pub struct Clocks {
    actors: Vec<Clock>,
    objs: Vec<Option<ObjClock>>,
    /// The clock of the last step that may have touched anything.
    global: Clock,
    /// Every element changed since the last reset, with its old value.
    log: Vec<Undo>,
}

impl Clocks {
    pub fn new(n: usize) -> Self {
        Clocks {
            actors: vec![vec![0; n]; n],
            objs: Vec::new(),
            global: vec![0; n],
            log: Vec::new(),
        }
    }

    /// Back to the start of a path, keeping the memory.
    pub fn reset(&mut self) {
        let zero = |c: &mut Clock| c.iter_mut().for_each(|x| *x = 0);
        self.actors.iter_mut().for_each(zero);
        zero(&mut self.global);
        for oc in self.objs.iter_mut().flatten() {
            zero(&mut oc.all);
            oc.but.iter_mut().for_each(zero);
        }
        self.log.clear();
    }

    /// A mark to come back to with `undo_to`.
    pub fn mark(&self) -> usize {
        self.log.len()
    }

    /// Back to the clocks as they were at `mark`. A clock created or grown since stays, at
    /// zero where it was absent: joining a zero clock changes nothing, so it is as if absent.
    pub fn undo_to(&mut self, mark: usize) {
        while self.log.len() > mark {
            let u = self.log.pop().expect("above the mark");
            let clock = match u.slot {
                Slot::Actor(a) => &mut self.actors[a as usize],
                Slot::Global => &mut self.global,
                Slot::All(o) => &mut self.objs[o as usize].as_mut().expect("logged").all,
                Slot::But(o, k) => {
                    &mut self.objs[o as usize].as_mut().expect("logged").but[k as usize]
                }
            };
            clock[u.index as usize] = u.old;
        }
    }

    fn grow(&mut self, n: usize) {
        if self.actors.len() < n {
            for c in self.actors.iter_mut() {
                c.resize(n, 0);
            }
            for oc in self.objs.iter_mut().flatten() {
                oc.all.resize(n, 0);
                for c in &mut oc.but {
                    c.resize(n, 0);
                }
            }
            self.global.resize(n, 0);
            self.actors.resize(n, vec![0; n]);
        }
    }

    /// Step number `index` (from 1) of the path, by `a`, with footprint `f`.
    pub fn step(&mut self, index: u32, a: ActorId, f: &Foot) {
        self.grow(a + 1);
        let n = self.actors.len();
        let me = Slot::Actor(a as u32);
        let mut c = std::mem::take(&mut self.actors[a]);
        let log = &mut self.log;
        join(&mut c, &self.global, me, log);
        if f.global {
            for oc in self.objs.iter().flatten() {
                join(&mut c, &oc.all, me, log);
            }
            for ac in &self.actors {
                join(&mut c, ac, me, log);
            }
        } else {
            for (k, bits) in f.modes.iter().enumerate() {
                for i in bits.ones() {
                    if let Some(Some(oc)) = self.objs.get(i) {
                        join(&mut c, if k == 0 { &oc.all } else { &oc.but[k] }, me, log);
                    }
                }
            }
        }
        log.push(Undo {
            slot: me,
            index: a as u32,
            old: c[a],
        });
        c[a] = index;
        if f.global {
            // Every object's clock is now below the global one, which every step joins.
            join(&mut self.global, &c, Slot::Global, log);
        } else {
            for (k, bits) in f.modes.iter().enumerate() {
                for i in bits.ones() {
                    if self.objs.len() <= i {
                        self.objs.resize(i + 1, None);
                    }
                    let oc = self.objs[i].get_or_insert_with(|| ObjClock {
                        all: vec![0; n],
                        but: std::array::from_fn(|_| vec![0; n]),
                    });
                    join(&mut oc.all, &c, Slot::All(i as u32), log);
                    for (j, b) in oc.but.iter_mut().enumerate() {
                        if j != k {
                            join(b, &c, Slot::But(i as u32, j as u8), log);
                        }
                    }
                }
            }
        }
        self.actors[a] = c;
    }

    /// `by`'s last step made `p` able to run (woke it, released a token it waits for): that
    /// step happens before everything `p` does next.
    pub fn enabled_by(&mut self, p: ActorId, by: ActorId) {
        self.grow(p.max(by) + 1);
        let c = self.actors[by].clone();
        join(
            &mut self.actors[p],
            &c,
            Slot::Actor(p as u32),
            &mut self.log,
        );
    }

    /// Whether a step of `r` after step `index` happens before the next step of `p`.
    pub fn after(&self, index: u32, r: ActorId, p: ActorId) -> bool {
        self.actors
            .get(p)
            .and_then(|c| c.get(r))
            .is_some_and(|x| *x > index)
    }

    /// Whether step `index` (by `by`) happens before the next step of `p`.
    pub fn before(&self, index: u32, by: ActorId, p: ActorId) -> bool {
        self.actors
            .get(p)
            .and_then(|c| c.get(by))
            .is_some_and(|x| *x >= index)
    }
}
