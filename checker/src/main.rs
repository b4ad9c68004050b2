use clap::Parser;
use kexit_checker::cli::{Cli, Command};
use kexit_checker::{check, info, replay};
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
    kexit_checker::run::install_quiet_panic_hook();
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
        Command::Bench(a) => kexit_checker::bench::main(a),
        Command::BenchCell { spec } => kexit_checker::bench::cell::worker(&spec),
        Command::LoomWorker(a) => kexit_checker::isolate::worker(a),
        Command::Coverage { iterations, json } => kexit_checker::coverage::main(iterations, json),
        Command::Explain { name } => info::explain(&name),
        Command::Fuzz(a) => kexit_checker::fuzz::main(a),
        Command::Mutants {
            json,
            iterations,
            out,
        } => kexit_checker::mutants::main(json, &out, iterations),
    };
    match r {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("kexit: {e}");
            ExitCode::from(2)
        }
    }
}
