//! Go's tabwriter as the docker CLI sets it up (min width 10, padding 3,
//! spaces): every column but the last padded to its widest cell.

/// Renders `rows` (the first is usually the header) as aligned text, one
/// line per row, each ending in a newline.
pub(crate) fn render(rows: &[Vec<String>]) -> String {
    render_with_minimum(rows, 10)
}

/// [`render`] with columns at least `minimum` wide (`docker top` sets 20).
pub(crate) fn render_with_minimum(rows: &[Vec<String>], minimum: usize) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; columns];
    for row in rows {
        for (index, cell) in row.iter().enumerate() {
            if index + 1 < row.len() {
                widths[index] = widths[index].max((cell.chars().count() + 3).max(minimum));
            }
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (index, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if index + 1 < row.len() {
                let pad = widths[index].saturating_sub(cell.chars().count());
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Template output: tab-separated `lines` aligned as a table (`table …`
/// templates), or printed one per line.
pub(crate) fn template_output(lines: Vec<String>, table_mode: bool) -> String {
    if table_mode {
        let cells: Vec<Vec<String>> = lines
            .iter()
            .map(|l| l.split('\t').map(str::to_owned).collect())
            .collect();
        return render(&cells);
    }
    let mut out = String::new();
    for line in lines {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_like_tabwriter() {
        let rows = vec![
            vec!["REPOSITORY".into(), "TAG".into(), "SIZE".into()],
            vec!["busybox".into(), "latest".into(), "4.26MB".into()],
        ];
        assert_eq!(
            render(&rows),
            "REPOSITORY   TAG       SIZE\nbusybox      latest    4.26MB\n"
        );
    }

    #[test]
    fn docker_top_columns_are_at_least_twenty_wide() {
        let rows = vec![
            vec!["PID".into(), "COMMAND".into(), "COMMAND".into()],
            vec!["26254".into(), "sleep".into(), "sleep 1000".into()],
            vec!["7".into(), "a-command-name-of-20".into(), "x".into()],
        ];
        assert_eq!(
            render_with_minimum(&rows, 20),
            "PID                 COMMAND                COMMAND\n\
             26254               sleep                  sleep 1000\n\
             7                   a-command-name-of-20   x\n"
        );
    }
}
