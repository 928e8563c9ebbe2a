//! Output the way the docker CLI prints it: humanized sizes and times,
//! tabwriter tables, and Go templates for `--format`.

pub(crate) mod human;
pub(crate) mod listing;
pub(crate) mod table;
pub(crate) mod template;
