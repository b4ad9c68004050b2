//! Scenario files named on the command line: a file, a directory (every `.toml` in it), or a
//! pattern over file names in one directory (`mine/*.toml`, `race-?.toml`), in name order.

use std::path::{Path, PathBuf};

/// Whether `pat` (with `*` and `?`) matches all of `s`.
pub fn glob(pat: &str, s: &str) -> bool {
    fn m(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => m(&p[1..], s) || (!s.is_empty() && m(p, &s[1..])),
            (Some(b'?'), Some(_)) => m(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => m(&p[1..], &s[1..]),
            _ => false,
        }
    }
    m(pat.as_bytes(), s.as_bytes())
}

/// The scenario files `arg` names (see the module documentation); an error when a pattern or a
/// directory has none.
pub fn files(arg: &str) -> Result<Vec<PathBuf>, String> {
    let path = Path::new(arg);
    let (dir, pattern) = if path.is_dir() {
        (path.to_path_buf(), "*.toml".to_string())
    } else {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if !name.contains(['*', '?']) {
            return Ok(vec![path.to_path_buf()]);
        }
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        (dir.to_path_buf(), name)
    };
    let entries = std::fs::read_dir(&dir)
        .map_err(|e| format!("{arg}: cannot read directory {}: {e}", dir.display()))?;
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .is_some_and(|n| glob(&pattern, &n.to_string_lossy()))
        })
        .collect();
    found.sort();
    if found.is_empty() {
        return Err(format!("{arg}: no scenario file matches"));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_whole_names() {
        assert!(glob("exit-*", "exit-vs-wait"));
        assert!(glob("race-?.toml", "race-1.toml"));
        assert!(!glob("race-?.toml", "race-10.toml"));
        assert!(!glob("*.toml", "a.toml.bak"));
    }

    #[test]
    fn a_directory_or_a_pattern_names_its_files_in_order() {
        let d = std::env::temp_dir().join(format!("kexit-paths-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        for f in ["b.toml", "a.toml", "notes.txt"] {
            std::fs::write(d.join(f), "").unwrap();
        }
        let names = |v: Vec<PathBuf>| -> Vec<String> {
            v.iter()
                .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
                .collect()
        };
        assert_eq!(
            names(files(d.to_str().unwrap()).unwrap()),
            ["a.toml", "b.toml"]
        );
        let pat = format!("{}/b*", d.display());
        assert_eq!(names(files(&pat).unwrap()), ["b.toml"]);
        assert!(files(&format!("{}/z*.toml", d.display())).is_err());
        let _ = std::fs::remove_dir_all(d);
    }
}
