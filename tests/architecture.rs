//! The layering of ARCHITECTURE.md, checked on the sources: a module imports only from its
//! own layer or below, no two top-level modules import each other (directly or in a
//! cycle), the library never uses the binary's crates, and no file or function grows past
//! the sizes a reader can hold in mind. Each check also runs on a planted violation, so a
//! check that could not fail would fail here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, bottom first. A top-level module of `src/` that is not listed is an error:
/// a new module must be given its place here and in ARCHITECTURE.md.
const LAYERS: &[&[&str]] = &[
    &["error", "cancel", "simd", "numfmt", "plots"],
    &["model"],
    &["sampling", "stats"],
    &[
        "vertical",
        "horizontal",
        "metrics",
        "sensitivity",
        "synth",
        "calibrate",
        "scenario",
    ],
    &["montecarlo"],
    &["run"],
    &["report"],
    &["cli"],
];

/// Crates only the binary may use.
const BINARY_ONLY_CRATES: &[&str] = &["clap", "anyhow", "indicatif", "ctrlc", "clap_complete"];

/// Longest source file, in lines (tests included).
const MAX_FILE_LINES: usize = 700;
/// Longest function, in lines.
const MAX_FN_LINES: usize = 100;
/// Functions allowed past [`MAX_FN_LINES`]: flat `match`es of field names in a parser.
const LONG_FN_ALLOWED: &[&str] = &[];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The top-level module a file under `src/` belongs to (`cli` for the binary's files).
fn module_of(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .unwrap_or_default();
    let name = first.trim_end_matches(".rs").to_string();
    if name == "main" { "cli".into() } else { name }
}

/// `text` without comments and without `#[cfg(test)]` items (unit tests may reach across
/// layers for their fixtures; the code they test may not).
fn code_only(text: &str) -> String {
    let mut lines: Vec<String> = text
        .lines()
        .map(|l| {
            let mut cut = l.len();
            let b = l.as_bytes();
            for i in 0..b.len().saturating_sub(1) {
                if b[i] == b'/' && b[i + 1] == b'/' && (i == 0 || b[i - 1] != b':') {
                    cut = i;
                    break;
                }
            }
            l[..cut].to_string()
        })
        .collect();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == "#[cfg(test)]" {
            // Blank the attribute and the item after it, to its closing brace (or `;`).
            let end = {
                let view: Vec<&str> = lines.iter().map(String::as_str).collect();
                (i + item_lines(&view, i)).min(view.len())
            };
            for l in &mut lines[i..end] {
                l.clear();
            }
            i = end;
            continue;
        }
        i += 1;
    }
    lines.join("\n")
}

/// The files that are the body of a `#[cfg(test)] mod tests;` of their parent module
/// (`a/b.rs` or `a/b/mod.rs` declaring it makes `a/b/tests.rs` one): unit tests in a file
/// of their own, as free to reach across layers as those written inline.
fn test_bodies(files: &[Source]) -> BTreeSet<PathBuf> {
    files
        .iter()
        .filter(|f| {
            let lines: Vec<&str> = f.text.lines().map(str::trim).collect();
            lines.windows(2).any(|w| {
                w[0] == "#[cfg(test)]" && w[1].trim_start_matches("pub(crate) ") == "mod tests;"
            })
        })
        .map(|f| {
            let dir = if f.rel.file_name().is_some_and(|n| n == "mod.rs") {
                f.rel.parent().map(Path::to_path_buf).unwrap_or_default()
            } else {
                f.rel.with_extension("")
            };
            dir.join("tests.rs")
        })
        .collect()
}

/// The top-level modules `code` refers to through `prefix` (`crate::` in the library,
/// `ecocomp::` in the binary), besides `own`.
fn references(code: &str, prefix: &str, own: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(k) = rest.find(prefix) {
        let before = rest[..k].chars().last();
        rest = &rest[k + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        // `use crate::{a::x, b::y}` names several modules at once.
        let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            group[..end]
                .split(',')
                .map(|p| p.trim().split("::").next().unwrap_or(""))
                .collect()
        } else {
            vec![
                rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or(""),
            ]
        };
        for n in names {
            if !n.is_empty() && n != own && n != "self" {
                out.insert(n.to_string());
            }
        }
    }
    out
}

/// True when `code` holds `path` not preceded by part of a longer name.
fn mentions(code: &str, path: &str) -> bool {
    code.match_indices(path).any(|(k, _)| {
        !code[..k]
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
    })
}

/// One source file: its path relative to `src/`, and its text.
struct Source {
    rel: PathBuf,
    text: String,
}

fn read_tree(dir: &Path, root: &Path, out: &mut Vec<Source>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            read_tree(&p, root, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(Source {
                rel: p.strip_prefix(root).unwrap().to_path_buf(),
                text: std::fs::read_to_string(&p).unwrap(),
            });
        }
    }
}

/// Every violation of the layering in `files`, as readable lines (empty when none).
fn layering_problems(files: &[Source]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let tests = test_bodies(files);
    for f in files {
        let module = module_of(&f.rel);
        if module == "lib" || tests.contains(&f.rel) {
            continue;
        }
        let Some(layer) = layer_of(&module) else {
            problems.push(format!(
                "{}: module `{module}` has no layer in tests/architecture.rs (LAYERS)",
                f.rel.display()
            ));
            continue;
        };
        let code = code_only(&f.text);
        let prefix = if module == "cli" {
            "ecocomp::"
        } else {
            "crate::"
        };
        for target in references(&code, prefix, &module) {
            match layer_of(&target) {
                Some(t) if t > layer => problems.push(format!(
                    "{}: `{module}` (layer {}) imports `{target}` from layer {} above it",
                    f.rel.display(),
                    layer + 1,
                    t + 1
                )),
                Some(_) => {
                    graph.entry(module.clone()).or_default().insert(target);
                }
                None => {}
            }
        }
        if module != "cli" {
            for c in BINARY_ONLY_CRATES {
                if mentions(&code, &format!("{c}::")) {
                    problems.push(format!(
                        "{}: the library uses `{c}`, a crate of the binary only",
                        f.rel.display()
                    ));
                }
            }
        }
    }
    problems.extend(cycles(&graph));
    problems
}

/// Every cycle of top-level modules in `graph`, each named once.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    fn walk(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        found: &mut BTreeSet<Vec<String>>,
    ) {
        if let Some(k) = path.iter().position(|p| p == node) {
            let mut cycle = path[k..].to_vec();
            let start = cycle
                .iter()
                .enumerate()
                .min_by_key(|(_, n)| *n)
                .map_or(0, |m| m.0);
            cycle.rotate_left(start);
            found.insert(cycle);
            return;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            walk(next, graph, path, found);
        }
        path.pop();
    }
    let mut found = BTreeSet::new();
    for node in graph.keys() {
        walk(node, graph, &mut Vec::new(), &mut found);
    }
    found
        .into_iter()
        .map(|c| {
            format!(
                "modules import each other in a cycle: {} → {}",
                c.join(" → "),
                c[0]
            )
        })
        .collect()
}

/// Files over [`MAX_FILE_LINES`] and functions over [`MAX_FN_LINES`].
fn size_problems(files: &[Source]) -> Vec<String> {
    let mut problems = Vec::new();
    for f in files {
        let lines: Vec<&str> = f.text.lines().collect();
        if lines.len() > MAX_FILE_LINES {
            problems.push(format!(
                "{}: {} lines (at most {MAX_FILE_LINES})",
                f.rel.display(),
                lines.len()
            ));
        }
        for (start, name) in fn_starts(&lines) {
            let len = item_lines(&lines, start);
            if len > MAX_FN_LINES && !LONG_FN_ALLOWED.contains(&name.as_str()) {
                problems.push(format!(
                    "{}:{}: fn {name} has {len} lines (at most {MAX_FN_LINES})",
                    f.rel.display(),
                    start + 1
                ));
            }
        }
    }
    problems
}

/// Lines that start a function definition, with the function's name.
fn fn_starts(lines: &[&str]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim_start();
        if t.starts_with("//") {
            continue;
        }
        let mut words = t.split_whitespace().peekable();
        while let Some(w) = words.peek() {
            if matches!(
                *w,
                "pub" | "const" | "unsafe" | "async" | "extern" | "\"C\""
            ) || w.starts_with("pub(")
            {
                words.next();
            } else {
                break;
            }
        }
        if words.next() == Some("fn")
            && let Some(n) = words.next()
        {
            let name: String = n
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.push((i, name));
        }
    }
    out
}

/// Lines from an item's first line (a function, or an attribute and its item) to its
/// closing brace, or to its `;` when it has no body.
fn item_lines(lines: &[&str], start: usize) -> usize {
    let mut depth = 0i32;
    let mut opened = false;
    for (k, l) in lines.iter().enumerate().skip(start) {
        for ch in l.chars() {
            match ch {
                '{' => {
                    depth += 1;
                    opened = true;
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
        if opened && depth <= 0 {
            return k - start + 1;
        }
        if !opened && !l.trim_start().starts_with("#[") && l.trim_end().ends_with(';') {
            return k - start + 1;
        }
    }
    lines.len() - start
}

fn src_files() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    read_tree(&root, &root, &mut files);
    files
}

#[test]
fn layers_import_downward_only_and_without_cycles() {
    let files = src_files();
    assert!(files.len() > 50, "read only {} files", files.len());
    let problems = layering_problems(&files);
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn files_and_functions_stay_small() {
    let problems = size_problems(&src_files());
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn the_library_manifest_has_no_binary_crates() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("lib/Cargo.toml"))
            .unwrap();
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .unwrap()
        .split("\n[")
        .next()
        .unwrap();
    for c in BINARY_ONLY_CRATES {
        assert!(
            !deps
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{c} "))),
            "lib/Cargo.toml depends on {c}"
        );
    }
}

/// The real tree with one file changed to `text`.
fn planted(rel: &str, text: &str) -> Vec<Source> {
    let mut files = src_files();
    let f = files.iter_mut().find(|f| f.rel == Path::new(rel)).unwrap();
    f.text = text.to_string();
    files
}

#[test]
fn a_planted_upward_import_is_caught() {
    let text = format!(
        "{}\nuse crate::report::csv::regions_csv;\n",
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("src/vertical/budget.rs")
        )
        .unwrap()
    );
    let problems = layering_problems(&planted("vertical/budget.rs", &text));
    assert!(
        problems
            .iter()
            .any(|p| p.contains("vertical/budget.rs") && p.contains("imports `report`")),
        "{problems:?}"
    );
    // In a comment or a unit test it is not an import, nor in the file of a module's unit
    // tests; but a `tests.rs` no module declares as its tests is code like any other.
    let text =
        "//! See [`crate::report`].\n#[cfg(test)]\nmod tests {\n    use crate::report::csv;\n}\n";
    assert!(layering_problems(&planted("vertical/budget.rs", text)).is_empty());
    let up = "use crate::report::csv;\n";
    assert!(layering_problems(&planted("vertical/budget/tests.rs", up)).is_empty());
    let mut files = planted("vertical/budget/tests.rs", up);
    let parent = files
        .iter_mut()
        .find(|f| f.rel == Path::new("vertical/budget.rs"))
        .unwrap();
    parent.text = parent.text.replace("mod tests;", "mod checks;");
    assert!(
        layering_problems(&files)
            .iter()
            .any(|p| p.contains("vertical/budget/tests.rs") && p.contains("imports `report`"))
    );
}

#[test]
fn a_planted_cycle_and_binary_crate_are_caught() {
    // vertical → horizontal is allowed on its own (same layer) …
    let v = "use crate::horizontal::settle;\n";
    assert!(layering_problems(&planted("vertical/budget.rs", v)).is_empty());
    // … but not together with horizontal → vertical.
    let mut files = planted("vertical/budget.rs", v);
    let h = files
        .iter_mut()
        .find(|f| f.rel == Path::new("horizontal/assess.rs"))
        .unwrap();
    h.text
        .push_str("\nuse crate::{model::Rule, vertical::allocate};\n");
    let problems = layering_problems(&files);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("cycle: horizontal → vertical → horizontal")),
        "{problems:?}"
    );
    let problems = layering_problems(&planted(
        "metrics/mod.rs",
        "fn f() { anyhow::bail!(\"x\") }",
    ));
    assert!(
        problems.iter().any(|p| p.contains("uses `anyhow`")),
        "{problems:?}"
    );
}

#[test]
fn planted_long_files_and_functions_are_caught() {
    let body: String = (0..120).map(|i| format!("    let x{i} = {i};\n")).collect();
    let text = format!("pub fn long_one() {{\n{body}}}\n");
    let problems = size_problems(&planted("numfmt.rs", &text));
    assert!(
        problems
            .iter()
            .any(|p| p.contains("fn long_one has 122 lines")),
        "{problems:?}"
    );
    let text = "// x\n".repeat(MAX_FILE_LINES + 1);
    let problems = size_problems(&planted("numfmt.rs", &text));
    assert!(
        problems.iter().any(|p| p.contains("numfmt.rs: 701 lines")),
        "{problems:?}"
    );
}
