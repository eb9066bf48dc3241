//! Set-up and checks shared by the tests of the platforms' requests (SPEC §8,
//! `tests/tests/dialect_*.rs`).

use std::time::Duration;

use crate::{Daemon, Reply, wait_until};

/// Registers `paper.pdf`, `figure.png` and `notes.pdf`, puts the first in
/// `research_papers` and the other two in `inbox`, waits until their content hashes are
/// computed (each an `item.updated`, in the background), and returns the three ids.
pub fn seed_papers(d: &Daemon) -> Vec<String> {
    let ids = d.register(&[
        ("paper.pdf", b"%PDF-1.4 paper"),
        ("figure.png", b"\x89PNG\r\n\x1a\n figure"),
        ("notes.pdf", b"%PDF-1.4 notes"),
    ]);
    d.create_collection("research_papers");
    d.create_collection("inbox");
    d.add("research_papers", &ids[..1]);
    d.add("inbox", &ids[1..]);
    let hashed = || {
        let (_, items) = d.get("/v1/items");
        items["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["content_hash"].is_string())
    };
    assert!(wait_until(Duration::from_secs(10), hashed));
    ids
}

/// Asserts a FastAPI refusal other than 422: `status` and `{"detail": "…"}`.
pub fn assert_detail(r: &Reply, status: u16) {
    assert_eq!(r.status, status, "{}", r.body);
    assert!(
        r.body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{}",
        r.body
    );
}
