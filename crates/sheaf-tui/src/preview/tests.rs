//! Previews of real files in a temp folder: each kind, the budget, and files that must
//! never be opened or read whole.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::archive::{Budget, tar, zip};
use super::read::classify;
use super::*;

fn file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A stored zip of `names` (empty members): local headers, the central directory, and the
/// end record, as a zip writer lays them out.
fn zip_of(names: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for name in names {
        let at = out.len() as u32;
        out.extend(b"PK\x03\x04");
        out.extend([20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.extend([0u8; 12]);
        out.extend((name.len() as u16).to_le_bytes());
        out.extend([0, 0]);
        out.extend(name.as_bytes());
        central.extend(b"PK\x01\x02");
        central.extend([20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        central.extend([0u8; 12]);
        central.extend((name.len() as u16).to_le_bytes());
        central.extend([0u8; 8]);
        central.extend([0u8; 4]);
        central.extend(at.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let cd_at = out.len() as u32;
    out.extend(&central);
    out.extend(b"PK\x05\x06");
    out.extend([0u8; 4]);
    out.extend((names.len() as u16).to_le_bytes());
    out.extend((names.len() as u16).to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(cd_at.to_le_bytes());
    out.extend([0, 0]);
    out
}

/// A ustar archive of `(name, data)` members.
fn tar_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in members {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        out.extend(h);
        out.extend(*data);
        out.resize(out.len().next_multiple_of(512), 0);
    }
    out.extend([0u8; 1024]);
    out
}

/// A PNG's signature and IHDR chunk: enough for its type and size.
fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    out.extend(width.to_be_bytes());
    out.extend(height.to_be_bytes());
    out.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
    out
}

#[test]
fn text_shows_its_first_lines_with_tabs_expanded_and_controls_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let p = file(
        dir.path(),
        "a.txt",
        b"fn main() {\n\tprintln!(\"hi\");\r\n}\x07\n",
    );
    assert_eq!(
        read(&p),
        Preview::Text {
            lines: vec![
                "fn main() {".into(),
                "    println!(\"hi\");".into(),
                "}\u{fffd}".into()
            ],
            more: false
        }
    );
}

#[test]
fn long_text_keeps_its_first_lines_and_says_more_follows() {
    let text = (0..500)
        .map(|i| format!("line {i}"))
        .collect::<Vec<_>>()
        .join("\n");
    let Ok(Preview::Text { lines, more }) = classify(text.as_bytes()) else {
        panic!()
    };
    assert_eq!(lines.len(), TEXT_LINES);
    assert_eq!(lines[0], "line 0");
    assert!(more);
}

#[test]
fn a_character_cut_by_the_budget_is_still_text_but_invalid_utf8_is_binary() {
    let mut big = "é".repeat(BUDGET);
    big.push('\n');
    assert!(matches!(
        classify(big.as_bytes()),
        Ok(Preview::Text { more: true, .. })
    ));
    assert_eq!(
        classify(b"abc\xff\xfedef".as_slice()).unwrap(),
        Preview::Binary {
            kind: "binary data".into()
        }
    );
}

#[test]
fn an_image_shows_its_type_and_pixel_size() {
    assert_eq!(
        classify(png(640, 480).as_slice()).unwrap(),
        Preview::Image {
            format: "PNG".into(),
            size: Some((640, 480))
        }
    );
}

#[test]
fn a_zip_lists_its_member_names_from_the_central_directory() {
    let names: Vec<String> = (0..60).map(|i| format!("dir/file{i}.txt")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let Preview::Archive {
        format,
        members,
        more,
    } = classify(zip_of(&refs).as_slice()).unwrap()
    else {
        panic!()
    };
    assert_eq!(format, "zip");
    assert_eq!(members, names[..MEMBERS]);
    assert_eq!(more, Some(true));
    let small = zip_of(&["a", "b/c"]);
    let got = zip(small.as_slice(), &mut Budget(BUDGET)).unwrap();
    assert_eq!(
        got,
        Preview::Archive {
            format: "zip",
            members: vec!["a".into(), "b/c".into()],
            more: Some(false)
        }
    );
}

#[test]
fn a_tar_lists_its_members_skipping_their_data() {
    let big = vec![b'x'; 100_000];
    let bytes = tar_of(&[("one.txt", b"hello"), ("big.bin", &big), ("three", b"")]);
    let mut budget = Budget(BUDGET);
    assert_eq!(
        tar(bytes.as_slice(), &mut budget).unwrap(),
        Preview::Archive {
            format: "tar",
            members: vec!["one.txt".into(), "big.bin".into(), "three".into()],
            more: Some(false)
        }
    );
    assert!(BUDGET - budget.0 <= 5 * 512, "headers only were read");
}

#[test]
fn a_broken_archive_lists_what_it_can_and_never_reads_past_the_budget() {
    let mut bytes = zip_of(&["a", "b"]);
    let len = bytes.len();
    // The directory offset points past the end.
    bytes[len - 6..len - 2].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        classify(bytes.as_slice()).unwrap(),
        Preview::Archive { format: "zip", .. }
    ));
    let mut budget = Budget(BUDGET);
    let endless = tar_of(&[("x", b"")]).repeat(200);
    tar(endless.as_slice(), &mut budget).unwrap();
    assert!(budget.0 <= BUDGET);
}

#[test]
fn a_fifo_and_a_folder_are_never_opened() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let ok = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(ok.success());
    let start = Instant::now();
    assert!(matches!(read(&fifo), Preview::Special { kind } if kind.contains("FIFO")));
    assert!(start.elapsed() < Duration::from_secs(5), "did not block");
    assert!(matches!(
        read(dir.path()),
        Preview::Special { kind: "a folder" }
    ));
    assert!(matches!(
        read(&dir.path().join("gone")),
        Preview::Unreadable { reason } if reason == "the file is gone"
    ));
}

#[test]
fn a_five_gigabyte_file_reads_only_its_head() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.bin");
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(b"\x7fELF\x02\x01\x01").unwrap();
    f.set_len(5 << 30).unwrap();
    drop(f);
    assert_eq!(
        read(&path),
        Preview::Binary {
            kind: "application/x-executable".into()
        }
    );
    assert_eq!(read(&file(dir.path(), "empty", b"")), Preview::Empty);
}

#[test]
fn the_cache_keeps_answers_by_file_state_and_asks_once() {
    let key = |size| PreviewKey {
        item: crate::testdata::item(1),
        size,
        mtime: crate::testdata::at(),
    };
    let mut p = Previews::default();
    assert!(p.ask(&key(1)));
    assert!(!p.ask(&key(1)), "on its way");
    p.put(key(1), Preview::Empty);
    assert_eq!(p.get(&key(1)), Some(&Preview::Empty));
    assert!(p.ask(&key(2)), "the file changed: read again");
    for i in 0..KEPT as u64 + 5 {
        p.put(key(100 + i), Preview::Empty);
    }
    assert_eq!(p.len(), KEPT);
    assert!(p.get(&key(1)).is_none(), "the oldest went");
}
