//! Shared by the bolero targets: a deterministic engine for `cargo test`, and the `target!`
//! macro that picks it.
//!
//! Under plain `cargo test`, bolero's own test engine draws its inputs from OS randomness
//! (`StdRng::from_os_rng`), so two runs test different inputs and a failure may not come
//! back. `Seeded` runs the same target over a fixed list instead: the files of
//! `tests/fuzz-regressions/<target>/` (inputs that once failed), then `iterations`
//! pseudo-random inputs from a fixed seed. `KEXIT_FUZZ_ITERATIONS`, `KEXIT_FUZZ_SEED` and
//! `KEXIT_FUZZ_SECS` make it run longer (stable toolchains without cargo-bolero). Under
//! `cargo bolero test` (`cfg(fuzzing)`) the target is bolero's own: libFuzzer, AFL or random.

#![allow(dead_code)]

use bolero::bolero_engine::{driver, input::Bytes, Engine, Test};
use std::fmt::Debug;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub struct Seeded {
    name: &'static str,
    iterations: u64,
    seed: u64,
    max_len: usize,
    time: Option<Duration>,
    /// Well-formed inputs to mutate (catalogue files for the parsers); random bytes alone
    /// rarely get past a parser's first check.
    corpus: Vec<Vec<u8>>,
}

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    let v = std::env::var(name).ok()?;
    Some(
        v.parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
    )
}

impl Seeded {
    /// `name` is the target's directory under tests/fuzz-regressions/.
    pub fn new(name: &'static str, iterations: u64, max_len: usize) -> Self {
        Seeded {
            name,
            iterations: env("KEXIT_FUZZ_ITERATIONS").unwrap_or(iterations),
            seed: env("KEXIT_FUZZ_SEED").unwrap_or(0x006b_6578_6974),
            max_len,
            time: env::<f64>("KEXIT_FUZZ_SECS").map(Duration::from_secs_f64),
            corpus: Vec::new(),
        }
    }

    pub fn with_corpus(mut self, corpus: Vec<Vec<u8>>) -> Self {
        self.corpus = corpus;
        self
    }

    /// Input `i`: with a corpus, three in four are a corpus entry under a few random edits
    /// (byte changes, insertions, deletions, duplicated or spliced ranges, truncation); the
    /// rest, and every input without a corpus, are random bytes of random length.
    fn input(&self, state: &mut u64) -> Vec<u8> {
        let below = |state: &mut u64, n: usize| (next(state) % n.max(1) as u64) as usize;
        if self.corpus.is_empty() || below(state, 4) == 0 {
            let len = below(state, self.max_len + 1);
            return (0..len).map(|_| next(state) as u8).collect();
        }
        let mut b = self.corpus[below(state, self.corpus.len())].clone();
        for _ in 0..1 + below(state, 4) {
            let at = below(state, b.len() + 1);
            let span = 1 + below(state, 16);
            let end = (at + span).min(b.len());
            match below(state, 7) {
                0 if at < b.len() => b[at] = next(state) as u8,
                1 if at < b.len() => b[at] ^= 1 << below(state, 8),
                2 => b.insert(
                    at,
                    *b"\n[]{}=\",.-0123456789\"'".get(below(state, 22)).unwrap(),
                ),
                3 => drop(b.drain(at..end)),
                4 => {
                    let piece = b[at..end].to_vec();
                    let to = below(state, b.len() + 1);
                    b.splice(to..to, piece);
                }
                5 => {
                    let other = &self.corpus[below(state, self.corpus.len())];
                    let from = below(state, other.len() + 1);
                    let piece = other[from..(from + span).min(other.len())].to_vec();
                    b.splice(at..at, piece);
                }
                _ => b.truncate(at),
            }
        }
        b
    }

    pub fn regressions(name: &str) -> Vec<PathBuf> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fuzz-regressions")
            .join(name);
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        v.retain(|p| p.is_file());
        v.sort();
        v
    }
}

/// xorshift64*, as small as it gets; the inputs only need to be varied and repeatable.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

impl<T: Test> Engine<T> for Seeded
where
    T::Value: Debug,
{
    type Output = ();

    fn run(self, mut test: T, options: driver::Options) {
        let mut run_one = |what: String, bytes: &[u8]| {
            if let Err(e) = test.test(&mut Bytes::new(bytes, &options)) {
                let value = test.generate_value(&mut Bytes::new(bytes, &options));
                panic!(
                    "{}: {what} fails: {e}\ninput bytes: {bytes:?}\nvalue: {value:?}",
                    self.name
                );
            }
        };
        for path in Self::regressions(self.name) {
            let bytes = std::fs::read(&path).expect("regression input readable");
            run_one(format!("regression input {}", path.display()), &bytes);
        }
        let start = Instant::now();
        let mut state = self.seed | 1;
        for i in 0..self.iterations {
            if self.time.is_some_and(|t| start.elapsed() >= t) {
                break;
            }
            let bytes = self.input(&mut state);
            run_one(format!("input {i} (seed {:#x})", self.seed), &bytes);
        }
        if self.time.is_some() || std::env::var_os("KEXIT_FUZZ_ITERATIONS").is_some() {
            eprintln!(
                "{}: {} regression input(s) and up to {} generated ones in {:.1}s, no failure",
                self.name,
                Self::regressions(self.name).len(),
                self.iterations,
                start.elapsed().as_secs_f64()
            );
        }
    }
}

/// `bolero::check!()` (which also lists the target for cargo-bolero) with the deterministic
/// engine under plain `cargo test`.
#[macro_export]
macro_rules! target {
    ($name:expr, $iterations:expr, $max_len:expr) => {
        $crate::target!($name, $iterations, $max_len, Vec::<Vec<u8>>::new())
    };
    ($name:expr, $iterations:expr, $max_len:expr, $corpus:expr) => {{
        let t = bolero::check!();
        #[cfg(not(fuzzing))]
        let t = {
            drop(t);
            bolero::TestTarget::new(
                $crate::support::Seeded::new($name, $iterations, $max_len).with_corpus($corpus),
            )
        };
        #[cfg(fuzzing)]
        let _ = $corpus;
        t
    }};
}
