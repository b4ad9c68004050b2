//! What an actor's local state is made of, for the state engine's fingerprint. By default it
//! is everything the actor has seen (`fingerprint::observe`): exact, but two actors that saw
//! different things they no longer need are never the same state, and polling loops make
//! every iteration count a new state. Scopes cut that history where the code says what still
//! matters:
//!
//! - `scope(site, key, f)`: inside, the digest starts from the caller's, the site and `key`,
//!   which must hold every input of `f` that can vary; after it, the digest is the caller's
//!   with the site and the value `f` returned. What `f` saw on its way is forgotten, which is
//!   exact as long as `f` hands its caller nothing but that value.
//! - `restart(site, key)`: at a loop head, the digest becomes the enclosing scope's start with
//!   the site and `key`, which must hold every value live at that point.
//!
//! - `noreturn(site, key)`: in code that never returns to its callers (exit1, lwp_exit), the
//!   digest becomes the site and `key` alone, which must hold every value live at that
//!   point, and the callers' scopes are dropped: nothing they had can matter again.
//!
//! A key that leaves out a live value merges states that differ: `--audit` looks for exactly
//! that (the same fingerprint and choice leading to two different states). Scopes take no
//! kernel-lock turn (they do not appear in schedules) and no scheduling point, and cost
//! nothing on an engine that does not keep local state (`Engine::local_state`).

use crate::cx::Cx;
use crate::engine::Engine;
use crate::fingerprint::fold;
use crate::kernel::{Frame, KR};
use crate::site::Site;
use std::hash::Hash;

impl<E: Engine> Cx<'_, E> {
    pub fn scope<K: Hash, T: Hash>(
        &self,
        site: &'static Site,
        key: K,
        f: impl FnOnce() -> KR<T>,
    ) -> KR<T> {
        if !self.sys.engine.local_state() {
            return f();
        }
        {
            let mut k = self.sys.kernel.lock();
            let a = &mut k.actors[self.me];
            let caller = a.digest;
            let base = fold(caller, site, 0, &key);
            a.frames.push(Frame { caller, base });
            a.digest = base;
        }
        let r = f()?;
        let mut k = self.sys.kernel.lock();
        let a = &mut k.actors[self.me];
        let frame = a.frames.pop().expect("scope entered");
        a.digest = fold(frame.caller, site, 1, &r);
        Ok(r)
    }

    /// A loop in a scope of its own, with nothing live at its head: `body` runs until it
    /// returns a value, and the caller learns only that value.
    pub(crate) fn scoped_loop<T: Hash>(
        &self,
        site: &'static Site,
        mut body: impl FnMut() -> KR<Option<T>>,
    ) -> KR<T> {
        self.scope(site, (), || loop {
            self.restart(site, ());
            if let Some(v) = body()? {
                return Ok(v);
            }
        })
    }

    pub fn restart<K: Hash>(&self, site: &'static Site, key: K) {
        if !self.sys.engine.local_state() {
            return;
        }
        let mut k = self.sys.kernel.lock();
        let a = &mut k.actors[self.me];
        let base = a.frames.last().map_or(0, |f| f.base);
        a.digest = fold(base, site, 2, &key);
    }

    pub(crate) fn noreturn<K: Hash>(&self, site: &'static Site, key: K) {
        if !self.sys.engine.local_state() {
            return;
        }
        let mut k = self.sys.kernel.lock();
        let a = &mut k.actors[self.me];
        a.frames.clear();
        a.digest = fold(0, site, 3, &key);
    }
}
