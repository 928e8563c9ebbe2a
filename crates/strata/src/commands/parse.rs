//! `strata parse`: placeholder until the Dockerfile crate lands.

use std::process::ExitCode;

use super::Global;

/// Arguments of `strata parse`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args, _global: &Global) -> anyhow::Result<ExitCode> {
    anyhow::bail!("strata parse is not built yet")
}
