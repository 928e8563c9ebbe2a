//! Parse + expand throughput (written below).
fn main() {}
