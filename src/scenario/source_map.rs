//! Maps TOML key paths to line numbers, so validation messages can say where a bad value
//! sits in the file.

use toml::de::{DeTable, DeValue};

/// Line lookup for one TOML source text.
pub struct SourceMap<'s> {
    source: &'s str,
    root: Option<toml::Spanned<DeTable<'s>>>,
}

/// One step of a key path: a table key or an array index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'p> {
    Key(&'p str),
    Index(usize),
}

/// Split `formula[1].key.c0` into steps. Keys are bare words; quoted keys are not needed
/// for our own paths.
pub fn split_path(path: &str) -> Vec<Step<'_>> {
    let mut steps = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        if let Some(b) = rest.find('[') {
            if b > 0 {
                steps.push(Step::Key(&rest[..b]));
            }
            rest = &rest[b..];
            while let Some(stripped) = rest.strip_prefix('[') {
                let Some(e) = stripped.find(']') else { break };
                if let Ok(i) = stripped[..e].parse() {
                    steps.push(Step::Index(i));
                }
                rest = &stripped[e + 1..];
            }
        } else if !rest.is_empty() {
            steps.push(Step::Key(rest));
        }
    }
    steps
}

impl<'s> SourceMap<'s> {
    pub fn new(source: &'s str) -> Self {
        SourceMap {
            source,
            root: DeTable::parse(source).ok(),
        }
    }

    /// 1-based line of the deepest existing element on `path`, if any.
    pub fn line(&self, path: &str) -> Option<usize> {
        let root = self.root.as_ref()?;
        let mut span = None;
        let mut table: Option<&DeTable<'s>> = Some(root.get_ref());
        let mut value: Option<&DeValue<'s>> = None;
        for step in split_path(path) {
            match step {
                Step::Key(k) => {
                    let t = match (table, value) {
                        (Some(t), None) => t,
                        (_, Some(DeValue::Table(t))) => t,
                        _ => break,
                    };
                    let Some((key, v)) = t.iter().find(|(key, _)| key.get_ref().as_ref() == k)
                    else {
                        break;
                    };
                    span = Some(if v.span().is_empty() {
                        key.span()
                    } else {
                        v.span()
                    });
                    table = None;
                    value = Some(v.get_ref());
                }
                Step::Index(i) => {
                    let Some(DeValue::Array(a)) = value else {
                        break;
                    };
                    let Some(v) = a.get(i) else { break };
                    span = Some(v.span());
                    value = Some(v.get_ref());
                }
            }
        }
        let start = span?.start.min(self.source.len());
        Some(self.source[..start].bytes().filter(|&b| b == b'\n').count() + 1)
    }

    /// `path (line N)` or just `path` when the line is unknown.
    pub fn locate(&self, path: &str) -> String {
        match self.line(path) {
            Some(l) => format!("{path} (line {l})"),
            None => path.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_lines_of_nested_keys() {
        let src = "[scenario]\nname = \"x\"\n\n[[formula]]\nname = \"a\"\n[formula.key]\nc0 = 1\n\n[[formula]]\nname = \"b\"\n[formula.key]\nc0 = 2\n";
        let m = SourceMap::new(src);
        assert_eq!(m.line("scenario.name"), Some(2));
        assert_eq!(m.line("formula[0].key.c0"), Some(7));
        assert_eq!(m.line("formula[1].key.c0"), Some(12));
        assert_eq!(m.locate("formula[1].name"), "formula[1].name (line 10)");
        // A missing key falls back to its parent.
        assert_eq!(
            m.line("formula[1].key.beta"),
            Some(11).or(m.line("formula[1].key"))
        );
    }
}
