//! Malformed scenario files: each gives exit code 2 and a message naming file, line and
//! column, never a panic.

use std::process::Command;

const CHILD: &str =
    "[[procs]]\npid = 3\nparent = 2\nlwps = [ { script = [ { op = \"exit\", code = 1 } ] } ]\n";
const PARENT: &str =
    "[[procs]]\npid = 2\nlwps = [ { script = [ { op = \"wait\", pid = -1 } ] } ]\n";

fn ok_body() -> String {
    format!("name = \"m\"\n{PARENT}{CHILD}")
}

/// (file content, expected message fragment, expected line)
fn cases() -> Vec<(String, &'static str, usize)> {
    let base = ok_body();
    vec![
        (base.replace("name = \"m\"", "nam = \"m\""), "unknown field `nam`", 1),
        (base.replace("name = \"m\"\n", ""), "missing field `name`", 1),
        (format!("ncpus = \"two\"\n{base}"), "invalid type", 1),
        (base.replace("op = \"exit\", code = 1", "op = \"fork\""), "unknown variant `fork`", 8),
        (base.replace("code = 1", "code = 1, extra = 2"), "unknown field `extra`", 8),
        (base.replace("op = \"exit\", code = 1", "op = \"exit\""), "missing field `code`", 8),
        (base.replace("pid = 3\n", "pid = 2\n"), "pid 2 is declared twice", 3),
        (base.replace("parent = 2", "parent = 7"), "names parent 7", 7),
        (format!("name = \"m\"\n[[procs]]\npid = 2\nparent = 3\nlwps = [ {{ script = [ {{ op = \"exit\", code = 0 }} ] }} ]\n{CHILD}"), "parent cycle", 3),
        (base.replace("pid = -1 }", "pid = -1, expect = { pid = 9, status = \"exited(1)\" } }"), "expectation names pid 9", 4),
        (format!("name = \"m\"\nexpect_reaped = [ {{ by = 2, pid = 8 }} ]\n{PARENT}{CHILD}"), "expect_reaped names pid 8", 2),
        (base.replace("pid = -1 }", "pid = -1, expect = { errno = \"ENOPE\" } }"), "unknown errno", 4),
        (base.replace("pid = -1 }", "pid = -1, options = [\"WNOWAIT\"] }"), "unknown wait option \"WNOWAIT\"", 4),
        (base.replace("pid = -1 }", "pid = -1, options = [-1] }"), "wait option bits -1 are out of range", 4),
        (base.replace("pid = -1 }", "pid = -1, expect = { pid = 3, raw = 0x100000000 } }"), "raw status 4294967296 does not fit in 32 bits", 4),
        (base.replace("pid = -1 }", "pid = -1, expect = { errno = \"ECHILD\", raw = 0 } }"), "gives an errno and a status", 4),
        (base.replace("lwps = [ { script = [ { op = \"exit\"", "lwps = [ { cpu = 3, script = [ { op = \"exit\""), "ncpus = 1", 8),
        (base.replace("pid = 3\n", "pid = 0\n"), "pid 0 is the kernel", 6),
        (format!("init_waits = true\n{base}[[procs]]\npid = 1\nlwps = [ {{ script = [ {{ op = \"exit\", code = 0 }} ] }} ]\n"), "init (pid 1) either reaps", 11),
        (base.replace("op = \"exit\", code = 1", "op = \"kill\", pid = 5"), "kill names pid 5", 8),
        ("name = \"m\"\n[[procs]]\npid = 2\n".to_string(), "nothing to explore", 2),
        (base.replace("lwps = [ { script = [ { op = \"wait\", pid = -1 } ] } ]", "lwps = [ { script = [ "), "invalid array", 5),
        (base.replace("pid = -1 }", "pid = -1, expect = { pid = 3, status = 5 } }"), "StatusExpect", 4),
        (base.replace("parent = 2\n", "parent = 2\noppid = 6\n"), "original parent 6", 8),
        (base.replace("name = \"m\"", "name = \"\""), "scenario name is empty", 1),
        (base.replace("pid = 3\n", "pid = -3\n"), "invalid value", 6),
        (base.replace("pid = -1 }", "pid = -1, expect = { pid = 3, status = \"exploded(7)\" } }"), "not one the kernel can report", 4),
        (format!("name = \"m\"\nexpect_reaped = [ {{ by = 2, pid = 3, status = [\"exited(1)\", \"exited(300)\"] }} ]\n{PARENT}{CHILD}"), "\"exited(300)\"", 2),
        (base.replace("op = \"exit\", code = 1", "op = \"kill\", pid = 2, sig = \"BOGUS\""), "unknown signal name \"BOGUS\"", 8),
        (base.replace("op = \"exit\", code = 1", "op = \"kill\", pid = 2, sig = 99"), "signal 99 is out of range", 8),
        (base.replace("parent = 2\n", "parent = 2\ncatch = [\"KILL\"]\n"), "SIGKILL cannot be caught or ignored", 8),
        (base.replace("parent = 2\n", "parent = 2\ncatch = [\"TERM\"]\nignore = [\"SIGTERM\"]\n"), "SIGTERM is both caught and ignored", 8),
    ]
}

#[test]
fn malformed_scenarios_exit_2_with_file_line_and_column() {
    let dir = std::env::temp_dir().join(format!("kexit-malformed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The well-formed base really is well-formed.
    let good = dir.join("good.toml");
    std::fs::write(&good, ok_body()).unwrap();
    assert!(kexit_scenarios::parse("good.toml", &ok_body()).is_ok());
    let cases = cases();
    assert!(cases.len() >= 20);
    for (i, (content, want, line)) in cases.into_iter().enumerate() {
        let f = dir.join(format!("bad{i}.toml"));
        std::fs::write(&f, &content).unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_kexit"))
            .args([
                "check",
                f.to_str().unwrap(),
                "--engine",
                "pct",
                "--iterations",
                "1",
                "--out",
                dir.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "case {i}: {err}\n{content}");
        assert!(!err.contains("panicked"), "case {i} panicked: {err}");
        let prefix = format!("{}:{line}:", f.display());
        assert!(
            err.contains(&prefix),
            "case {i}: expected {prefix} in {err}\n{content}"
        );
        assert!(err.contains(want), "case {i}: expected {want:?} in {err}");
    }
}
