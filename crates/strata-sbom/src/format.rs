//! Documents of a catalogue: SPDX 2.3 JSON, CycloneDX 1.5 JSON, a table.
//!
//! Documents are deterministic: the same catalogue and creation time give
//! the same bytes. Their identifiers (SPDX's namespace, CycloneDX's serial
//! number) are derived from a digest of the catalogue, so two subjects or
//! two different contents never share one.

mod cyclonedx;
mod license;
mod spdx;
mod table;

use std::collections::HashSet;

use strata_oci::Digest;

use crate::package::{Catalog, Package};

pub use cyclonedx::cyclonedx_json;
pub use spdx::{spdx_json, spdx_value};
pub use table::table;

/// The tool named as the documents' creator.
const TOOL: &str = "strata";
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The catalogue with its packages in a fixed order, whatever order it came in.
fn sorted(catalog: &Catalog) -> Catalog {
    let mut keyed: Vec<_> = catalog
        .packages
        .iter()
        .map(|p| {
            let key = (p.kind, p.name.clone(), p.version.clone(), package_digest(p));
            (key, p.clone())
        })
        .collect();
    keyed.sort_by(|(a, _), (b, _)| a.cmp(b));
    Catalog {
        subject: catalog.subject.clone(),
        distro: catalog.distro.clone(),
        packages: keyed.into_iter().map(|(_, p)| p).collect(),
    }
}

/// A digest of everything the catalogue says, subject included.
fn content_digest(catalog: &Catalog) -> Digest {
    Digest::of(&serde_json::to_vec(catalog).unwrap_or_default())
}

/// One identifier per package, in the catalogue's order, unique within it:
/// `KIND-NAME-HASH` with only the characters an SPDX id may hold.
fn package_ids(catalog: &Catalog) -> Vec<String> {
    let mut seen = HashSet::new();
    catalog
        .packages
        .iter()
        .map(|package| {
            let base = format!(
                "{}-{}-{}",
                package.kind.name(),
                license::idstring(&package.name),
                &package_digest(package).hex()[..16]
            );
            let mut id = base.clone();
            // Only a catalogue holding the very same package twice gets here.
            let mut n = 1;
            while !seen.insert(id.clone()) {
                n += 1;
                id = format!("{base}-{n}");
            }
            id
        })
        .collect()
}

fn package_digest(package: &Package) -> Digest {
    Digest::of(&serde_json::to_vec(package).unwrap_or_default())
}

/// Unix seconds as RFC 3339 UTC (`2024-01-02T03:04:05Z`), clamped to years 0-9999.
fn rfc3339(seconds: i64) -> String {
    let seconds = seconds.clamp(-62_167_219_200, 253_402_300_799);
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (counting in 400-year
/// eras that start on 1 March, so the leap day ends a year).
fn civil(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::{Kind, Subject};

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(i64::MAX), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(i64::MIN), "0000-01-01T00:00:00Z");
    }

    #[test]
    fn rfc3339_agrees_with_date_for_each_day_of_a_leap_cycle() {
        // Against the day count from first principles: every day of 1999-2004.
        let mut days = 10_592; // 1999-01-01
        for year in 1999..=2004 {
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
            let lengths = [
                31,
                if leap { 29 } else { 28 },
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ];
            for (month, length) in (1..).zip(lengths) {
                for day in 1..=length {
                    assert_eq!(civil(days), (year, month, day));
                    days += 1;
                }
            }
        }
    }

    #[test]
    fn package_ids_are_unique_and_spdx_safe() {
        let package = Package::new(Kind::Npm, "@scope/a_b", "1.0.0");
        let catalog = Catalog {
            subject: Subject::Directory { path: "/x".into() },
            distro: None,
            packages: vec![package.clone(), package, Package::new(Kind::Npm, "c", "1")],
        };
        let ids = package_ids(&catalog);
        assert_eq!(ids.len(), 3);
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 3);
        assert!(ids[0].starts_with("npm-scope-a-b-"), "{}", ids[0]);
        assert_eq!(ids[1], format!("{}-2", ids[0]));
        assert!(ids.iter().all(|id| license::is_idstring(id)));
    }
}
