//! `strata scan` (placeholder until the OSV module lands).
#![allow(missing_docs)]
use std::process::ExitCode;
use super::Global;
#[derive(Debug, clap::Args)]
pub(crate) struct Args { target: String }
pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> { let _ = (args, global); Ok(ExitCode::SUCCESS) }
