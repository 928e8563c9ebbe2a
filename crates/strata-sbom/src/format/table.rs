//! The catalogue as `syft -o table` shows it: NAME, VERSION, TYPE.

use crate::package::Catalog;

/// The packages as aligned columns, sorted by name, version and type.
pub fn table(catalog: &Catalog) -> String {
    if catalog.packages.is_empty() {
        return "No packages discovered\n".to_string();
    }
    let mut rows: Vec<[&str; 3]> = catalog
        .packages
        .iter()
        .map(|p| [p.name.as_str(), p.version.as_str(), p.kind.name()])
        .collect();
    rows.sort();
    rows.dedup();
    let header = ["NAME", "VERSION", "TYPE"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let line = format!(
            "{:<w0$}  {:<w1$}  {}",
            row[0],
            row[1],
            row[2],
            w0 = widths[0],
            w1 = widths[1]
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::{Kind, Package, Subject};

    #[test]
    fn columns_line_up_and_rows_are_sorted() {
        let catalog = Catalog {
            subject: Subject::Directory { path: "/".into() },
            distro: None,
            packages: vec![
                Package::new(Kind::Python, "urllib3", "2.2.1"),
                Package::new(Kind::Deb, "bash", "5.2.15-2+b2"),
                Package::new(Kind::GoModule, "github.com/spf13/cobra", "v1.8.0"),
            ],
        };
        assert_eq!(
            table(&catalog),
            "NAME                    VERSION      TYPE\n\
             bash                    5.2.15-2+b2  deb\n\
             github.com/spf13/cobra  v1.8.0       go-module\n\
             urllib3                 2.2.1        python\n"
        );
    }

    #[test]
    fn empty_catalogue() {
        let catalog = Catalog {
            subject: Subject::Directory { path: "/".into() },
            distro: None,
            packages: Vec::new(),
        };
        assert_eq!(table(&catalog), "No packages discovered\n");
    }
}
