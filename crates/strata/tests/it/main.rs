//! The end-to-end tests: one binary (as uv and ripgrep have), one module per
//! command or capability, sharing one harness. They drive the `strata` binary.

mod harness;

mod archive_commands;
mod build;
mod build_add_url;
mod build_attest;
mod build_cache;
mod build_call;
mod build_cancel;
mod build_context;
mod build_fast_paths;
mod build_flags;
mod build_mounts;
mod build_outputs;
mod build_progress;
mod build_ssh;
mod builder_prune;
mod conformance;
mod container_inspect;
mod context;
mod cp_top;
mod guide;
mod guide_debian;
mod image_commands;
mod lint;
mod parse;
mod platforms;
mod rootless;
mod run;
mod sandbox_helper;
mod sbom;
mod store_commands;
mod transfer_commands;
