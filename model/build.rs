//! Lists every `at!(LINE, "token")` citation of the model, so `kexit coverage` knows which
//! seed lines are modeled.
use std::fs;
use std::path::Path;

fn scan(dir: &Path, out: &mut Vec<(String, u32)>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            scan(&p, out);
            continue;
        }
        if p.extension().is_none_or(|x| x != "rs") {
            continue;
        }
        println!("cargo:rerun-if-changed={}", p.display());
        let text = fs::read_to_string(&p).unwrap();
        let mut func = String::new();
        for line in text.lines() {
            if let Some(rest) = line.trim().strip_prefix("const F: &str = \"") {
                func = rest.trim_end_matches("\";").to_string();
            }
            let mut rest = line;
            while let Some(i) = rest.find("at!(") {
                rest = &rest[i + 4..];
                let num: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
                if let Ok(n) = num.parse() {
                    if !func.is_empty() {
                        out.push((func.clone(), n));
                    }
                }
            }
        }
    }
}

fn main() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    println!("cargo:rerun-if-changed={}", src.display());
    let mut sites = Vec::new();
    scan(&src, &mut sites);
    sites.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    sites.dedup();
    let mut out = String::from("/// (function, seed line) of every citation in the model.\npub static MODELED_LINES: &[(&str, u32)] = &[\n");
    for (f, n) in sites {
        out += &format!("    ({f:?}, {n}),\n");
    }
    out += "];\n";
    fs::write(
        Path::new(&std::env::var("OUT_DIR").unwrap()).join("sites.rs"),
        out,
    )
    .unwrap();
}
