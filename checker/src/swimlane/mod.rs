//! Counterexamples as swimlanes: one lane per actor, one row per step, the tokens each actor
//! holds, its sleeps, and the wakeups between lanes (a wakeup that wakes nobody marked as
//! such). `html.rs` renders a self-contained page, `text.rs` the same in a terminal.

pub mod html;
pub mod report;
pub mod text;

use kexit_model::blocked::{BlockedState, Detail};
use kexit_model::trace::{render_what, Event, Violation, What};
use kexit_model::world::Outcome;

/// What a step is, for its marker and colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    TokenAcquired,
    TokenContended,
    TokenReleased,
    TokensLost,
    TokensBack,
    Interlock,
    Sleep,
    Woke,
    Wakeup,
    /// A wakeup with nobody asleep on its ident.
    WakeupNobody,
    Atomic,
    Access,
    Freed,
    Note,
}

impl StepKind {
    pub fn class(self) -> &'static str {
        match self {
            StepKind::TokenAcquired => "acq",
            StepKind::TokenContended => "cont",
            StepKind::TokenReleased => "rel",
            StepKind::TokensLost => "lost",
            StepKind::TokensBack => "back",
            StepKind::Interlock => "ilk",
            StepKind::Sleep => "sleep",
            StepKind::Woke => "woke",
            StepKind::Wakeup => "wake",
            StepKind::WakeupNobody => "nobody",
            StepKind::Atomic => "atomic",
            StepKind::Access => "access",
            StepKind::Freed => "freed",
            StepKind::Note => "note",
        }
    }
}

/// A token held by a lane: its name and whether shared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held {
    pub token: String,
    pub shared: bool,
    /// Acquisitions not yet released (LWKT tokens are recursive).
    pub depth: u32,
}

/// One step of the trace, placed in its actor's lane.
#[derive(Clone, Debug)]
pub struct Row {
    pub step: u32,
    pub lane: usize,
    pub function: &'static str,
    /// `kern_exit.c` for a seed line, else the stub's file.
    pub file: &'static str,
    pub line: u32,
    /// The seed's text of `line`, when the seed was given.
    pub source: Option<String>,
    pub what: String,
    pub kind: StepKind,
    /// The kernel objects the step touched (tokens, wait channels, words).
    pub objects: Vec<String>,
    /// Lanes a wakeup made runnable.
    pub woke: Vec<usize>,
    /// After the step: the tokens each lane holds, and the wmesg of each lane asleep.
    pub held: Vec<Vec<Held>>,
    pub asleep: Vec<Option<String>>,
    /// The step touches what the violation is about.
    pub related: bool,
}

/// A counterexample laid out in lanes.
pub struct Swimlane {
    pub title: String,
    pub lanes: Vec<String>,
    pub rows: Vec<Row>,
    /// The violation's text and the lane it happened in (none for "checker").
    pub violation: Option<(String, Option<usize>)>,
}

/// The objects a step names, as the trace prints them.
fn objects(w: &What) -> Vec<String> {
    match w {
        What::TokAcquired(t, _)
        | What::TokRecursed(t)
        | What::TokContended(t, _)
        | What::TokReleased(t) => vec![t.to_string()],
        What::TokLostByBlocking(ts) | What::TokReacquired(ts) => {
            ts.iter().map(|t| t.to_string()).collect()
        }
        What::Interlock(i)
        | What::Sleep { ident: i, .. }
        | What::Woke { ident: i, .. }
        | What::Wakeup { ident: i, .. } => vec![i.to_string()],
        What::Atomic { field, .. }
        | What::CmpsetFailed { field, .. }
        | What::Load { field, .. }
        | What::Store { field, .. } => vec![field.to_string()],
        What::Freed(what, n) => vec![format!("{what} {n}")],
        What::Note(_) | What::Text(_) | What::Returns(_) => Vec::new(),
    }
}

fn kind(w: &What) -> StepKind {
    match w {
        What::TokAcquired(..) | What::TokRecursed(_) => StepKind::TokenAcquired,
        What::TokContended(..) => StepKind::TokenContended,
        What::TokReleased(_) => StepKind::TokenReleased,
        What::TokLostByBlocking(_) => StepKind::TokensLost,
        What::TokReacquired(_) => StepKind::TokensBack,
        What::Interlock(_) => StepKind::Interlock,
        What::Sleep { .. } => StepKind::Sleep,
        What::Woke { .. } => StepKind::Woke,
        What::Wakeup { woken, .. } if woken.is_empty() => StepKind::WakeupNobody,
        What::Wakeup { .. } => StepKind::Wakeup,
        What::Atomic { .. } | What::CmpsetFailed { .. } => StepKind::Atomic,
        What::Load { .. } | What::Store { .. } => StepKind::Access,
        What::Freed(..) => StepKind::Freed,
        What::Note(_) | What::Text(_) | What::Returns(_) => StepKind::Note,
    }
}

/// What the violation is about: the wait channels and tokens a deadlock's actors are stuck
/// on, else the objects of the violating actor's last step.
fn violation_objects(v: &Violation, trace: &[Event], labels: &[String]) -> Vec<String> {
    if let Detail::Blocked(blocked) = &v.detail {
        return blocked
            .iter()
            .flat_map(|b| match &b.state {
                BlockedState::Asleep { wchan: Some(i), .. } => vec![i.to_string()],
                BlockedState::TokenWait { tokens, .. } => {
                    tokens.iter().map(|t| t.to_string()).collect()
                }
                _ => Vec::new(),
            })
            .collect();
    }
    trace
        .iter()
        .rev()
        .find(|e| labels.get(e.actor) == Some(&v.actor) && !objects(&e.what).is_empty())
        .map(|e| objects(&e.what))
        .unwrap_or_default()
}

impl Swimlane {
    /// Lays out `out`'s trace; `source` holds the seed's lines when it is available.
    pub fn new(title: String, out: &Outcome, source: Option<&[String]>) -> Self {
        let lanes = out.labels.clone();
        let n = lanes.len();
        let label = |a: usize| lanes.get(a).cloned().unwrap_or_default();
        let about = out
            .violation
            .as_ref()
            .map(|v| violation_objects(v, &out.trace, &lanes))
            .unwrap_or_default();
        // A deadlock is about the processes its sleepers wait on as well: their words and
        // tokens carry the interlock (p_waitgen, p_token) that should have closed the window.
        let about_procs: Vec<String> = match out.violation.as_ref().map(|v| &v.detail) {
            Some(Detail::Blocked(_)) => about
                .iter()
                .filter_map(|o| o.find("(pid ").map(|i| o[i..].to_string()))
                .collect(),
            _ => Vec::new(),
        };
        let mut held: Vec<Vec<Held>> = vec![Vec::new(); n];
        let mut lost: Vec<Vec<Held>> = vec![Vec::new(); n];
        let mut asleep: Vec<Option<String>> = vec![None; n];
        let mut rows = Vec::with_capacity(out.trace.len());
        for e in &out.trace {
            let a = e.actor.min(n.saturating_sub(1));
            match &e.what {
                What::TokAcquired(t, shared) => held[a].push(Held {
                    token: t.to_string(),
                    shared: *shared,
                    depth: 1,
                }),
                What::TokRecursed(t) => {
                    let name = t.to_string();
                    if let Some(h) = held[a].iter_mut().find(|h| h.token == name) {
                        h.depth += 1;
                    }
                }
                What::TokReleased(t) => {
                    let name = t.to_string();
                    if let Some(i) = held[a].iter().position(|h| h.token == name) {
                        held[a][i].depth -= 1;
                        if held[a][i].depth == 0 {
                            held[a].remove(i);
                        }
                    }
                }
                What::TokLostByBlocking(_) => lost[a] = std::mem::take(&mut held[a]),
                // Back with every token it lost, and the one it blocked on when contended.
                What::TokReacquired(ts) => {
                    held[a] = std::mem::take(&mut lost[a]);
                    for t in ts {
                        let token = t.to_string();
                        if !held[a].iter().any(|h| h.token == token) {
                            held[a].push(Held {
                                token,
                                shared: false,
                                depth: 1,
                            });
                        }
                    }
                }
                What::Sleep { wmesg, .. } => asleep[a] = Some(wmesg.to_string()),
                What::Woke { .. } => asleep[a] = None,
                _ => {}
            }
            let woke = match &e.what {
                What::Wakeup { woken, .. } => woken.iter().map(|w| (*w).min(n - 1)).collect(),
                _ => Vec::new(),
            };
            let (function, file, line) = crate::report::where_(e);
            let source = source.and_then(|src| {
                (file == "kern_exit.c" && line > 0)
                    .then(|| src.get(line as usize - 1))
                    .flatten()
                    .map(|s| s.trim().to_string())
            });
            let objects = objects(&e.what);
            let related = objects
                .iter()
                .any(|o| about.contains(o) || about_procs.iter().any(|p| o.ends_with(p.as_str())));
            rows.push(Row {
                step: e.step,
                lane: a,
                function,
                file,
                line,
                source,
                what: render_what(&e.what, &label),
                kind: kind(&e.what),
                objects,
                woke,
                held: held.clone(),
                asleep: asleep.clone(),
                related,
            });
        }
        let violation = out.violation.as_ref().map(|v| {
            let lane = lanes.iter().position(|l| *l == v.actor);
            (v.to_string(), lane)
        });
        Swimlane {
            title,
            lanes,
            rows,
            violation,
        }
    }
}

/// Writes the swimlane page of `out` as DIR/STEM.html, with the seed's lines when `source`
/// has them; returns the file name.
pub fn write_page(
    dir: &std::path::Path,
    stem: &str,
    title: String,
    out: &Outcome,
    source: Option<&[String]>,
) -> Result<String, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("--html {}: {e}", dir.display()))?;
    let name = format!("{}.html", stem.replace([':', '/'], "_"));
    let sw = Swimlane::new(title, out, source);
    std::fs::write(dir.join(&name), html::render(&sw))
        .map_err(|e| format!("--html {}: {e}", dir.display()))?;
    Ok(name)
}
