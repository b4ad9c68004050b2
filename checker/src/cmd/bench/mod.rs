//! `kexit bench`: exploration speed per engine, the harness's overhead against a hand-written
//! loom/shuttle test, time to the first violation of every re-created bug, parallel scaling
//! and loom's state-space size per preemption bound, measured in one run and printed as
//! tables (Markdown, ready for docs/performance.md) or JSON.

pub mod cell;
pub mod raw;
mod sections;

use cell::CellResult;
use sections::*;
use serde::Serialize;
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Section {
    Engines,
    Overhead,
    FirstViolation,
    Scaling,
    StateSpace,
}

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Small budgets (3 s loom cells, 2,000 shuttle executions, 3 seeds, state space of the
    /// starters only): about a minute on 2 cores. The full run takes about 25 minutes.
    #[arg(long)]
    pub quick: bool,
    /// Machine-readable results on stdout (tables go away; progress stays on stderr).
    #[arg(long)]
    pub json: bool,
    /// Run only these sections (comma-separated). Default: all.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub only: Vec<Section>,
    /// Seconds per loom cell (default: 60, or 3 with --quick; state-space cells 20 or 2).
    #[arg(long, value_parser = crate::limits_arg::seconds)]
    pub cell_limit: Option<f64>,
}

#[derive(Serialize, Default)]
struct Report {
    machine: Machine,
    budgets: Option<Budgets>,
    engines: Vec<EngineRow>,
    overhead: Vec<OverheadRow>,
    first_violation: Vec<FirstViolationRow>,
    scaling: Vec<ScalingRow>,
    state_space: Vec<StateSpaceRow>,
    seconds: f64,
}

#[derive(Serialize, Default)]
struct Machine {
    cores: usize,
    cpu: String,
    memory_gib: f64,
    kexit: String,
}

impl Machine {
    fn read() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map_or("unknown".into(), |s| s.trim().to_string());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let kib: f64 = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        Machine {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu,
            memory_gib: kib / 1024.0 / 1024.0,
            kexit: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

pub fn main(a: BenchArgs) -> Result<u8, String> {
    let wanted = |s: Section| {
        if a.only.is_empty() {
            true
        } else {
            a.only.contains(&s)
        }
    };
    let budgets = Budgets::new(a.quick, a.cell_limit);
    let started = Instant::now();
    let mut progress = |what: &str| {
        eprintln!("[{:>6.1}s] {what}", started.elapsed().as_secs_f64());
    };
    let mut report = Report {
        machine: Machine::read(),
        budgets: Some(budgets.clone()),
        ..Report::default()
    };
    if wanted(Section::Engines) {
        report.engines = engines(&budgets, &mut progress);
    }
    if wanted(Section::Overhead) {
        report.overhead = overhead(&budgets, &mut progress);
    }
    if wanted(Section::FirstViolation) {
        report.first_violation = first_violation(&budgets, &mut progress);
    }
    if wanted(Section::Scaling) {
        report.scaling = scaling(&budgets, &mut progress);
    }
    if wanted(Section::StateSpace) {
        report.state_space = state_space(&budgets, a.quick, &mut progress);
    }
    report.seconds = started.elapsed().as_secs_f64();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report).expect("json"));
    } else {
        print!("{}", render(&report, a.quick));
    }
    let failed = all_cells(&report).any(|c| c.error.is_some());
    Ok(if failed { 1 } else { 0 })
}

fn all_cells(r: &Report) -> impl Iterator<Item = &CellResult> {
    r.engines
        .iter()
        .map(|e| &e.result)
        .chain(r.overhead.iter().flat_map(|o| [&o.kexit, &o.raw]))
        .chain(r.scaling.iter().flat_map(|s| [&s.single, &s.parallel]))
        .chain(r.state_space.iter().flat_map(|s| s.cells.iter()))
}

fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn rate(x: f64) -> String {
    count(x.round() as u64)
}

fn mib(c: &CellResult) -> String {
    c.peak_rss_kib
        .map_or("-".into(), |k| format!("{:.0}", k as f64 / 1024.0))
}

fn cell_status(c: &CellResult) -> String {
    if let Some(e) = &c.error {
        format!("error: {e}")
    } else if let Some(v) = &c.violation {
        format!("violation ({v})")
    } else if c.exhaustive {
        "exhaustive".into()
    } else {
        "budget reached".into()
    }
}

fn render(r: &Report, quick: bool) -> String {
    let mut o = String::new();
    let m = &r.machine;
    o += &format!(
        "# kexit bench{}\n\nmachine: {} cores, {}, {:.1} GiB; kexit {}; {:.0} s in all\n",
        if quick { " --quick" } else { "" },
        m.cores,
        m.cpu,
        m.memory_gib,
        m.kexit,
        r.seconds
    );
    if !r.engines.is_empty() {
        o += "\n## Engines on the starter scenarios (seed variant)\n\n";
        o += "| scenario | engine | executions | points/execution | executions/s | points/s | peak MiB | result |\n";
        o += "|---|---|---|---|---|---|---|---|\n";
        for e in &r.engines {
            let c = &e.result;
            o += &format!(
                "| {} | {} | {} | {:.0} | {} | {} | {} | {} |\n",
                e.scenario,
                e.label,
                count(c.executions),
                c.points_per_execution(),
                rate(c.executions_per_second()),
                rate(c.points_per_second()),
                mib(c),
                cell_status(c)
            );
        }
    }
    if !r.overhead.is_empty() {
        o += "\n## Harness overhead: kexit's exit-vs-wait against a hand-written test\n\n";
        o += "Each side's median over the repeated runs (scheduling points per second).\n\n";
        o += "| setting | kexit executions | kexit points/s | raw executions | raw points/s | kexit / raw |\n";
        o += "|---|---|---|---|---|---|\n";
        for w in &r.overhead {
            o += &format!(
                "| {} | {}{} | {} | {}{} | {} | {:.2}x |\n",
                w.setting,
                count(w.kexit.executions),
                if w.kexit.exhaustive {
                    " (exhaustive)"
                } else {
                    ""
                },
                rate(w.kexit.points_per_second()),
                count(w.raw.executions),
                if w.raw.exhaustive {
                    " (exhaustive)"
                } else {
                    ""
                },
                rate(w.raw.points_per_second()),
                w.ratio
            );
        }
    }
    if !r.first_violation.is_empty() {
        o += "\n## Time to the first violation of each re-created bug\n\n";
        o += "Medians over the seeds for pct, random and urw; one run for loom, dfs and os.\n\n";
        o += "| variant | scenario | engine | caught | median executions | median seconds | kind |\n";
        o += "|---|---|---|---|---|---|---|\n";
        for f in &r.first_violation {
            o += &format!(
                "| {} | {} | {} | {}/{} | {} | {} | {} |\n",
                f.variant,
                f.scenario,
                f.engine.name(),
                f.caught,
                f.runs,
                f.median_executions.map_or("missed".into(), count),
                f.median_seconds.map_or("-".into(), |s| format!("{s:.3}")),
                if f.kinds.is_empty() {
                    "-".into()
                } else {
                    f.kinds.join(", ")
                }
            );
        }
    }
    if !r.scaling.is_empty() {
        o += "\n## Parallel scaling (threaded-exit)\n\n";
        o +=
            "The ceiling runs the same executions as independent one-job processes, one per core: \
              the speed-up the machine itself gives when nothing is shared.\n\n";
        o += "| engine | executions | 1 job | N jobs | speed-up | independent processes | ceiling |\n";
        o += "|---|---|---|---|---|---|---|\n";
        for s in &r.scaling {
            o += &format!(
                "| {} | {} | {:.2} s | {:.2} s ({} jobs) | {:.2}x | {:.2} s | {:.2}x |\n",
                s.engine.name(),
                count(s.single.executions),
                s.single.seconds,
                s.parallel.seconds,
                s.jobs,
                s.speedup,
                s.independent_seconds,
                s.ceiling
            );
        }
    }
    if !r.state_space.is_empty() {
        o += &render_state_space(&r.state_space);
    }
    for c in all_cells(r).filter(|c| c.error.is_some()) {
        o += &format!("\nerror: {}\n", c.error.as_deref().unwrap_or_default());
    }
    o
}

fn render_state_space(rows: &[StateSpaceRow]) -> String {
    let mut o = String::from("\n## Loom state space: executions per preemption bound\n\n");
    o += "Each bound explored alone; `>N` = not exhaustive within the cell's time limit.\n\n";
    o += "| scenario | actors | bound 1 | bound 2 | bound 3 | unbounded |\n|---|---|---|---|---|---|\n";
    let (mut finished, mut total) = (Vec::new(), 0.0);
    for s in rows {
        let cells: Vec<String> = s
            .cells
            .iter()
            .map(|c| {
                if c.error.is_some() {
                    "error".into()
                } else if c.violation.is_some() {
                    format!("violation after {}", count(c.executions))
                } else if c.exhaustive {
                    format!("{} ({:.1} s)", count(c.executions), c.seconds)
                } else {
                    format!(">{} ({:.0} s)", count(c.executions), c.seconds)
                }
            })
            .collect();
        o += &format!(
            "| {} | {} | {} |\n",
            s.scenario,
            s.actors,
            cells.join(" | ")
        );
        if let Some(u) = s.cells.last() {
            total += u.seconds;
            if u.exhaustive {
                finished.push(s.scenario.as_str());
            }
        }
    }
    o += &format!(
        "\nUnbounded: {} of {} scenarios exhaustive; {:.0} s spent on the unbounded runs in all.\n",
        finished.len(),
        rows.len(),
        total
    );
    o
}
