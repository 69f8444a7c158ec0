//! docs/figures.md shows one PNG of each figure type: every image it names is committed in
//! docs/img/ as a PNG, every PNG there is shown, together they stay under 3 MB, and
//! scripts/gallery.sh, which deletes and remakes them, makes every one.

use std::path::Path;

#[test]
fn gallery_images_exist_are_shown_and_stay_under_3_mb() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    let page = std::fs::read_to_string(docs.join("figures.md")).unwrap();
    let shown: Vec<&str> = page
        .split("](img/")
        .skip(1)
        .map(|rest| &rest[..rest.find(')').unwrap()])
        .collect();
    assert!(shown.len() >= 12, "only {} images shown", shown.len());
    let mut total = 0;
    for name in &shown {
        let bytes = std::fs::read(docs.join("img").join(name))
            .unwrap_or_else(|e| panic!("docs/img/{name}: {e}"));
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{name} is a PNG");
        total += bytes.len();
    }
    for entry in std::fs::read_dir(docs.join("img")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            shown.contains(&name.as_str()),
            "docs/img/{name} is not shown"
        );
    }
    assert!(total < 3_000_000, "the gallery is {total} bytes");

    let script = std::fs::read_to_string(docs.join("../scripts/gallery.sh")).unwrap();
    for name in &shown {
        assert!(
            script.contains(&format!("\"$img/{name}\"")),
            "scripts/gallery.sh does not make docs/img/{name}"
        );
    }
}
