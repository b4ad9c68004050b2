//! `kexit list` and `kexit variants`.

use crate::run::LOOM_MAX_ACTORS;
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
        let (k, _) = kexit_model::world::build(&s.spec, &kexit_model::Variant::default());
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
        println!("{:<26} {:>7}  {:<5} purpose", "scenario", "threads", "loom");
        for r in &rows {
            let loom = if r.engines.contains(&"loom") {
                "yes"
            } else {
                "no"
            };
            println!("{:<26} {:>7}  {:<5} {}", r.name, r.threads, loom, r.purpose);
        }
        println!("\n{} scenarios", rows.len());
    }
    Ok(0)
}

pub fn variants(json: bool) -> Result<u8, String> {
    if json {
        println!("{}", serde_json::to_string_pretty(VARIANTS).expect("json"));
        return Ok(0);
    }
    for v in VARIANTS {
        println!("{}\n    {}", v.name, v.description);
        println!("    upstream: {}", v.upstream);
        if !v.functions.is_empty() {
            println!(
                "    touches: {} (kern_exit.c:{})",
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
