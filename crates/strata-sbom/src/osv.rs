//! OSV advisories: the database, matching a catalogue, reports.
//!
//! - [`Database`]: advisories read from OSV JSON files or `all.zip`
//!   archives; [`update`] downloads the archives a catalogue needs.
//! - [`target`]: the ecosystem, name and version order a package is looked
//!   up under (distribution packages through their source package).
//! - [`scan`]: a [`Report`] of [`Match`]es.
//! - [`table`], [`grype_json`], [`sarif`]; [`fails`] for `--fail-on`.

mod advisory;
mod database;
mod ecosystem;
mod matching;
mod report;
mod severity;

pub use advisory::{
    Advisory, Affected, AffectedPackage, Event, Range, RangeKind, Reference, SeverityScore,
};
pub use database::{DEFAULT_BASE_URL, Database, MAX_AGE, Updated, ecosystems, update};
pub use ecosystem::{Target, archive_name, target};
pub use matching::{FixState, Match, MatchedBy, Report, scan};
pub use report::{fails, grype_json, sarif, table};
pub use severity::{Cvss, ParseSeverityError, Severity, cvss2_score, cvss3_score};
