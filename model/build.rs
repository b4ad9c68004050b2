//! Lists every `at!(LINE, "token")` citation of the model: `MODELED_LINES` tells `kexit
//! coverage` which seed lines are modeled (per function), `CITATIONS` lets the fidelity test
//! check each token against its seed line. One scanner for both.
use std::fs;
use std::path::Path;

/// One `at!(LINE, "token")`: source file (relative to model/), line in it, the enclosing
/// function's `const F` (empty outside one), seed line, token.
struct Citation {
    file: String,
    at: usize,
    func: String,
    line: u32,
    token: String,
}

/// The seed line and token of the `at!(` whose arguments start `rest`.
fn parse_args(rest: &str) -> Option<(u32, String)> {
    let (num, after) = rest.split_once(',')?;
    let line = num.trim().parse().ok()?;
    let q1 = after.find('"')?;
    let q2 = after[q1 + 1..].find('"')?;
    Some((line, after[q1 + 1..q1 + 1 + q2].to_string()))
}

fn scan(root: &Path, dir: &Path, out: &mut Vec<Citation>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            scan(root, &p, out);
            continue;
        }
        if p.extension().is_none_or(|x| x != "rs") {
            continue;
        }
        println!("cargo:rerun-if-changed={}", p.display());
        let file = p.strip_prefix(root).unwrap().display().to_string();
        let text = fs::read_to_string(&p).unwrap();
        let mut func = String::new();
        for (i, line) in text.lines().enumerate() {
            if let Some(rest) = line.trim().strip_prefix("const F: &str = \"") {
                func = rest.trim_end_matches("\";").to_string();
            }
            let mut rest = line;
            while let Some(pos) = rest.find("at!(") {
                rest = &rest[pos + 4..];
                if let Some((seed_line, token)) = parse_args(rest) {
                    out.push(Citation {
                        file: file.clone(),
                        at: i + 1,
                        func: func.clone(),
                        line: seed_line,
                        token,
                    });
                }
            }
        }
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    println!("cargo:rerun-if-changed={}", src.display());
    let mut cites = Vec::new();
    scan(root, &src, &mut cites);
    let mut lines: Vec<(&str, u32)> = cites
        .iter()
        .filter(|c| !c.func.is_empty())
        .map(|c| (c.func.as_str(), c.line))
        .collect();
    lines.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(b.0)));
    lines.dedup();
    let mut out = String::from(
        "/// (function, seed line) of every citation in the model.\npub static MODELED_LINES: &[(&str, u32)] = &[\n",
    );
    for (f, n) in lines {
        out += &format!("    ({f:?}, {n}),\n");
    }
    out += "];\n\n/// (file under model/, line in it, seed line, token) of every `at!(LINE, \"token\")`.\npub static CITATIONS: &[(&str, usize, u32, &str)] = &[\n";
    for c in &cites {
        out += &format!("    ({:?}, {}, {}, {:?}),\n", c.file, c.at, c.line, c.token);
    }
    out += "];\n";
    fs::write(
        Path::new(&std::env::var("OUT_DIR").unwrap()).join("sites.rs"),
        out,
    )
    .unwrap();
}
