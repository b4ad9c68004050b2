//! Every signal does what its default action in kern_sig.c's sigproptbl says, as a parent
//! waiting for its child sees it: a terminating signal is reaped as `signaled(N)` (with the
//! core flag in the raw word for the core-dumping ones), a stop and a continue are reported to
//! WUNTRACED and WCONTINUED waits, an ignored signal leaves the child running.

use kexit_checker::api::Check;
use kexit_model::flags::{default_action, signal_name, DefaultAction, SIGMAX, WCOREFLAG};

/// A parent that sends `sig` to its sleeping child and then runs `then`.
fn scenario(name: &str, sig: i32, then: &str, reaped: &str) -> String {
    format!(
        r#"
name = "{name}"
expect_reaped = [ {reaped} ]
[[procs]]
pid = 2
lwps = [ {{ script = [ {{ op = "kill", pid = 3, sig = {sig} }}, {then} ] }} ]
[[procs]]
pid = 3
parent = 2
lwps = [ {{ script = [ {{ op = "sleep", pcatch = true }} ] }} ]
"#
    )
}

fn passes_exhaustively(toml: &str) {
    let checked = Check::toml(toml).run().expect("a valid scenario");
    assert!(checked.ok(), "{toml}\n{}", checked.summary());
    assert!(checked.exhaustive, "{toml}\n{}", checked.summary());
}

#[test]
fn each_terminating_signal_is_reaped_with_its_number_and_core_flag() {
    let mut checked = 0;
    for sig in 1..=SIGMAX {
        let core = match default_action(sig) {
            DefaultAction::Terminate => 0,
            DefaultAction::Core => WCOREFLAG,
            _ => continue,
        };
        let raw = sig | core;
        let want = format!(r#"pid = 3, status = "signaled({sig})", raw = {raw}"#);
        let toml = scenario(
            &format!("killed-by-{}", signal_name(sig)),
            sig,
            &format!(r#"{{ op = "wait", pid = 3, expect = {{ {want} }} }}"#),
            &format!("{{ by = 2, {want} }}"),
        );
        passes_exhaustively(&toml);
        checked += 1;
    }
    // HUP INT QUIT ILL TRAP ABRT EMT FPE KILL BUS SEGV SYS PIPE ALRM TERM XCPU XFSZ VTALRM
    // PROF USR1 USR2 and the last three of the table.
    assert!(checked >= 20, "only {checked} terminating signals");
}

#[test]
fn the_wrong_raw_word_is_a_violation() {
    // SIGQUIT dumps core: expecting the word without WCOREFLAG must fail.
    let toml = scenario(
        "quit-without-core-flag",
        3,
        r#"{ op = "wait", pid = 3, expect = { pid = 3, raw = 3 } }"#,
        "",
    );
    let checked = Check::toml(&toml).run().expect("a valid scenario");
    let v = checked.violation.as_ref().expect("a violation");
    assert!(v.message.contains("raw 0x83"), "{v}");
}

#[test]
fn stop_and_continue_reach_wuntraced_and_wcontinued_waits() {
    let then = r#"{ op = "wait", pid = 3, options = ["WUNTRACED"], expect = { pid = 3, status = "stopped(17)", raw = 0x117f } },
                  { op = "kill", pid = 3, sig = "CONT" },
                  { op = "wait", pid = 3, options = [4], expect = { pid = 3, status = "continued" } },
                  { op = "kill", pid = 3, sig = "KILL" },
                  { op = "wait", pid = 3, expect = { pid = 3, status = "signaled(9)" } }"#;
    let toml = scenario(
        "stop-cont-kill",
        17,
        then,
        r#"{ by = 2, pid = 3, status = "signaled(9)" }"#,
    );
    passes_exhaustively(&toml);
}

#[test]
fn an_ignored_signal_leaves_the_child_running() {
    for sig in (1..=SIGMAX).filter(|s| default_action(*s) == DefaultAction::Ignore) {
        // Had it killed the child, the wait would report it (a WNOHANG poll would copy out
        // an unwritten status: finding F1).
        let then = r#"{ op = "kill", pid = 3 },
                      { op = "wait", pid = 3, expect = { pid = 3, status = "signaled(9)" } }"#;
        let toml = scenario(&format!("ignores-{sig}"), sig, then, "");
        passes_exhaustively(&toml);
    }
}

/// A stopped child continued by SIGCONT that it catches, or ignores, is continued all the same
/// (kern_sig.c 1219-1245; kern_sigaction never marks SIGCONT ignored, 341-344): the parent's
/// WCONTINUED wait reports it. Were the continue left to the default action alone, that wait
/// would sleep for ever.
#[test]
fn a_caught_or_ignored_sigcont_still_continues_a_stopped_child() {
    let then = r#"{ op = "wait", pid = 3, options = ["WUNTRACED"], expect = { pid = 3, status = "stopped(17)" } },
                  { op = "kill", pid = 3, sig = "CONT" },
                  { op = "wait", pid = 3, options = ["WCONTINUED"], expect = { pid = 3, status = "continued" } },
                  { op = "kill", pid = 3, sig = "KILL" },
                  { op = "wait", pid = 3, expect = { pid = 3, status = "signaled(9)" } }"#;
    for disposition in ["catch", "ignore"] {
        let toml = scenario(&format!("{disposition}-cont"), 17, then, "").replace(
            "parent = 2\n",
            &format!("parent = 2\n{disposition} = [\"CONT\"]\n"),
        );
        passes_exhaustively(&toml);
    }
}
