//! Exit codes and the error line: every failure maps to one code scripts can branch on
//! (listed in `sheaf --help`), and prints as `sheaf: CODE: message` plus detail lines.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use sheaf_client::Error as ClientError;

use crate::render;

/// Success.
pub(crate) const OK: u8 = 0;
/// Anything unexpected.
pub(crate) const UNEXPECTED: u8 = 1;
/// Bad usage (clap uses 2 too).
pub(crate) const USAGE: u8 = 2;
/// Not running, not started, hung, other API version.
pub(crate) const UNREACHABLE: u8 = 3;
/// 404 codes, nothing to undo.
pub(crate) const NOT_FOUND: u8 = 4;
/// 409 codes.
pub(crate) const CONFLICT: u8 = 5;
/// 400, 413, 415, 422.
pub(crate) const INVALID: u8 = 6;
/// 401, 403.
pub(crate) const PERMISSION: u8 = 7;
/// 429, 503.
pub(crate) const BUSY: u8 = 8;
/// 500.
pub(crate) const STORAGE: u8 = 9;

/// Failures of the CLI itself (the daemon's are `sheaf_client::Error`).
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// `undo` without an op found none to undo.
    #[error("nothing to undo: every logged operation is undone already, or is itself an undo")]
    NothingToUndo,
    /// No item arguments after expanding `-`.
    #[error("no items given (stdin had no lines)")]
    NoInput,
    /// Some batches of a multi-batch write were applied before one failed.
    #[error("{source}")]
    Partial {
        /// Batches applied.
        done: usize,
        /// Batches in all.
        of: usize,
        /// Items in the applied batches.
        items: u64,
        /// Their ops, for undo.
        ops: Vec<String>,
        /// The failure.
        #[source]
        source: ClientError,
    },
    /// The daemon ended the event stream (it does so when it shuts down).
    #[error(
        "sheafd ended the event stream (it is shutting down); resume with `sheaf events --since {0}`"
    )]
    StreamEnded(u64),
    /// A folder argument could not be resolved (it does not exist, or is not reachable).
    #[error("cannot open the folder {}", .path.display())]
    Folder {
        /// As given.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A folder's path is not UTF-8, which the API cannot carry.
    #[error("the folder {} has a path that is not valid UTF-8; sheafd takes UTF-8 paths only", .0.display())]
    NotUtf8(PathBuf),
    /// The watch `open` waits on disappeared (removed by someone else meanwhile).
    #[error("the watch {0} was removed while sheaf waited for its scan")]
    WatchGone(String),
    /// `open` gave up waiting for a folder's scan.
    #[error(
        "the watch {wid} of {path} is still scanning after {}; the scan goes on in the \
         background: run `sheaf open` again later, `sheaf watch` shows its progress",
        waited_text(*.waited)
    )]
    StillScanning {
        /// The watch's id (`w_…`), as `sheaf watch` lists it.
        wid: String,
        /// Its folder.
        path: String,
        /// How long sheaf waited.
        waited: Duration,
    },
    /// The daemon answered something inconsistent with the request.
    #[error("{0}")]
    Unexpected(String),
    /// `doctor` found problems (it printed them).
    #[error("doctor found {0} problem(s); each is listed above with its fix")]
    Unhealthy(usize),
}

/// `2m 0s`, or `200ms` under a second.
fn waited_text(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        render::duration(d.as_secs())
    }
}

/// The exit code for an HTTP status of the error envelope.
pub(crate) fn for_status(status: u16) -> u8 {
    match status {
        400 | 413 | 415 | 422 => INVALID,
        401 | 403 => PERMISSION,
        404 => NOT_FOUND,
        409 => CONFLICT,
        429 | 503 => BUSY,
        500 => STORAGE,
        _ => UNEXPECTED,
    }
}

fn for_client(e: &ClientError) -> u8 {
    match e {
        ClientError::Api { status, .. } => for_status(*status),
        ClientError::Transport { .. } => UNREACHABLE,
        e if e.is_unreachable() => UNREACHABLE,
        _ => UNEXPECTED,
    }
}

/// The exit code of a failed run.
pub(crate) fn code(err: &anyhow::Error) -> u8 {
    if let Some(e) = err.downcast_ref::<ClientError>() {
        return for_client(e);
    }
    match err.downcast_ref::<CliError>() {
        Some(CliError::NothingToUndo | CliError::WatchGone(_)) => NOT_FOUND,
        Some(CliError::NoInput) => USAGE,
        Some(CliError::Partial { source, .. }) => for_client(source),
        Some(CliError::StreamEnded(_) | CliError::StillScanning { .. }) => BUSY,
        Some(CliError::Folder { source, .. }) => match source.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => NOT_FOUND,
            std::io::ErrorKind::PermissionDenied => PERMISSION,
            _ => UNEXPECTED,
        },
        Some(CliError::NotUtf8(_)) => INVALID,
        Some(CliError::Unexpected(_) | CliError::Unhealthy(_)) | None => UNEXPECTED,
    }
}

/// Whether the run failed only because stdout was closed (`sheaf ls big | head`).
pub(crate) fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The lines to print on stderr, the first being `sheaf: …`.
pub(crate) fn lines(err: &anyhow::Error) -> Vec<String> {
    if let Some(e) = err.downcast_ref::<ClientError>() {
        return client_lines(e);
    }
    if let Some(CliError::Partial {
        done,
        of,
        items,
        ops,
        source,
    }) = err.downcast_ref::<CliError>()
    {
        let mut out = client_lines(source);
        out.push(format!(
            "sheaf: note: {done} of {of} batches ({items} items) were applied before this \
             failure and stay applied; each batch is atomic, the whole is not. Undo them with \
             `sheaf undo OP` for OP in: {}",
            ops.join(" ")
        ));
        return out;
    }
    vec![format!("sheaf: {err:#}")]
}

fn client_lines(e: &ClientError) -> Vec<String> {
    match e {
        ClientError::Api {
            status,
            code,
            message,
            details,
            request_id,
        } => {
            let mut out = vec![format!("sheaf: {code}: {message}")];
            out.extend(detail_lines(details));
            if *status >= 500 {
                out.push(format!(
                    "  request: {request_id} (the daemon's log has more)"
                ));
            }
            out
        }
        ClientError::Io { .. } | ClientError::Transport { .. } => {
            let mut text = format!("sheaf: {e}");
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                let _ = write!(text, ": {s}");
                source = s.source();
            }
            vec![text]
        }
        other => vec![format!("sheaf: {other}")],
    }
}

/// Details worth showing: field errors as `at body.items.3: msg`; id lists as
/// `missing: a, b … and N more`; other values as `key: value`.
pub(crate) fn detail_lines(details: &serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    match details {
        Value::Array(fields) => fields
            .iter()
            .map(|f| {
                let loc = f["loc"]
                    .as_array()
                    .map(|parts| {
                        parts
                            .iter()
                            .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
                            .collect::<Vec<_>>()
                            .join(".")
                    })
                    .unwrap_or_default();
                let msg = f["msg"]
                    .as_str()
                    .map_or_else(|| f.to_string(), str::to_owned);
                if loc.is_empty() {
                    format!("  {msg}")
                } else {
                    format!("  at {loc}: {msg}")
                }
            })
            .collect(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| match v {
                Value::Array(items) => {
                    let texts: Vec<String> = items
                        .iter()
                        .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                        .collect();
                    format!("  {k}: {}", render::list(&texts, 10))
                }
                Value::String(s) => format!("  {k}: {s}"),
                other => format!("  {k}: {other}"),
            })
            .collect(),
        Value::Null => Vec::new(),
        other => vec![format!("  {other}")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn api(status: u16, code: &str, details: serde_json::Value) -> anyhow::Error {
        ClientError::Api {
            status,
            code: code.to_owned(),
            message: "2 of 3 items do not exist".to_owned(),
            details,
            request_id: "req_1".to_owned(),
        }
        .into()
    }

    #[test]
    fn statuses_map_to_the_documented_codes() {
        let cases = [
            (400, INVALID),
            (401, PERMISSION),
            (403, PERMISSION),
            (404, NOT_FOUND),
            (405, UNEXPECTED),
            (409, CONFLICT),
            (413, INVALID),
            (415, INVALID),
            (422, INVALID),
            (429, BUSY),
            (500, STORAGE),
            (503, BUSY),
        ];
        for (status, want) in cases {
            assert_eq!(code(&api(status, "X", json!(null))), want, "{status}");
        }
    }

    #[test]
    fn an_unreachable_daemon_is_three_and_our_own_failures_have_theirs() {
        let e: anyhow::Error = ClientError::VersionMismatch {
            client: "1".into(),
            daemon: "999".into(),
            daemon_version: "9".into(),
            socket: "/s".into(),
        }
        .into();
        assert_eq!(code(&e), UNREACHABLE);
        assert_eq!(code(&CliError::NothingToUndo.into()), NOT_FOUND);
        assert_eq!(code(&CliError::NoInput.into()), USAGE);
        assert_eq!(code(&anyhow::anyhow!("boom")), UNEXPECTED);
        assert_eq!(OK, 0);
    }

    #[test]
    fn watch_not_found_is_the_not_found_code() {
        assert_eq!(code(&api(404, "WATCH_NOT_FOUND", json!(null))), NOT_FOUND);
        assert_eq!(code(&CliError::WatchGone("w_1".into()).into()), NOT_FOUND);
    }

    #[test]
    fn folder_failures_have_their_codes() {
        let folder = |kind| -> anyhow::Error {
            CliError::Folder {
                path: "/nope".into(),
                source: std::io::Error::from(kind),
            }
            .into()
        };
        assert_eq!(code(&folder(std::io::ErrorKind::NotFound)), NOT_FOUND);
        assert_eq!(
            code(&folder(std::io::ErrorKind::PermissionDenied)),
            PERMISSION
        );
        assert_eq!(code(&CliError::NotUtf8("/x".into()).into()), INVALID);
        let line = &lines(&folder(std::io::ErrorKind::NotFound))[0];
        assert!(
            line.starts_with("sheaf: cannot open the folder /nope: "),
            "{line}"
        );
        let slow: anyhow::Error = CliError::StillScanning {
            wid: "w_1".into(),
            path: "/big".into(),
            waited: Duration::from_secs(120),
        }
        .into();
        assert_eq!(code(&slow), BUSY);
        assert!(
            lines(&slow)[0].contains("after 2m 0s"),
            "{:?}",
            lines(&slow)
        );
        assert_eq!(waited_text(Duration::from_millis(200)), "200ms");
    }

    #[test]
    fn the_error_line_has_code_and_message_then_the_missing_ids() {
        let got = lines(&api(
            404,
            "ITEMS_NOT_FOUND",
            json!({"missing": ["doc_1", "img_2"]}),
        ));
        assert_eq!(
            got,
            [
                "sheaf: ITEMS_NOT_FOUND: 2 of 3 items do not exist",
                "  missing: doc_1, img_2"
            ]
        );
    }

    #[test]
    fn field_errors_show_where() {
        let got = detail_lines(&json!([
            {"loc": ["body", "items", 3], "msg": "paths must be absolute", "type": "path"}
        ]));
        assert_eq!(got, ["  at body.items.3: paths must be absolute"]);
    }

    #[test]
    fn storage_errors_name_the_request() {
        let got = lines(&api(500, "STORAGE_ERROR", json!(null)));
        assert_eq!(got.len(), 2);
        assert!(got[1].contains("req_1"));
    }

    #[test]
    fn a_partial_batch_failure_keeps_the_code_and_lists_the_ops() {
        let e: anyhow::Error = CliError::Partial {
            done: 2,
            of: 3,
            items: 2000,
            ops: vec!["op_a".into(), "op_b".into()],
            source: ClientError::Api {
                status: 409,
                code: "NOT_IN_SOURCE".into(),
                message: "m".into(),
                details: json!(null),
                request_id: "r".into(),
            },
        }
        .into();
        assert_eq!(code(&e), CONFLICT);
        let got = lines(&e);
        assert_eq!(got[0], "sheaf: NOT_IN_SOURCE: m");
        assert!(got[1].contains("2 of 3 batches (2000 items)"), "{}", got[1]);
        assert!(got[1].ends_with("op_a op_b"), "{}", got[1]);
    }
}
