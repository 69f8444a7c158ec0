//! `report.html`: one self-contained page (inline CSS, figures embedded as data URIs or
//! inline SVG, no network requests) with the scenario, the run settings, warnings, the
//! headline tables and every figure with a short "how to read this" note. It is a pure
//! serialiser from a [`Report`] model to a string.

use std::fmt::Write;

/// A table of text cells. Cells that parse as numbers are right-aligned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub title: String,
    pub note: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// How a figure is embedded.
#[derive(Debug, Clone, PartialEq)]
pub enum Image {
    /// PNG bytes, embedded as a base64 data URI.
    Png(Vec<u8>),
    /// An SVG document, embedded inline.
    Svg(String),
}

/// A figure with its caption and reading note.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub title: String,
    /// "How to read this": one or two sentences.
    pub note: String,
    pub image: Image,
    /// Relative paths of the figure's files in the output folder (shown as links).
    pub files: Vec<String>,
}

/// Everything the page shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub title: String,
    pub description: String,
    pub sources: Vec<String>,
    pub assumptions: Vec<String>,
    /// Run settings as label/value pairs (seed, draws, threads, ...).
    pub settings: Vec<(String, String)>,
    pub warnings: Vec<String>,
    /// What the reader must know before reading the numbers (no uncertainty, no draws).
    pub notices: Vec<String>,
    pub tables: Vec<Table>,
    pub figures: Vec<Figure>,
    /// Embed the CJK font as a web font, so names render on machines without CJK fonts.
    pub embed_font: bool,
}

/// Escape text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Standard base64 (RFC 4648) with padding.
pub use crate::plots::text::base64;

/// Text for people, escaped, with `code` spans set as code and web addresses as links
/// (a source given as `news.sina.com.cn/…` becomes a link to `https://news.sina.com.cn/…`).
pub fn rich(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (k, part) in text.split('`').enumerate() {
        // Odd parts sit between a pair of backticks; an unpaired one stays as it is.
        let paired = k % 2 == 1 && text.matches('`').count() > k;
        if paired {
            let _ = write!(out, "<code>{}</code>", escape(part));
        } else {
            if k % 2 == 1 {
                out.push('`');
            }
            out.push_str(&linked(part));
        }
    }
    out
}

/// Escaped text with each word that is a web address made a link.
fn linked(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let trimmed = word.trim_end_matches(['.', ',', ';', ')', '）', '。', '，']);
        let tail = &word[trimmed.len()..];
        match web_address(trimmed) {
            Some(url) => {
                let _ = write!(
                    out,
                    "<a href=\"{}\">{}</a>{}",
                    escape(&url),
                    escape(trimmed),
                    escape(tail)
                );
            }
            None => out.push_str(&escape(word)),
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_whitespace() {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The URL of a word that is a web address: `http(s)://…`, or a host name with a dot in
/// its last label's place and a path (`www.gov.cn/x.htm`); `None` for anything else.
fn web_address(word: &str) -> Option<String> {
    if word.starts_with("https://") || word.starts_with("http://") {
        return Some(word.to_string());
    }
    let (host, path) = word.split_once('/')?;
    let labels: Vec<&str> = host.split('.').collect();
    let tld = labels.last()?;
    let hosty = labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        && tld.len() >= 2
        && tld.chars().all(|c| c.is_ascii_alphabetic());
    (hosty && !path.contains(char::is_whitespace)).then(|| format!("https://{word}"))
}

const STYLE: &str = "
:root { --ink: #1d2733; --muted: #5b6775; --rule: #d9dee4; --accent: #0b6e4f; --warn: #9a5b00; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, 'Segoe UI', 'ecocomp-cjk', sans-serif;
       color: var(--ink); margin: 0 auto; max-width: 1100px; padding: 24px 28px 64px; line-height: 1.5; }
h1 { font-size: 1.7rem; margin: 0 0 4px; }
h2 { font-size: 1.25rem; margin: 36px 0 8px; border-bottom: 2px solid var(--accent); padding-bottom: 4px; }
h3 { font-size: 1.05rem; margin: 20px 0 6px; }
p.lead { color: var(--muted); margin-top: 0; }
dl.settings { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
dl.settings dt { color: var(--muted); } dl.settings dd { margin: 0; font-variant-numeric: tabular-nums; }
ul.warnings li { color: var(--warn); }
.notice { border-left: 4px solid var(--warn); background: #fff7e6; padding: 8px 12px; margin: 12px 0; }
dl.settings dd, dl.settings dt, li, p, figcaption { overflow-wrap: anywhere; }
code { font-family: ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace; font-size: 0.9em;
       background: #f3f5f7; padding: 0 3px; border-radius: 3px; }
a { color: var(--accent); }
.fig-scroll { overflow-x: auto; max-width: 100%; }
.table-wrap { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; font-size: 0.92rem; margin: 6px 0 4px; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
th { background: #f3f5f7; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
p.note { color: var(--muted); font-size: 0.9rem; margin: 4px 0 14px; }
figure { margin: 18px 0 28px; break-inside: avoid; page-break-inside: avoid; }
figure img, figure svg { max-width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { font-weight: 600; margin-bottom: 6px; }
nav.toc { font-size: 0.92rem; } nav.toc a { color: var(--accent); }
@media (max-width: 600px) {
  body { padding: 12px 12px 48px; }
  h1 { font-size: 1.35rem; }
  dl.settings { grid-template-columns: 1fr; } dl.settings dd { margin-bottom: 6px; }
  table { font-size: 0.85rem; }
  /* Figures keep a readable size and scroll sideways inside their box. */
  .fig-scroll svg, .fig-scroll img { width: 640px; max-width: none; }
}
@media print { body { max-width: none; padding: 0; } h2 { break-after: avoid; } nav.toc { display: none; }
               table { font-size: 0.8rem; } }
";

fn is_numeric(cell: &str) -> bool {
    let t = cell.trim().trim_end_matches('%');
    !t.is_empty() && t.parse::<f64>().is_ok()
}

/// Render one table.
pub fn table_html(t: &Table) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "<h3>{}</h3>", escape(&t.title));
    if t.rows.is_empty() {
        // A table with nothing to list says so in its note alone.
        if !t.note.is_empty() {
            let _ = writeln!(s, "<p class=\"note\">{}</p>", rich(&t.note));
        }
        return s;
    }
    s.push_str("<div class=\"table-wrap\"><table>\n<thead><tr>");
    for h in &t.header {
        let _ = write!(s, "<th>{}</th>", escape(h));
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        s.push_str("<tr>");
        for c in row {
            let class = if is_numeric(c) { " class=\"num\"" } else { "" };
            let _ = write!(s, "<td{class}>{}</td>", escape(c));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table></div>\n");
    if !t.note.is_empty() {
        let _ = writeln!(s, "<p class=\"note\">{}</p>", rich(&t.note));
    }
    s
}

/// An SVG document ready to sit inside the page: without an XML declaration (not allowed in
/// HTML) and without its own `@font-face`, since the page declares the same family with
/// every glyph its figures use; figures carrying a font each would repeat it.
fn inline_svg(svg: &str) -> String {
    let mut body = match svg.find("<svg") {
        Some(i) => svg[i..].to_string(),
        None => svg.to_string(),
    };
    if let (Some(a), Some(b)) = (body.find("<style>@font-face"), body.find("</style>"))
        && a < b
    {
        body.replace_range(a..b + "</style>".len(), "");
    }
    body
}

fn figure_html(f: &Figure, k: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<figure id=\"fig-{k}\">\n<figcaption>Figure {}. {}</figcaption>",
        k + 1,
        escape(&f.title)
    );
    s.push_str("<div class=\"fig-scroll\">");
    match &f.image {
        Image::Png(bytes) => {
            let _ = writeln!(
                s,
                "<img alt=\"{}\" src=\"data:image/png;base64,{}\">",
                escape(&f.title),
                base64(bytes)
            );
        }
        Image::Svg(svg) => {
            s.push_str(&inline_svg(svg));
            s.push('\n');
        }
    }
    s.push_str("</div>\n");
    let _ = write!(
        s,
        "<p class=\"note\"><strong>How to read this:</strong> {}",
        rich(&f.note)
    );
    if !f.files.is_empty() {
        let links: Vec<String> = f
            .files
            .iter()
            .map(|p| format!("<a href=\"{0}\">{0}</a>", escape(p)))
            .collect();
        let _ = write!(s, " Files: {}.", links.join(", "));
    }
    s.push_str("</p>\n</figure>\n");
    s
}

/// Render the whole page.
pub fn render(r: &Report) -> String {
    let body = page_body(r);
    let mut s = String::new();
    s.push_str("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n");
    s.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(s, "<title>{}</title>", escape(&r.title));
    if r.embed_font {
        // Only the glyphs this page shows (its text and its figures' text): the whole font
        // would be 4 MB of base64 on every page.
        let chars = r.title.chars().chain(body.chars());
        if let Ok(css) = crate::plots::text::font_face_css(chars) {
            let _ = writeln!(s, "<style>{css}</style>");
        }
    }
    let _ = writeln!(s, "<style>{STYLE}</style>\n</head>\n<body>");
    s.push_str(&body);
    s.push_str("</body>\n</html>\n");
    s
}

/// Everything inside `<body>`.
fn page_body(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "<h1>{}</h1>", escape(&r.title));
    if !r.description.is_empty() {
        let _ = writeln!(s, "<p class=\"lead\">{}</p>", rich(&r.description));
    }
    s.push_str("<nav class=\"toc\"><a href=\"#run\">Run</a> · <a href=\"#tables\">Tables</a> · <a href=\"#figures\">Figures</a> · <a href=\"#sources\">Sources and assumptions</a></nav>\n");
    for n in &r.notices {
        let _ = writeln!(s, "<p class=\"notice\" role=\"note\">{}</p>", rich(n));
    }
    s.push_str("<h2 id=\"run\">Run settings</h2>\n<dl class=\"settings\">\n");
    for (k, v) in &r.settings {
        let _ = writeln!(s, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(v));
    }
    s.push_str("</dl>\n");
    if r.warnings.is_empty() {
        s.push_str("<p class=\"note\">No warnings.</p>\n");
    } else {
        let _ = writeln!(
            s,
            "<h3>Warnings ({})</h3>\n<ul class=\"warnings\">",
            r.warnings.len()
        );
        for w in &r.warnings {
            let _ = writeln!(s, "<li>{}</li>", rich(w));
        }
        s.push_str("</ul>\n");
    }
    s.push_str("<h2 id=\"tables\">Headline tables</h2>\n");
    for t in &r.tables {
        s.push_str(&table_html(t));
    }
    s.push_str("<h2 id=\"figures\">Figures</h2>\n");
    if r.figures.is_empty() {
        s.push_str("<p class=\"note\">No figures were drawn for this run (--no-plots).</p>\n");
    }
    for (k, f) in r.figures.iter().enumerate() {
        s.push_str(&figure_html(f, k));
    }
    s.push_str("<h2 id=\"sources\">Sources and assumptions</h2>\n<h3>Sources</h3>\n<ul>\n");
    for x in &r.sources {
        let _ = writeln!(s, "<li>{}</li>", rich(x));
    }
    s.push_str("</ul>\n<h3>Assumptions</h3>\n<ul>\n");
    for x in &r.assumptions {
        let _ = writeln!(s, "<li>{}</li>", rich(x));
    }
    s.push_str("</ul>\n<p class=\"note\">Generated by ecocomp ");
    s.push_str(env!("CARGO_PKG_VERSION"));
    s.push_str(".</p>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), want);
        }
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    fn sample() -> Report {
        Report {
            title: "national — ecocomp report".into(),
            description: "2020 transfer <test>".into(),
            sources: vec!["财预〔2020〕49号".into()],
            assumptions: vec!["coefficients are illustrative".into()],
            settings: vec![("seed".into(), "7".into()), ("draws".into(), "1000".into())],
            warnings: vec!["tag 'x' is unused".into()],
            notices: vec![],
            tables: vec![Table {
                title: "Totals by formula".into(),
                note: "Money in 亿元.".into(),
                header: vec!["formula".into(), "total".into(), "Gini".into()],
                rows: vec![
                    vec!["baseline".into(), "795".into(), "0.31".into()],
                    vec!["安徽".into(), "20.69".into(), "12%".into()],
                ],
            }],
            figures: vec![],
            embed_font: false,
        }
    }

    #[test]
    fn rich_text_sets_code_and_links_web_addresses() {
        assert_eq!(
            rich("see `ecocomp compare` & news.sina.com.cn/c/doc.shtml."),
            "see <code>ecocomp compare</code> &amp; <a href=\"https://news.sina.com.cn/c/doc.shtml\">news.sina.com.cn/c/doc.shtml</a>."
        );
        assert_eq!(
            rich("https://www.gov.cn/x?a=1&b=2"),
            "<a href=\"https://www.gov.cn/x?a=1&amp;b=2\">https://www.gov.cn/x?a=1&amp;b=2</a>"
        );
        // Not addresses: a document number, a version, a lone backtick, a ratio.
        for plain in ["财预〔2020〕49号", "v1.2/3", "a ` b", "1.5/2"] {
            assert_eq!(rich(plain), escape(plain), "{plain}");
        }
    }

    #[test]
    fn svg_figures_are_inlined_without_their_own_font() {
        let svg = "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\">\n<style>@font-face { font-family: 'ecocomp-cjk'; src: url(data:font/ttf;base64,AAAA); }</style>\n<text>安徽</text></svg>";
        let inline = inline_svg(svg);
        assert!(inline.starts_with("<svg") && !inline.contains("@font-face"));
        assert!(inline.contains("<text>安徽</text>"));
    }

    #[test]
    fn table_snapshot() {
        insta::assert_snapshot!(table_html(&sample().tables[0]));
    }

    #[test]
    fn page_snapshot_without_images() {
        insta::assert_snapshot!(render(&sample()));
    }

    #[test]
    fn figures_are_embedded_without_network_references() {
        let mut r = sample();
        r.figures.push(Figure {
            title: "Lorenz".into(),
            note: "closer to the diagonal is more equal".into(),
            image: Image::Png(vec![0x89, b'P', b'N', b'G']),
            files: vec!["plots/lorenz.png".into()],
        });
        r.figures.push(Figure {
            title: "Box".into(),
            note: "boxes span p25–p75".into(),
            image: Image::Svg(
                "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>".into(),
            ),
            files: vec![],
        });
        let html = render(&r);
        assert!(html.contains("src=\"data:image/png;base64,iVBORw==\""));
        assert!(!html.contains("<?xml"));
        assert!(!html.contains("src=\"http"));
        assert!(!html.contains("<link"));
        assert!(!html.contains("<script"));
    }
}
