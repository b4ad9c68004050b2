//! The swimlane in a terminal: one column per actor, `width` columns in all. In each lane, `#`
//! marks a token held exclusively and `:` one held shared, `z` a sleep, `<` a wakeup that made
//! the lane runnable; the acting lane shows the step, truncated to fit.

use super::{StepKind, Swimlane};
use std::fmt::Write;

fn fit(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n <= w {
        format!("{s:<w$}")
    } else if w == 0 {
        String::new()
    } else {
        let cut: String = s.chars().take(w - 1).collect();
        format!("{cut}~")
    }
}

/// The lanes as text no wider than `width` columns (at least 8 per lane).
pub fn render(sw: &Swimlane, width: usize) -> String {
    let n = sw.lanes.len().max(1);
    let col = ((width.saturating_sub(6)) / n).max(9) - 1;
    let mut out = String::new();
    let _ = write!(out, "{:>5} ", "step");
    for l in &sw.lanes {
        let _ = write!(out, "{}|", fit(l, col));
    }
    out.push('\n');
    let _ = writeln!(out, "{}", "-".repeat(6 + n * (col + 1)));
    for r in &sw.rows {
        let _ = write!(out, "{:>5} ", r.step);
        for l in 0..sw.lanes.len() {
            let marks: String = r.held[l]
                .iter()
                .map(|h| if h.shared { ':' } else { '#' })
                .chain(r.asleep[l].is_some().then_some('z'))
                .collect();
            let cell = if l == r.lane {
                let what = if r.kind == StepKind::WakeupNobody {
                    format!("{} -> NOBODY", r.what)
                } else {
                    r.what.clone()
                };
                format!("{marks} {what}")
            } else if r.woke.contains(&l) {
                format!("{marks} <woken")
            } else {
                marks
            };
            let _ = write!(out, "{}|", fit(&cell, col));
        }
        out.push('\n');
    }
    if let Some((v, _)) = &sw.violation {
        let _ = write!(out, "\n{v}\n");
    }
    out
}
