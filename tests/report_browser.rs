//! End-to-end check of report.html in a real headless browser: the page loads,
//! makes no network request of its own, references only files that exist, and renders a
//! screenshot that is not blank. `.ci/run` installs Debian's chromium; without a browser
//! the test prints why and is skipped.

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

/// Load `page` headless; return the screenshot bytes and the page's own network requests
/// (requests whose initiator is a document, not the browser's background services).
fn load(chromium: &Path, page: &Path, work: &Path) -> (Vec<u8>, Vec<String>) {
    let shot = work.join("shot.png");
    let netlog = work.join("net.json");
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let o = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1280,1800",
        ])
        .arg(format!(
            "--user-data-dir={}",
            work.join("profile").display()
        ))
        .arg(format!("--log-net-log={}", netlog.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
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

/// Every `src="…"` and `href="…"` is a data URI, an in-page anchor, or an existing file.
fn broken_references(html: &str, dir: &Path) -> Vec<String> {
    let mut bad = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for (i, _) in html.match_indices(attr) {
            let rest = &html[i + attr.len()..];
            let target = &rest[..rest.find('"').unwrap_or(0)];
            let ok = target.starts_with("data:")
                || target.starts_with('#')
                || (!target.contains("://") && dir.join(target).is_file());
            if !ok {
                bad.push(target.chars().take(80).collect());
            }
        }
    }
    bad
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
    let out = tmp.path().join("out");
    let o = Command::cargo_bin("ecocomp")
        .unwrap()
        .args(["run", "--quiet", "--draws", "300", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("<img") && html.contains("四川"),
        "report lacks figures or Chinese region names"
    );
    assert_eq!(broken_references(&html, &out), Vec::<String>::new());

    let (shot, requests) = load(&chromium, &out.join("report.html"), tmp.path());
    assert!(
        requests.is_empty(),
        "the report made network requests: {requests:?}"
    );
    let (share, colours) = ink(&shot);
    assert!(
        share > 0.02 && colours > 20,
        "screenshot looks blank: {share:.4} ink, {colours} colours"
    );

    // The checks can fail: a page with a remote image and a missing file is caught.
    let bad = tmp.path().join("bad.html");
    std::fs::write(&bad, "<html><body><p>x</p><img src=\"https://example.invalid/a.png\"><img src=\"gone.png\"></body></html>").unwrap();
    let bad_work = tmp.path().join("badwork");
    std::fs::create_dir_all(&bad_work).unwrap();
    let (blank, requests) = load(&chromium, &bad, &bad_work);
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
}
