//! End-to-end check of report.html in a real headless browser: the page loads,
//! makes no network request of its own, references only files that exist, and renders
//! full-page screenshots at 1280 px and 390 px (a phone) that are not blank; at both widths
//! no element reaches past the viewport (wide tables and figures scroll inside their own
//! box), every image and inline SVG has a size, and a phone shows no horizontal scroll.
//! `.ci/run` installs Debian's chromium; without a browser the test prints why and is
//! skipped. Set `ECOCOMP_SCREENSHOTS=DIR` to keep the screenshots.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn browser() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("ECOCOMP_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
    .find(|p| p.is_file())
}

/// Headless chromium with a window of `width` × `height` px and its own profile in `work`;
/// the virtual time budget lets the embedded font and figures finish before it acts.
fn chromium_at(chromium: &Path, work: &Path, width: u32, height: u32) -> std::process::Command {
    let mut c = std::process::Command::new(chromium);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--virtual-time-budget=5000",
    ])
    .arg(format!("--window-size={width},{height}"))
    .arg(format!(
        "--user-data-dir={}",
        work.join("profile").display()
    ));
    c
}

fn url(page: &Path) -> String {
    format!("file://{}", page.canonicalize().unwrap().display())
}

/// Load `page` headless at `width` × `height`; return the screenshot bytes and the page's
/// own network requests (requests whose initiator is a document, not the browser's
/// background services).
fn load(
    chromium: &Path,
    page: &Path,
    work: &Path,
    (width, height): (u32, u32),
) -> (Vec<u8>, Vec<String>) {
    let shot = work.join("shot.png");
    let netlog = work.join("net.json");
    let o = chromium_at(chromium, work, width, height)
        .arg(format!("--log-net-log={}", netlog.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(url(page))
        .output()
        .unwrap();
    assert!(
        shot.is_file(),
        "no screenshot; chromium said:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let log: serde_json::Value = serde_json::from_slice(&std::fs::read(&netlog).unwrap()).unwrap();
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        .as_i64()
        .unwrap();
    let mut requests = Vec::new();
    for e in log["events"].as_array().unwrap() {
        if e["type"].as_i64() == Some(start_job) {
            let initiator = e["params"]["initiator"].as_str().unwrap_or("");
            let url = e["params"]["url"].as_str().unwrap_or("");
            // Chromium's own service requests carry no document origin.
            if initiator != "not an origin" && !url.is_empty() {
                requests.push(url.to_string());
            }
        }
    }
    (std::fs::read(&shot).unwrap(), requests)
}

/// What the layout probe measures in the browser.
#[derive(Debug, serde::Deserialize)]
struct Layout {
    /// The viewport's width and the document's scroll width and height, in CSS px.
    viewport: f64,
    scroll_width: f64,
    height: f64,
    /// Elements reaching past the viewport and not inside a box that scrolls them.
    overflowing: Vec<String>,
    /// Images and inline SVGs, and those without a size (or, for images, not loaded).
    figures: usize,
    empty: Vec<String>,
}

/// Runs the probe script over a copy of `page` at `width` px, reading its verdict from the
/// DOM chromium dumps. The copy sits beside the page so relative links still resolve.
fn measure(chromium: &Path, page: &Path, work: &Path, width: u32) -> Layout {
    const PROBE: &str = r#"<script>
addEventListener('load', () => {
  const vw = document.documentElement.clientWidth;
  const name = e => (e.tagName + (e.id ? '#' + e.id : '') +
    (typeof e.className === 'string' && e.className ? '.' + e.className : '')).replace(/[^A-Za-z0-9#._-]/g, '_');
  const scrolls = e => { for (let a = e.parentElement; a; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if ((o === 'auto' || o === 'scroll' || o === 'hidden') && a !== document.body && a !== document.documentElement) return true; }
    return false; };
  const over = [];
  for (const e of document.body.querySelectorAll('*')) {
    if (e.id === 'probe') continue;
    const r = e.getBoundingClientRect();
    if ((r.right > vw + 1 || r.left < -1) && r.width > 0 && !scrolls(e)) over.push(name(e));
  }
  const figs = [...document.querySelectorAll('img, body svg')].filter(e => !e.parentElement.closest('svg'));
  const empty = figs.filter(e => { const r = e.getBoundingClientRect();
    return r.width <= 0 || r.height <= 0 || (e.tagName === 'IMG' && !(e.complete && e.naturalWidth > 0)); }).map(name);
  const out = document.createElement('pre'); out.id = 'probe';
  out.textContent = JSON.stringify({ viewport: vw, scroll_width: document.documentElement.scrollWidth,
    height: document.documentElement.scrollHeight, overflowing: over.slice(0, 20), figures: figs.length, empty });
  document.body.appendChild(out);
});
</script>"#;
    let html = std::fs::read_to_string(page).unwrap();
    let probe = page.with_file_name(format!("probe-{width}.html"));
    std::fs::write(&probe, html.replace("</body>", &format!("{PROBE}</body>"))).unwrap();
    let o = chromium_at(chromium, work, width, 900)
        .arg("--dump-dom")
        .arg(url(&probe))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&o.stdout);
    let start = dom.find("<pre id=\"probe\">").expect("the probe ran") + "<pre id=\"probe\">".len();
    let end = start + dom[start..].find("</pre>").unwrap();
    serde_json::from_str(&dom[start..end]).unwrap()
}

/// Measures `page` at `width`, takes a full-page screenshot (kept in
/// `ECOCOMP_SCREENSHOTS` when set, as `NAME-WIDTH.png`), and checks the layout.
fn check_at(chromium: &Path, page: &Path, work: &Path, width: u32, name: &str) -> Layout {
    let layout = measure(chromium, page, work, width);
    let height = (layout.height.ceil() as u32).clamp(600, 16_000);
    let (shot, requests) = load(chromium, page, work, (width, height));
    assert!(
        requests.is_empty(),
        "the report made network requests: {requests:?}"
    );
    let (share, colours) = ink(&shot);
    assert!(
        share > 0.02 && colours > 20,
        "{name} at {width} px: screenshot looks blank: {share:.4} ink, {colours} colours"
    );
    if let Some(dir) = std::env::var_os("ECOCOMP_SCREENSHOTS") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(Path::new(&dir).join(format!("{name}-{width}.png")), &shot).unwrap();
    }
    layout
}

/// The layout checks every report must pass at `width`.
fn assert_layout(layout: &Layout, name: &str, width: u32) {
    assert!(
        layout.overflowing.is_empty(),
        "{name} at {width} px: elements wider than the viewport: {:?}",
        layout.overflowing
    );
    assert!(
        layout.scroll_width <= layout.viewport + 0.5,
        "{name} at {width} px: the page scrolls sideways ({} px in a {} px viewport)",
        layout.scroll_width,
        layout.viewport
    );
    assert!(layout.figures > 0, "{name}: no figure found");
    assert!(
        layout.empty.is_empty(),
        "{name} at {width} px: figures without a size: {:?}",
        layout.empty
    );
}

/// Share of pixels that are not (near) white, and the number of distinct colours.
fn ink(png_bytes: &[u8]) -> (f64, usize) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let px = &buf[..info.buffer_size()];
    let mut dark = 0usize;
    let mut colours = std::collections::HashSet::new();
    let n = px.len() / channels;
    for p in px.chunks(channels) {
        if p[..3].iter().any(|&c| c < 235) {
            dark += 1;
        }
        if colours.len() < 10_000 {
            colours.insert((p[0] >> 3, p[1] >> 3, p[2] >> 3));
        }
    }
    (dark as f64 / n as f64, colours.len())
}

/// Every `src="…"` and `href="…"` is a data URI, an in-page anchor, or an existing file;
/// an `href` may also be a link to a web page.
fn broken_references(html: &str, dir: &Path) -> Vec<String> {
    let mut bad = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for (i, _) in html.match_indices(attr) {
            let rest = &html[i + attr.len()..];
            let target = &rest[..rest.find('"').unwrap_or(0)];
            // A link to a web page (a source) is followed only on a click; what the page
            // loads by itself must be inside it or beside it.
            let web_link = attr == "href=\"" && target.starts_with("https://");
            let ok = target.starts_with("data:")
                || target.starts_with('#')
                || web_link
                || (!target.contains("://") && dir.join(target).is_file());
            if !ok {
                bad.push(target.chars().take(80).collect());
            }
        }
    }
    bad
}

fn run_report(args: &[&str], out: &Path) -> String {
    let o = Command::cargo_bin("ecocomp")
        .unwrap()
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(out.join("report.html")).unwrap()
}

#[test]
fn report_loads_in_headless_chromium() {
    let Some(chromium) = browser() else {
        eprintln!(
            "SKIPPED report_loads_in_headless_chromium: no chromium found (install it with `apt-get install chromium`, as .ci/run does)"
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let (xinan, national) = (dir.join("xinan.toml"), dir.join("national.toml"));
    let pages: [(&str, Vec<&str>); 3] = [
        ("national", vec!["run", "--quiet", "--draws", "300"]),
        (
            "xinan",
            vec!["run", xinan.to_str().unwrap(), "--quiet", "--draws", "300"],
        ),
        (
            "compare",
            vec!["compare", national.to_str().unwrap(), "--draws", "300"],
        ),
    ];
    for (name, args) in pages {
        let out = tmp.path().join(name);
        let html = run_report(&args, &out);
        assert!(html.contains("<svg"), "{name}: report lacks figures");
        if name == "national" {
            assert!(html.contains("四川"), "report lacks Chinese region names");
        }
        assert_eq!(broken_references(&html, &out), Vec::<String>::new());
        let work = tmp.path().join(format!("{name}-work"));
        std::fs::create_dir_all(&work).unwrap();
        for width in [1280, 390] {
            let layout = check_at(&chromium, &out.join("report.html"), &work, width, name);
            assert_layout(&layout, name, width);
        }
    }

    // The checks can fail: a page with a remote image, a missing file, a block wider than
    // a phone and an image that never loads is caught.
    let bad = tmp.path().join("bad.html");
    std::fs::write(&bad, "<html><body><p>x</p><div style=\"width:900px\">wide</div><img src=\"https://example.invalid/a.png\"><img src=\"gone.png\"></body></html>").unwrap();
    let bad_work = tmp.path().join("badwork");
    std::fs::create_dir_all(&bad_work).unwrap();
    let (blank, requests) = load(&chromium, &bad, &bad_work, (1280, 900));
    assert!(
        requests.iter().any(|u| u.contains("example.invalid")),
        "{requests:?}"
    );
    assert_eq!(
        broken_references(&std::fs::read_to_string(&bad).unwrap(), tmp.path()).len(),
        2
    );
    assert!(
        ink(&blank).0 < 0.02,
        "a nearly empty page must read as blank"
    );
    let narrow = measure(&chromium, &bad, &bad_work, 390);
    assert!(
        narrow.overflowing.iter().any(|e| e.starts_with("DIV")),
        "{narrow:?}"
    );
    assert!(narrow.scroll_width > narrow.viewport, "{narrow:?}");
    assert_eq!(narrow.empty.len(), 2, "{narrow:?}");
}
