//! `kexit list` and `kexit variants`.

pub mod coverage;

use crate::engine::LOOM_MAX_ACTORS;
use kexit_model::variant::VARIANTS;
use serde::Serialize;

#[derive(Serialize)]
struct ListRow {
    name: String,
    actors: Vec<String>,
    threads: usize,
    engines: Vec<&'static str>,
    purpose: String,
}

pub fn list(json: bool) -> Result<u8, String> {
    let mut rows = Vec::new();
    for s in kexit_scenarios::try_catalogue().map_err(|e| format!("invalid catalogue file: {e}"))? {
        let (k, _) = kexit_scenarios::world::build(&s.spec, &kexit_model::Variant::default());
        let threads = s.spec.actor_count();
        let mut engines = vec!["pct", "random", "urw", "dfs", "os"];
        if threads <= LOOM_MAX_ACTORS {
            engines.insert(0, "loom");
        }
        rows.push(ListRow {
            name: s.spec.name.clone(),
            actors: k.actors.iter().map(|a| a.label.clone()).collect(),
            threads,
            engines,
            purpose: s.spec.description.clone(),
        });
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows).expect("json"));
    } else {
        println!("{:<36} {:>7}  {:<5} purpose", "scenario", "threads", "loom");
        for r in &rows {
            let loom = if r.engines.contains(&"loom") {
                "yes"
            } else {
                "no"
            };
            println!("{:<36} {:>7}  {:<5} {}", r.name, r.threads, loom, r.purpose);
        }
        println!("\n{} scenarios", rows.len());
    }
    Ok(0)
}

/// A variant as `kexit variants --json` lists it: the model's description with the
/// scenarios that expose it.
#[derive(Serialize)]
struct VariantRow {
    name: &'static str,
    description: &'static str,
    upstream: &'static str,
    functions: &'static [&'static str],
    lines: &'static str,
    exposed_by: &'static [&'static str],
    expect: &'static str,
}

fn variant_rows() -> Vec<VariantRow> {
    VARIANTS
        .iter()
        .map(|v| {
            let e = kexit_scenarios::exposure::exposure(v.name);
            VariantRow {
                name: v.name,
                description: v.description,
                upstream: v.upstream,
                functions: v.functions,
                lines: v.lines,
                exposed_by: e.map_or(&[], |e| e.scenarios),
                expect: e.map_or("", |e| e.expect),
            }
        })
        .collect()
}

pub fn variants(json: bool) -> Result<u8, String> {
    let rows = variant_rows();
    if json {
        println!("{}", serde_json::to_string_pretty(&rows).expect("json"));
        return Ok(0);
    }
    for v in &rows {
        println!("{}\n    {}", v.name, v.description);
        println!("    upstream: {}", v.upstream);
        if !v.functions.is_empty() {
            // Lines outside the seed name their own file.
            let file = if v.lines.starts_with(|c: char| c.is_ascii_digit()) {
                "kern_exit.c:"
            } else {
                ""
            };
            println!(
                "    touches: {} ({file}{})",
                v.functions.join(", "),
                v.lines
            );
        }
        if !v.exposed_by.is_empty() {
            println!("    exposed by: {} ({})", v.exposed_by.join(", "), v.expect);
        }
    }
    Ok(0)
}

/// `kexit explain NAME`.
pub fn explain(name: &str) -> Result<u8, String> {
    let s = kexit_scenarios::select::resolve(&[name.to_string()])?
        .into_iter()
        .next()
        .ok_or("no scenario")?;
    let spec = &s.spec;
    println!("{} ({})\n  {}\n", spec.name, s.origin, spec.description);
    let comment: Vec<&str> = s
        .text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim())
        .collect();
    if !comment.is_empty() {
        println!("  {}\n", comment.join("\n  "));
    }
    let (k, _) = kexit_scenarios::world::build(spec, &kexit_model::Variant::default());
    println!(
        "actors ({}; loom {}):",
        k.actors.len(),
        if spec.actor_count() <= LOOM_MAX_ACTORS {
            "fits"
        } else {
            "does not fit, shuttle and OS threads only"
        }
    );
    print_procs(spec);
    if spec.init_waits {
        println!("  init reaps whatever is reparented to it");
    }
    for c in spec.reaper_cpus() {
        println!("  reaper on cpu{c}");
    }
    println!("\nchecked: every invariant (deadlock, KKASSERT, use after free, token ownership, data races, double reap, leftovers, lists, copyout)");
    for e in &spec.expect_reaped {
        println!(
            "  expects pid {} reaped by pid {}{}",
            e.pid,
            e.by,
            e.status
                .as_ref()
                .map(|s| format!(" with {s:?}"))
                .unwrap_or_default()
        );
    }
    if let Some(f) = &spec.known_finding {
        let title = kexit_scenarios::findings::finding(&f.id).map_or("", |r| r.title);
        println!(
            "  known finding {} on the seed, {title}: {} (fixed by {})",
            f.id,
            f.kind,
            f.fixed_by.join(", ")
        );
    }
    if let Some(b) = spec.loom_bound {
        println!("  loom preemption bound {b}");
    }
    let budget = crate::engine::Budget {
        iterations: 300,
        ..Default::default()
    };
    let r = crate::engine::run(
        spec,
        &kexit_model::Variant::default(),
        crate::engine::EngineKind::Pct,
        &budget,
        &|_| {},
    );
    let mut by_fn: std::collections::BTreeMap<&str, Vec<u32>> = Default::default();
    for (f, l) in kexit_model::site::MODELED_LINES {
        let w = (*l / 64) as usize;
        if r.lines.get(w).is_some_and(|b| b & (1 << (l % 64)) != 0)
            && by_fn.get(f).is_none_or(|v| !v.contains(l))
        {
            by_fn.entry(f).or_default().push(*l);
        }
    }
    println!("\nseed lines it reaches (300 PCT executions):");
    for f in crate::cmd::info::coverage::FUNCTIONS {
        if let Some(v) = by_fn.get(f) {
            let ls: Vec<String> = v.iter().map(|l| l.to_string()).collect();
            println!("  {f}: {}", ls.join(" "));
        }
    }
    Ok(0)
}

/// Each process with its flags, and each of its LWPs with its script.
fn print_procs(spec: &kexit_scenarios::Spec) {
    for p in &spec.procs {
        let mut flags = Vec::new();
        for (on, f) in [
            (p.traced, "traced"),
            (p.nocldwait, "PS_NOCLDWAIT"),
            (p.cldsigign, "PS_CLDSIGIGN"),
            (p.ppwait, "P_PPWAIT"),
            (p.stopped, "stopped"),
            (p.continued, "P_CONTINUED"),
            (p.sigchld_caught, "catches SIGCHLD"),
            (p.ctty, "P_CONTROLT"),
        ] {
            if on {
                flags.push(f.to_string());
            }
        }
        if p.oppid != 0 {
            flags.push(format!("original parent {}", p.oppid));
        }
        println!(
            "  pid {} (parent {}, pgid {}){}",
            p.pid,
            if p.parent == 0 { 1 } else { p.parent },
            p.group(),
            if flags.is_empty() {
                String::new()
            } else {
                format!(" [{}]", flags.join(", "))
            }
        );
        for (i, l) in p.lwps.iter().enumerate() {
            let ops: Vec<String> = l
                .script
                .iter()
                .map(|o| serde_json::to_string(o).expect("json"))
                .collect();
            println!("    lwp {} on cpu{}: {}", i + 1, l.cpu, ops.join(" ; "));
        }
    }
}
