//! Footprints compiled to bit sets over the scenario's objects, and step signatures.

use super::FxMap;
use kexit_model::engine::{Access, ActorId, Obj};

/// The objects an actor's next step touches and how, as its scheduling point declared them
/// (None: the step may touch anything).
pub type Footprint = Option<Vec<(Obj, Mode)>>;

/// How a step accesses an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    Write,
    Read,
    Add,
    Set,
    Clear,
}

impl From<Access> for Mode {
    fn from(a: Access) -> Self {
        match a {
            Access::Read => Mode::Read,
            Access::Add => Mode::Add,
            Access::Set => Mode::Set,
            Access::Clear => Mode::Clear,
        }
    }
}

impl Mode {
    /// Index in `Foot::modes`: Write, then the classes that commute with themselves.
    pub fn index(self) -> usize {
        match self {
            Mode::Write => 0,
            Mode::Read => 1,
            Mode::Add => 2,
            Mode::Set => 3,
            Mode::Clear => 4,
        }
    }
}

pub const MODES: usize = 5;
/// Objects a footprint can name (a scenario with more makes the later ones "anything").
pub const OBJS: usize = 256;

#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, Debug)]
pub struct Bits(pub [u64; OBJS / 64]);

impl Bits {
    pub fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    pub fn meets(&self, o: &Bits) -> bool {
        self.0.iter().zip(&o.0).any(|(a, b)| a & b != 0)
    }
    pub fn or(&mut self, o: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&o.0) {
            *a |= *b;
        }
    }
    pub fn and(&mut self, o: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&o.0) {
            *a &= *b;
        }
    }
    pub fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(w, bits)| {
            let mut rest = *bits;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let b = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    w * 64 + b
                })
            })
        })
    }
}

/// A footprint as bit sets: the objects accessed in each mode, and for each mode the objects
/// accessed in any other mode (what an access in that mode conflicts with; a write conflicts
/// with every access).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, Debug)]
pub struct Foot {
    pub global: bool,
    pub modes: [Bits; MODES],
    pub any: Bits,
    others: [Bits; MODES],
}

impl Foot {
    pub fn global() -> Self {
        Foot {
            global: true,
            ..Foot::default()
        }
    }

    /// A footprint with these per-mode object sets.
    pub fn from_modes(global: bool, modes: [Bits; MODES]) -> Self {
        let mut foot = Foot {
            global,
            modes,
            ..Foot::default()
        };
        foot.finish();
        foot
    }

    fn finish(&mut self) {
        self.any = Bits::default();
        for k in 0..MODES {
            let m = self.modes[k];
            self.any.or(&m);
            self.others[k] = Bits::default();
            for j in (0..MODES).filter(|j| *j != k) {
                let m = self.modes[j];
                self.others[k].or(&m);
            }
        }
    }

    pub fn compile(f: &Footprint, idx: &mut FxMap<Obj, usize>) -> Self {
        let Some(objs) = f else {
            return Foot::global();
        };
        let mut foot = Foot::default();
        for (o, m) in objs {
            let n = idx.len();
            let i = *idx.entry(*o).or_insert(n);
            if i >= OBJS {
                return Foot::global();
            }
            foot.modes[m.index()].set(i);
        }
        foot.finish();
        foot
    }

    /// The objects a step in mode `k` on them conflicts with.
    pub fn against(&self, k: usize) -> &Bits {
        if k == 0 {
            &self.any
        } else {
            &self.others[k]
        }
    }

    /// `conflicts` against per-mode object sets (a write conflicts with every access, the
    /// other modes with every mode but their own).
    pub fn conflicts_with_modes(&self, modes: &[Bits; MODES]) -> bool {
        if self.global {
            return true;
        }
        (0..MODES).any(|k| {
            self.modes[k] != Bits::default()
                && (0..MODES)
                    .any(|j| (k == 0 || j == 0 || j != k) && self.modes[k].meets(&modes[j]))
        })
    }

    pub fn conflicts(&self, o: &Foot) -> bool {
        if self.global || o.global {
            return true;
        }
        // Most pairs of steps share no object at all.
        self.any.meets(&o.any) && (0..MODES).any(|k| self.modes[k].meets(o.against(k)))
    }
}

/// A step signature: an actor and the footprint of its step, interned.
pub type Sig = u32;

#[derive(Default)]
pub struct Sigs {
    /// By a hash of (actor, footprint): the signatures with that hash.
    ids: FxMap<u64, Vec<Sig>>,
    keys: Vec<(ActorId, Footprint)>,
    list: Vec<(ActorId, Foot)>,
    objs: FxMap<Obj, usize>,
}

impl Sigs {
    pub fn intern(&mut self, a: ActorId, f: &Footprint) -> Sig {
        use std::hash::{Hash, Hasher};
        let mut h = super::Fx::default();
        (a, f).hash(&mut h);
        let key = h.finish();
        let same = |s: &Sig| {
            let (b, g) = &self.keys[*s as usize];
            *b == a && g == f
        };
        if let Some(id) = self
            .ids
            .get(&key)
            .and_then(|v| v.iter().copied().find(same))
        {
            return id;
        }
        let id = self.list.len() as Sig;
        let foot = Foot::compile(f, &mut self.objs);
        self.list.push((a, foot));
        self.keys.push((a, f.clone()));
        self.ids.entry(key).or_default().push(id);
        id
    }
    pub fn actor(&self, s: Sig) -> ActorId {
        self.list[s as usize].0
    }
    pub fn foot(&self, s: Sig) -> &Foot {
        &self.list[s as usize].1
    }
}
