//! Helpers shared by the end-to-end tests that run the `kexit` binary.
// Each test crate uses its own subset.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

pub fn kexit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kexit"))
        .args(args)
        .output()
        .expect("kexit runs")
}

pub fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

/// stdout and stderr together, for assertion messages and searches.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// An empty directory of this test process's own.
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kexit-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
