//! Plain-text tables for the console, lined up by terminal width.
//!
//! `format!`'s `{:<16}` counts characters, but a terminal gives 内蒙古 six columns, not
//! three, so Chinese names pushed every later column out of line. Widths here are those
//! of Unicode's East Asian Width property (`unicode-width`): two columns for CJK
//! characters, none for combining marks.

use unicode_width::UnicodeWidthStr;

/// Columns between two cells.
const GAP: &str = "  ";

/// Terminal columns `s` takes.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` left-aligned in `cols` terminal columns (never cut).
pub fn pad_right(s: &str, cols: usize) -> String {
    format!("{s}{}", " ".repeat(cols.saturating_sub(width(s))))
}

/// `s` right-aligned in `cols` terminal columns (never cut).
pub fn pad_left(s: &str, cols: usize) -> String {
    format!("{}{s}", " ".repeat(cols.saturating_sub(width(s))))
}

/// How a column's cells sit in it: text left, numbers right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// Rows of cells, each column as wide as its widest cell. The first row is usually the
/// header; it is aligned like the column below it.
#[derive(Debug, Clone, Default)]
pub struct Table {
    align: Vec<Align>,
    indent: String,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table whose columns are aligned as `align` says (columns past its end: left).
    pub fn new(align: &[Align]) -> Self {
        Table {
            align: align.to_vec(),
            ..Table::default()
        }
    }

    /// Every line starts with `indent`.
    pub fn indent(mut self, indent: &str) -> Self {
        self.indent = indent.to_string();
        self
    }

    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The lines, each ending in a newline, without trailing blanks.
    pub fn render(&self) -> String {
        let ncol = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut cols = vec![0; ncol];
        for row in &self.rows {
            for (c, cell) in row.iter().enumerate() {
                cols[c] = cols[c].max(width(cell));
            }
        }
        let mut out = String::new();
        for row in &self.rows {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(c, cell)| match self.align.get(c) {
                    Some(Align::Right) => pad_left(cell, cols[c]),
                    _ => pad_right(cell, cols[c]),
                })
                .collect();
            out.push_str(self.indent.as_str());
            out.push_str(cells.join(GAP).trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_characters_take_two_columns() {
        assert_eq!(width("内蒙古"), 6);
        assert_eq!(width("west"), 4);
        assert_eq!(width("ρ redline"), 9);
        assert_eq!(width("e\u{301}"), 1);
        assert_eq!(pad_right("四川", 6), "四川  ");
        assert_eq!(pad_left("42", 5), "   42");
        assert_eq!(pad_right("黑龙江省", 4), "黑龙江省");
    }

    #[test]
    fn columns_line_up_by_terminal_width() {
        let mut t = Table::new(&[Align::Left, Align::Right, Align::Left]).indent("  ");
        t.row(["region", "point", "note"]);
        t.row(["内蒙古", "9.843", "x"]);
        t.row(["a", "12", ""]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "  region  point  note");
        assert_eq!(lines[1], "  内蒙古  9.843  x");
        assert_eq!(lines[2], "  a          12");
        assert!(Table::default().render().is_empty());
    }
}
