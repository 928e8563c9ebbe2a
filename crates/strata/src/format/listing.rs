//! Listings the docker CLI way (`images`, `ps`): rows of named fields shown
//! as the default table, `--format json` (one object per line), `table
//! TEMPLATE` (a header derived from the fields) or a bare Go template.

use std::collections::BTreeMap;

use crate::format::table;
use crate::format::template::{Template, Value};

/// One row: field name (as templates name it) to its text.
pub(crate) type Row = BTreeMap<&'static str, String>;

/// What a listing shows by default, and the header of each field.
pub(crate) struct Layout<'a> {
    /// The default table's fields, in order.
    pub(crate) columns: &'a [&'static str],
    /// Each field's header (`ID` → `CONTAINER ID`).
    pub(crate) headers: &'a [(&'static str, &'static str)],
}

impl Layout<'_> {
    fn header(&self, field: &str) -> String {
        self.headers
            .iter()
            .find(|(name, _)| *name == field)
            .map_or_else(|| field.to_uppercase(), |(_, title)| (*title).to_owned())
    }

    /// The header line of a `table` template: each `{{.Field}}` replaced by its title.
    fn template_header(&self, template: &str) -> String {
        let mut header = template.to_owned();
        for (field, title) in self.headers {
            header = header.replace(&format!("{{{{.{field}}}}}"), title);
        }
        header
    }
}

/// Renders `rows` as `format` asks (`None` or `table`: the default table).
pub(crate) fn render(
    rows: &[Row],
    layout: &Layout<'_>,
    format: Option<&str>,
) -> anyhow::Result<String> {
    let mut out = String::new();
    match format {
        Some("json") => {
            for row in rows {
                out.push_str(&String::from_utf8_lossy(&strata_oci::to_go_json(row)?));
                out.push('\n');
            }
        }
        Some(format) if format != "table" => {
            let format = format.replace("\\t", "\t");
            let (table_mode, text) = match format.strip_prefix("table ") {
                Some(rest) => (true, rest),
                None => (false, format.as_str()),
            };
            let template = Template::parse(text)?;
            let mut lines = Vec::new();
            if table_mode {
                lines.push(layout.template_header(text));
            }
            for row in rows {
                lines.push(template.render(&Value::of(row)?)?);
            }
            out.push_str(&table::template_output(lines, table_mode));
        }
        _ => {
            let mut cells = vec![
                layout
                    .columns
                    .iter()
                    .map(|field| layout.header(field))
                    .collect::<Vec<_>>(),
            ];
            for row in rows {
                cells.push(
                    layout
                        .columns
                        .iter()
                        .map(|field| row.get(field).cloned().unwrap_or_default())
                        .collect(),
                );
            }
            out.push_str(&table::render(&cells));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_templates_and_json() {
        let layout = Layout {
            columns: &["ID", "Names"],
            headers: &[("ID", "CONTAINER ID"), ("Names", "NAMES")],
        };
        let rows = vec![Row::from([
            ("ID", "abc".to_owned()),
            ("Names", "web".to_owned()),
        ])];
        assert_eq!(
            render(&rows, &layout, None).unwrap(),
            "CONTAINER ID   NAMES\nabc            web\n"
        );
        assert_eq!(
            render(&rows, &layout, Some("table {{.Names}}\\t{{.ID}}")).unwrap(),
            "NAMES     CONTAINER ID\nweb       abc\n"
        );
        assert_eq!(render(&rows, &layout, Some("{{.Names}}")).unwrap(), "web\n");
        assert_eq!(
            render(&rows, &layout, Some("json")).unwrap(),
            "{\"ID\":\"abc\",\"Names\":\"web\"}\n"
        );
    }
}
