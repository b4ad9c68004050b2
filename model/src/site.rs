//! Source sites: every modeled step names where it is in the seed (`kern_exit.c:LINE`) or,
//! for the documented stubs outside the seed, which kernel file and function it stands for.

#[derive(Debug)]
pub struct Site {
    /// `kern_exit.c` for seed steps; the kernel file of a stub otherwise.
    pub file: &'static str,
    /// The C function the step belongs to.
    pub func: &'static str,
    /// Seed line (0 for stubs: the trace then shows the calling seed line).
    pub line: u32,
    /// A C token that appears on that seed line (checked by the fidelity test).
    pub cites: &'static str,
}

impl Site {
    pub fn is_seed(&self) -> bool {
        self.line != 0
    }
}

/// `at!(LINE, "token")`: a step of the enclosing seed function (named by the `F` const in
/// scope) at `kern_exit.c:LINE`, whose source line contains `token`.
#[macro_export]
macro_rules! at {
    ($line:literal, $tok:literal) => {{
        static SITE: $crate::site::Site = $crate::site::Site {
            file: "kern_exit.c",
            func: F,
            line: $line,
            cites: $tok,
        };
        &SITE
    }};
}

/// `ext!("kern_proc.c", "pstall")`: a step inside a stub of code outside the seed.
#[macro_export]
macro_rules! ext {
    ($file:literal, $func:literal) => {{
        static SITE: $crate::site::Site = $crate::site::Site {
            file: $file,
            func: $func,
            line: 0,
            cites: "",
        };
        &SITE
    }};
}

include!(concat!(env!("OUT_DIR"), "/sites.rs"));
