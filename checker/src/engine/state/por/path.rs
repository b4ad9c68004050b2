//! The steps of the current path by object, so that a race check visits only the steps that
//! can conflict with the step it checks instead of the whole path.

use super::foot::Foot;

#[derive(Default)]
pub struct PathIndex {
    /// For each object, the steps (numbered from 1) that accessed it in any mode.
    by_obj: Vec<Vec<u32>>,
    /// The steps that may have touched anything.
    global: Vec<u32>,
    steps: u32,
}

impl PathIndex {
    /// Back to the empty path.
    pub fn clear(&mut self) {
        for v in &mut self.by_obj {
            v.clear();
        }
        self.global.clear();
        self.steps = 0;
    }

    /// Back to the first `steps` steps of the path (the steps after them are undone).
    pub fn truncate(&mut self, steps: u32) {
        let keep = |v: &mut Vec<u32>| {
            while v.last().is_some_and(|s| *s > steps) {
                v.pop();
            }
        };
        self.by_obj.iter_mut().for_each(keep);
        keep(&mut self.global);
        self.steps = self.steps.min(steps);
    }

    /// Step number `index` of the path, with footprint `f`.
    pub fn push(&mut self, index: u32, f: &Foot) {
        self.steps = index;
        if f.global {
            self.global.push(index);
            return;
        }
        for i in f.any.ones() {
            if self.by_obj.len() <= i {
                self.by_obj.resize_with(i + 1, Vec::new);
            }
            self.by_obj[i].push(index);
        }
    }

    /// The steps that may conflict with a step of footprint `f`, latest first, into `out`:
    /// those sharing an object with it and those that may touch anything (every step when
    /// `f` may).
    pub fn candidates(&self, f: &Foot, out: &mut Vec<u32>) {
        out.clear();
        if f.global {
            out.extend((1..=self.steps).rev());
            return;
        }
        out.extend_from_slice(&self.global);
        for i in f.any.ones() {
            if let Some(v) = self.by_obj.get(i) {
                out.extend_from_slice(v);
            }
        }
        out.sort_unstable_by(|a, b| b.cmp(a));
        out.dedup();
    }
}
