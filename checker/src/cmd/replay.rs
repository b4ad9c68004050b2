//! `kexit replay FILE`: check the file against the current scenario and variant, re-run the
//! recorded schedule on the replay engine, print the trace, and confirm the same violation.

use crate::report::{env_seed, explain, render_trace, seed_lines, steps_json, TraceOptions};
use crate::schedule::{decode, spec_hash, ScheduleFile, ViolationRecord};
use crate::swimlane::Swimlane;
use kexit_model::Variant;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// A schedule file written by `kexit check`, `mutants` or `fuzz` (under .kexit/failures/).
    pub file: PathBuf,
    /// Print the trace as JSON.
    #[arg(long)]
    pub json: bool,
    /// Show each step's line of the seed (path to kern_exit.c).
    #[arg(long)]
    pub source: Option<PathBuf>,
    /// Only show the steps of this pid's actors.
    #[arg(long)]
    pub focus: Option<u32>,
    /// Also write the trace as a swimlane page (one self-contained HTML file): one lane per
    /// actor, tokens held, sleeps, wakeups. The seed's lines come from --source, else from
    /// the file named by KEXIT_SEED.
    #[arg(long, value_name = "OUT.html")]
    pub html: Option<PathBuf>,
    /// Print the trace as lanes, one column per actor, instead of one line per step.
    #[arg(long, conflicts_with = "json")]
    pub lanes: bool,
    /// Width of --lanes in columns.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u16).range(40..))]
    pub width: u16,
}

pub fn main(a: ReplayArgs) -> Result<u8, String> {
    let f = ScheduleFile::load(&a.file)?;
    let scenario = if kexit_scenarios::is_catalogue_origin(&f.scenario_origin) {
        kexit_scenarios::by_name(&f.scenario).ok_or_else(|| {
            format!(
                "{}: scenario {:?} is not in this catalogue",
                a.file.display(),
                f.scenario
            )
        })?
    } else {
        // Where it was recorded (absolute, or relative to where kexit ran), else beside the
        // schedule file (a failures directory moved or copied elsewhere); the content hash
        // below says whether it is the same scenario.
        let recorded = std::path::PathBuf::from(&f.scenario_origin);
        let beside = recorded
            .file_name()
            .map(|n| a.file.parent().unwrap_or(std::path::Path::new(".")).join(n));
        let path = std::iter::once(recorded.clone())
            .chain(beside)
            .find(|p| p.is_file())
            .unwrap_or(recorded);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "{}: cannot read scenario {}: {e}",
                a.file.display(),
                f.scenario_origin
            )
        })?;
        kexit_scenarios::parse(&path.display().to_string(), &text).map_err(|e| e.to_string())?
    };
    let hash = spec_hash(&scenario.spec);
    if hash != f.scenario_hash {
        return Err(format!(
            "{}: scenario {:?} has changed since the schedule was recorded (content hash {} now, {} then)",
            a.file.display(),
            f.scenario,
            hash,
            f.scenario_hash
        ));
    }
    let variant = Variant::by_name(&f.variant)
        .ok_or_else(|| format!("{}: unknown variant {:?}", a.file.display(), f.variant))?;
    // The text trace shows seed lines on request (--source); the swimlane page whenever the
    // seed can be found (--source, else KEXIT_SEED).
    let source = a
        .source
        .as_deref()
        .map(|p| seed_lines(p, "--source"))
        .transpose()?;
    let page_source = match &source {
        Some(s) => Some(s.clone()),
        None => env_seed()?,
    };
    let schedule = decode(&f.schedule).expect("checked by load");
    let out = crate::engine::replay(&scenario.spec, &variant, &schedule);
    let got: Option<ViolationRecord> = out.violation.as_ref().map(Into::into);
    let same = got.as_ref() == Some(&f.violation);
    let title = format!("{} under {} (found by {})", f.scenario, f.variant, f.engine);
    if let Some(path) = &a.html {
        let sw = Swimlane::new(title.clone(), &out, page_source.as_deref());
        std::fs::write(path, crate::swimlane::html::render(&sw))
            .map_err(|e| format!("--html {}: {e}", path.display()))?;
        eprintln!("swimlane page: {}", path.display());
    }
    if a.json {
        let doc = serde_json::json!({
            "scenario": f.scenario, "variant": f.variant, "engine": f.engine, "seed": f.seed,
            "reproduced": same, "violation": got, "recorded_violation": f.violation,
            "steps": steps_json(&out, a.focus),
        });
        println!("{}", serde_json::to_string_pretty(&doc).expect("json"));
    } else if a.lanes {
        let sw = Swimlane::new(title, &out, source.as_deref());
        print!("{}", crate::swimlane::text::render(&sw, a.width as usize));
        if !same {
            println!("\nthe replay does not reproduce the recorded violation");
        }
    } else {
        println!(
            "replay of {} (scenario {}, variant {}, found by {}{})\n",
            a.file.display(),
            f.scenario,
            f.variant,
            f.engine,
            f.seed.map(|s| format!(" seed {s}")).unwrap_or_default()
        );
        print!(
            "{}",
            render_trace(
                &out,
                &TraceOptions {
                    source: source.as_deref(),
                    focus: a.focus
                }
            )
        );
        if out.violation.is_none() {
            println!("\nno violation on replay");
        }
        if !same {
            println!("\nthe replay does not reproduce the recorded violation:\n  recorded: {} at {}:{} - {}", f.violation.kind, f.violation.function, f.violation.line, f.violation.message);
        } else if let Some(v) = &out.violation {
            let _ = explain(v);
            println!("\nreproduced: the recorded violation, step for step");
        }
    }
    Ok(if same { 1 } else { 2 })
}
