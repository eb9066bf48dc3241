//! Folder watches (SPEC §3): list, add, remove, rescan.

use sheaf_proto::requests::{WatchCreateBody, WatchDeleteParams};
use sheaf_proto::resources::Watch;
use sheaf_proto::responses::{WatchList, WatchRemoved};

use sheaf_proto::routes;

use crate::{Client, Error};

/// The answer of [`Client::add_watch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddedWatch {
    /// The watch, as the daemon answered it.
    pub watch: Watch,
    /// `true` when this call created it (201), `false` when the folder was already watched
    /// into that collection (200).
    pub created: bool,
}

impl Client {
    /// `GET /v1/watches`: every watch with its current state, in id order.
    pub async fn watches(&self) -> Result<WatchList, Error> {
        self.get(&routes::LIST_WATCHES, &[]).await
    }

    /// `POST /v1/watches`: binds a folder (an absolute path) to a collection. Idempotent: a
    /// folder already watched into that collection answers the existing watch (with the
    /// request's settings applied) and `created: false`.
    pub async fn add_watch(&self, body: &WatchCreateBody) -> Result<AddedWatch, Error> {
        let (status, watch) = self.send_status(&routes::CREATE_WATCH, &[], body).await?;
        Ok(AddedWatch {
            watch,
            created: status == 201,
        })
    }

    /// `DELETE /v1/watches/{wid}`: stops watching. The watch's live entries are
    /// soft-deleted, or with `keep_entries` kept live as manual entries.
    pub async fn remove_watch(&self, wid: &str, keep_entries: bool) -> Result<WatchRemoved, Error> {
        self.get_query(
            &routes::DELETE_WATCH,
            &[wid],
            &WatchDeleteParams {
                keep_entries: keep_entries.then_some(true),
            },
        )
        .await
    }

    /// `POST /v1/watches/{wid}/rescan`: reconciles the folder by a full walk, in the
    /// background; the watch answered is `scanning` until the walk is done.
    pub async fn rescan_watch(&self, wid: &str) -> Result<Watch, Error> {
        self.get(&routes::RESCAN_WATCH, &[wid]).await
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::ConnectOptions;

    /// A fake daemon answering each request by its request line (`POST /v1/watches`…)
    /// through `answer`, which returns status and body; it records every request line.
    fn fake_daemon(
        socket: &Path,
        answer: impl Fn(&str, usize) -> (u16, String) + Send + Sync + 'static,
    ) -> std::sync::Arc<std::sync::Mutex<Vec<String>>> {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let listener = tokio::net::UnixListener::bind(socket).unwrap();
        let answer = std::sync::Arc::new(answer);
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                // The connect-time probe hangs up without a request.
                if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                    continue;
                }
                let line = line.trim_end().to_owned();
                let mut length = 0;
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).await.unwrap();
                    let header = header.trim_end().to_ascii_lowercase();
                    if header.is_empty() {
                        break;
                    }
                    if let Some(n) = header.strip_prefix("content-length:") {
                        length = n.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).await.unwrap();
                let n = {
                    let mut seen = log.lock().unwrap();
                    seen.push(line.clone());
                    seen.len()
                };
                let (status, text) = answer(&line, n);
                let response = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                );
                let _ = reader.get_mut().write_all(response.as_bytes()).await;
            }
        });
        seen
    }

    fn health_json() -> String {
        serde_json::json!({
            "status": "ok", "version": "0.1.0", "api_version": sheaf_proto::API_VERSION,
            "uptime_s": 1, "pid": 1,
            "store": {"path": "/db", "schema_version": 1, "items": 0, "last_seq": 0},
            "limits": {"max_batch": 1000, "max_select": 100_000, "max_body_bytes": 1_048_576},
            "watches": []
        })
        .to_string()
    }

    fn watch_json(state: &str) -> String {
        serde_json::json!({
            "id": "w_01JD3Q2X9K8M7N6P5R4S3T2V1W", "path": "/home/me/papers",
            "collection": "papers", "recursive": true, "include": [], "exclude": [],
            "poll": null, "from_config": false, "state": state, "files": 0,
            "last_reconcile_at": null, "queue_depth": 0,
            "created_at": "2026-01-02T03:04:05Z"
        })
        .to_string()
    }

    #[tokio::test]
    async fn adding_a_watch_tells_created_201_from_already_watched_200() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("fake.sock");
        let seen = fake_daemon(&socket, |line, n| {
            if line.starts_with("GET /v1/health ") {
                (200, health_json())
            } else if line.starts_with("POST /v1/watches ") {
                // The first add creates, the second finds it.
                (if n <= 2 { 201 } else { 200 }, watch_json("scanning"))
            } else if line.starts_with("DELETE /v1/watches/") {
                (
                    200,
                    r#"{"id":"w_01JD3Q2X9K8M7N6P5R4S3T2V1W","entries":3}"#.to_owned(),
                )
            } else {
                (404, r#"{"success":false,"error":{"code":"WATCH_NOT_FOUND","message":"no such watch","details":null,"request_id":"req_1"}}"#.to_owned())
            }
        });
        let c = Client::connect(ConnectOptions {
            socket: Some(socket),
            autostart: false,
            ..ConnectOptions::default()
        })
        .await
        .unwrap();
        let body = WatchCreateBody {
            path: "/home/me/papers".into(),
            collection: "papers".into(),
            ..WatchCreateBody::default()
        };
        let first = c.add_watch(&body).await.unwrap();
        assert!(first.created);
        assert_eq!(first.watch.state, "scanning");
        assert!(!c.add_watch(&body).await.unwrap().created);

        let removed = c
            .remove_watch("w_01JD3Q2X9K8M7N6P5R4S3T2V1W", true)
            .await
            .unwrap();
        assert_eq!(removed.entries, 3);
        c.remove_watch("w_01JD3Q2X9K8M7N6P5R4S3T2V1W", false)
            .await
            .unwrap();
        let err = c.rescan_watch("w_nope").await.unwrap_err();
        assert_eq!(err.code(), Some("WATCH_NOT_FOUND"));
        assert_eq!(err.status(), Some(404));

        let seen = seen.lock().unwrap().clone();
        assert_eq!(
            seen[3..],
            [
                "DELETE /v1/watches/w_01JD3Q2X9K8M7N6P5R4S3T2V1W?keep_entries=true HTTP/1.1",
                "DELETE /v1/watches/w_01JD3Q2X9K8M7N6P5R4S3T2V1W HTTP/1.1",
                "POST /v1/watches/w_nope/rescan HTTP/1.1",
            ]
        );
    }
}
