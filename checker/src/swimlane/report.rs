//! A run's report page: one row per result, each violation linked to its swimlane page.

use super::html::esc;
use std::fmt::Write;

/// One result of a run.
pub struct ReportRow {
    pub scenario: String,
    pub variant: String,
    pub engine: String,
    pub verdict: String,
    /// The verdict is what the scenario expects (pass, or the expected violation caught).
    pub ok: bool,
    pub exhaustive: bool,
    pub executions: u64,
    pub seconds: f64,
    /// The violation's one-line text, if any.
    pub violation: Option<String>,
    /// The swimlane page of the violation, relative to the report.
    pub page: Option<String>,
}

const STYLE: &str = "
body{font:13px/1.4 system-ui,sans-serif;margin:10px;color:#222}
h1{font-size:17px}
table{border-collapse:collapse}
th,td{border:1px solid #ccd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#eef}
td.n{text-align:right}
tr.bad td{background:#fdd}
tr.ok td.v{color:#185;font-weight:600}
tr.bad td.v{color:#a00;font-weight:600}
";

/// Writes DIR/report.html for `rows` and says where on stderr.
pub fn write(
    dir: &std::path::Path,
    title: &str,
    summary: &str,
    rows: &[ReportRow],
) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("--html {}: {e}", dir.display()))?;
    let path = dir.join("report.html");
    std::fs::write(&path, render(title, summary, rows))
        .map_err(|e| format!("--html {}: {e}", path.display()))?;
    eprintln!("report: {}", path.display());
    Ok(())
}

/// The page for `rows`, titled `title`, with `summary` under the title.
pub fn render(title: &str, summary: &str, rows: &[ReportRow]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}</title><style>{STYLE}</style></head><body>\n<h1>{0}</h1><p>{1}</p>\n<table id=\"results\"><thead><tr><th>scenario</th><th>variant</th><th>engine</th><th>verdict</th><th>exhaustive</th><th>executions</th><th>time</th><th>violation</th></tr></thead><tbody>\n",
        esc(title),
        esc(summary)
    );
    for r in rows {
        let violation = match (&r.violation, &r.page) {
            (Some(v), Some(p)) => {
                format!("<a class=\"swimlane\" href=\"{}\">{}</a>", esc(p), esc(v))
            }
            (Some(v), None) => esc(v),
            (None, _) => String::new(),
        };
        let _ = writeln!(
            out,
            "<tr class=\"result {}\"><td>{}</td><td>{}</td><td>{}</td><td class=\"v\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{:.2} s</td><td>{violation}</td></tr>",
            if r.ok { "ok" } else { "bad" },
            esc(&r.scenario),
            esc(&r.variant),
            esc(&r.engine),
            esc(&r.verdict),
            if r.exhaustive { "yes" } else { "no" },
            r.executions,
            r.seconds
        );
    }
    out.push_str("</tbody></table></body></html>\n");
    out
}
