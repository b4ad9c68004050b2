//! The one protocol between kexit and the child processes it runs itself (`kexit __loom-worker`,
//! `kexit __bench-cell`): the child gets its request as one JSON argument and answers with
//! one JSON line, the last of its standard output. A child never outlives kexit, and an
//! interrupted run kills it.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::process::{Command, Stdio};
use std::time::Duration;

/// How a child ended: its reply when it ended normally with one, and its output.
pub struct ChildEnd<R> {
    pub reply: Option<R>,
    pub status: std::process::ExitStatus,
    pub stderr: String,
}

impl<R> ChildEnd<R> {
    /// At most `n` non-empty lines of the child's standard error, its first or its last,
    /// joined by " | ".
    pub fn stderr_lines(&self, n: usize, last: bool) -> String {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        let n = n.min(lines.len());
        let range = if last {
            lines.len() - n..lines.len()
        } else {
            0..n
        };
        lines[range].join(" | ")
    }
}

/// Runs `kexit <subcommand> <request as JSON>` to its end (or until the run is interrupted).
pub fn run<Q: Serialize, R: DeserializeOwned>(
    subcommand: &str,
    request: &Q,
) -> Result<ChildEnd<R>, String> {
    // /proc/self/exe still runs this binary if it was rebuilt or removed during a long run.
    let proc_exe = std::path::Path::new("/proc/self/exe");
    let exe = if proc_exe.exists() {
        proc_exe.to_path_buf()
    } else {
        std::env::current_exe().map_err(|e| format!("cannot find kexit's own executable: {e}"))?
    };
    let mut cmd = Command::new(exe);
    cmd.args([
        subcommand,
        &serde_json::to_string(request).expect("a request serializes"),
    ]);
    die_with_parent(&mut cmd);
    let out = wait_interruptibly(&mut cmd, subcommand)?;
    let reply = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .filter(|_| out.status.success());
    Ok(ChildEnd {
        reply,
        status: out.status,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// The child side: its request, parsed from the JSON argument.
pub fn request<Q: DeserializeOwned>(json: &str) -> Result<Q, String> {
    serde_json::from_str(json).map_err(|e| format!("bad request from kexit: {e}"))
}

/// The child side: its reply, as the last line of standard output.
pub fn reply<R: Serialize>(r: &R) -> Result<u8, String> {
    println!("{}", serde_json::to_string(r).expect("a reply serializes"));
    Ok(0)
}

/// A child must not outlive kexit: a CI runner that kills kexit at its timeout would
/// otherwise leave a loom worker exploring until its own budget (forever with `--deep`). On Linux
/// the kernel kills it when its parent dies (PR_SET_PDEATHSIG); a parent that died before the
/// child could ask for that is noticed at once.
fn die_with_parent(cmd: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: between fork and exec the closure makes only async-signal-safe calls
        // (prctl, getppid, _exit) and allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cmd;
}

/// Runs the child to its end, or kills it when the run is interrupted (`interrupt.rs`): an
/// interrupted child is no finding.
fn wait_interruptibly(cmd: &mut Command, what: &str) -> Result<std::process::Output, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start `kexit {what}`: {e}"))?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if crate::interrupt::requested() => {
                let _ = child.kill();
            }
            Ok(None) => {}
            Err(e) => return Err(format!("`kexit {what}`: {e}")),
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = std::process::Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    if crate::interrupt::requested() && !out.status.success() {
        return Err("interrupted".to_string());
    }
    Ok(out)
}

/// Reads a child's pipe to its end on a thread of its own (a full pipe would block the child).
fn drain<R: std::io::Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    })
}
