use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What sort of file an item is, derived from its content type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// pdf, office formats, epub, rtf.
    Document,
    /// Any `image/*`.
    Image,
    /// Any `video/*`.
    Video,
    /// Any `audio/*`.
    Audio,
    /// Plain text, markdown, source code, csv, json.
    Text,
    /// zip, tar, compressed streams.
    Archive,
    /// Anything else.
    Other,
}

impl Kind {
    /// Every kind, in a stable order.
    pub const ALL: [Kind; 7] = [
        Kind::Document,
        Kind::Image,
        Kind::Video,
        Kind::Audio,
        Kind::Text,
        Kind::Archive,
        Kind::Other,
    ];

    /// The kind's name as the API spells it.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Document => "document",
            Kind::Image => "image",
            Kind::Video => "video",
            Kind::Audio => "audio",
            Kind::Text => "text",
            Kind::Archive => "archive",
            Kind::Other => "other",
        }
    }

    /// The prefix of ids of items first registered as this kind.
    #[must_use]
    pub const fn id_prefix(self) -> &'static str {
        match self {
            Kind::Document => "doc",
            Kind::Image => "img",
            Kind::Video => "vid",
            Kind::Audio => "aud",
            Kind::Text => "txt",
            Kind::Archive => "arc",
            Kind::Other => "bin",
        }
    }

    /// The kind an id prefix names.
    #[must_use]
    pub fn from_id_prefix(prefix: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.id_prefix() == prefix)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s).ok_or(())
    }
}

/// The kind of a MIME content type (parameters such as `; charset=…` are ignored).
#[must_use]
pub fn kind_of_content_type(content_type: &str) -> Kind {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let (top, sub) = essence.split_once('/').unwrap_or((essence.as_str(), ""));
    match (top, sub) {
        ("application" | "text", "rtf") => Kind::Document,
        ("image", _) => Kind::Image,
        ("video", _) => Kind::Video,
        ("audio", _) => Kind::Audio,
        ("text", _) => Kind::Text,
        ("application", sub) if is_document(sub) => Kind::Document,
        ("application", sub) if is_archive(sub) => Kind::Archive,
        ("application", sub) if is_text(sub) => Kind::Text,
        _ => Kind::Other,
    }
}

fn is_document(sub: &str) -> bool {
    matches!(
        sub,
        "pdf" | "msword" | "epub+zip" | "vnd.ms-excel" | "vnd.ms-powerpoint" | "x-mobipocket-ebook"
    ) || sub.starts_with("vnd.openxmlformats-officedocument.")
        || sub.starts_with("vnd.oasis.opendocument.")
}

fn is_archive(sub: &str) -> bool {
    matches!(
        sub,
        "zip"
            | "x-tar"
            | "gzip"
            | "x-gzip"
            | "x-bzip2"
            | "x-xz"
            | "zstd"
            | "x-7z-compressed"
            | "x-rar-compressed"
            | "vnd.rar"
            | "x-lzip"
            | "x-compress"
            | "x-cpio"
            | "java-archive"
    )
}

fn is_text(sub: &str) -> bool {
    matches!(
        sub,
        "json"
            | "xml"
            | "javascript"
            | "x-javascript"
            | "ecmascript"
            | "toml"
            | "yaml"
            | "x-yaml"
            | "x-sh"
            | "x-shellscript"
            | "sql"
            | "x-httpd-php"
            | "ld+json"
            | "graphql"
    ) || sub.ends_with("+json")
        || sub.ends_with("+xml")
}

/// The content type of a file: sniffed from its first bytes (`head`, a few KiB are plenty),
/// falling back to the file name's extension, then to `text/plain` for content that looks
/// like text and `application/octet-stream` for anything else.
#[must_use]
pub fn content_type_for(head: &[u8], file_name: &str) -> String {
    if let Some(sniffed) = infer::get(head) {
        return sniffed.mime_type().to_owned();
    }
    if let Some(guess) = mime_guess::from_path(file_name).first() {
        return guess.essence_str().to_owned();
    }
    if !head.is_empty() && looks_like_text(head) {
        return "text/plain".to_owned();
    }
    "application/octet-stream".to_owned()
}

/// UTF-8 without NUL bytes; a multi-byte character cut at the end of `head` is fine.
fn looks_like_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_map_to_the_kinds_of_the_spec() {
        let cases = [
            ("application/pdf", Kind::Document),
            (
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                Kind::Document,
            ),
            ("application/epub+zip", Kind::Document),
            ("application/rtf", Kind::Document),
            ("image/png", Kind::Image),
            ("video/mp4", Kind::Video),
            ("audio/flac", Kind::Audio),
            ("text/markdown; charset=utf-8", Kind::Text),
            ("text/csv", Kind::Text),
            ("application/json", Kind::Text),
            ("application/zip", Kind::Archive),
            ("application/gzip", Kind::Archive),
            ("application/octet-stream", Kind::Other),
            ("garbage", Kind::Other),
        ];
        for (ct, kind) in cases {
            assert_eq!(kind_of_content_type(ct), kind, "{ct}");
        }
    }

    #[test]
    fn magic_bytes_win_over_the_extension() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(content_type_for(png, "photo.txt"), "image/png");
        assert_eq!(content_type_for(b"%PDF-1.7\n", "paper"), "application/pdf");
    }

    #[test]
    fn the_extension_decides_when_the_bytes_say_nothing() {
        assert_eq!(content_type_for(b"# Title\n", "notes.md"), "text/markdown");
        assert_eq!(content_type_for(b"{}", "data.json"), "application/json");
    }

    #[test]
    fn unknown_text_is_plain_and_unknown_binary_is_octet_stream() {
        assert_eq!(content_type_for("héllo".as_bytes(), "README"), "text/plain");
        assert_eq!(
            content_type_for(b"\0\x01\x02", "blob"),
            "application/octet-stream"
        );
        assert_eq!(content_type_for(b"", "empty"), "application/octet-stream");
    }

    #[test]
    fn id_prefixes_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(Kind::from_id_prefix(kind.id_prefix()), Some(kind));
        }
    }
}
