//! Vector clocks over the current path (rebuilt by every execution as it replays its path).

use super::foot::{Foot, MODES};
use kexit_model::engine::ActorId;

type Clock = Vec<u32>;

fn join(a: &mut Clock, b: &Clock) {
    for (x, y) in a.iter_mut().zip(b) {
        *x = (*x).max(*y);
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
}

impl Clocks {
    pub fn new(n: usize) -> Self {
        Clocks {
            actors: vec![vec![0; n]; n],
            objs: Vec::new(),
            global: vec![0; n],
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
        let mut c = std::mem::take(&mut self.actors[a]);
        join(&mut c, &self.global);
        if f.global {
            for oc in self.objs.iter().flatten() {
                join(&mut c, &oc.all);
            }
            for ac in &self.actors {
                join(&mut c, ac);
            }
        } else {
            for (k, bits) in f.modes.iter().enumerate() {
                for i in bits.ones() {
                    if let Some(Some(oc)) = self.objs.get(i) {
                        join(&mut c, if k == 0 { &oc.all } else { &oc.but[k] });
                    }
                }
            }
        }
        c[a] = index;
        if f.global {
            // Every object's clock is now below the global one, which every step joins.
            self.global = c.clone();
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
                    join(&mut oc.all, &c);
                    for (j, b) in oc.but.iter_mut().enumerate() {
                        if j != k {
                            join(b, &c);
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
        join(&mut self.actors[p], &c);
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
