use clap::Parser;
use kexit_checker::cli::{Cli, Command};
use kexit_checker::cmd::info::coverage;
use kexit_checker::cmd::{bench, check, fuzz, info, mutants, replay};
use kexit_checker::engine::worker;
use std::process::ExitCode;

// The state engine allocates and frees small vectors at every step it replays; the system
// allocator spent about 14% of its instructions there (callgrind, threaded-exit).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Like other command-line tools, end quietly when the reader of stdout goes away
    // (`kexit list | head`) instead of panicking on the write.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    kexit_checker::engine::install_quiet_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let r = match cli.command {
        Command::Check(a) => {
            kexit_checker::interrupt::install();
            check::main(a)
        }
        Command::Replay(a) => replay::main(a),
        Command::List { json } => info::list(json),
        Command::Variants { json } => info::variants(json),
        Command::Bench(a) => bench::main(a),
        Command::BenchCell { spec } => bench::cell::worker(&spec),
        Command::LoomWorker { request } => worker::worker(&request),
        Command::Coverage { iterations, json } => coverage::main(iterations, json),
        Command::Explain { name } => info::explain(&name),
        Command::Fuzz(a) => fuzz::main(a),
        Command::Mutants {
            json,
            iterations,
            out,
            html,
        } => mutants::main(json, &out, iterations, html.as_deref()),
    };
    match r {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("kexit: {e}");
            ExitCode::from(2)
        }
    }
}
