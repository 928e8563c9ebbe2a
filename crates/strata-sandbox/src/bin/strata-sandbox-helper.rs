//! The sandbox helper for this crate's tests. As `strata` does, it becomes the
//! helper when asked ([`strata_sandbox::run_if_requested`]); otherwise
//! `strata-sandbox-helper run <rootfs dir> <spec json>` runs one sandbox and
//! prints its output, for the tests that kill a sandbox's parent.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;

fn main() {
    strata_sandbox::run_if_requested();
    let arguments: Vec<String> = std::env::args().collect();
    if arguments.len() != 4 || arguments[1] != "run" {
        eprintln!("usage: strata-sandbox-helper run <rootfs dir> <spec json>");
        std::process::exit(2);
    }
    let spec: strata_sandbox::Spec = match serde_json::from_str(&arguments[3]) {
        Ok(spec) => spec,
        Err(e) => {
            eprintln!("bad spec: {e}");
            std::process::exit(2);
        }
    };
    let rootfs = strata_sandbox::RootFs::Directory(arguments[2].clone().into());
    let result = strata_sandbox::Sandbox::new().and_then(|sandbox| {
        sandbox.run(rootfs, &spec, |_, line| {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(line);
            let _ = out.write_all(b"\n");
            let _ = out.flush();
        })
    });
    match result {
        Ok(status) => println!("status: {status}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
