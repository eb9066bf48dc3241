//! Access to the socket (SPEC §2.6): its modes, and what another uid can do — nothing by
//! default, read with `read_only_uids`, and nothing when it is not listed. The other uids
//! are real users created for the test (root only), and the client is curl run as them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use sheaf_e2e::{Daemon, have, is_root};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn the_socket_is_0600_in_a_0700_directory_by_default() {
    let d = Daemon::start();
    assert_eq!(mode(&d.socket), 0o600, "socket");
    assert_eq!(mode(d.socket.parent().unwrap()), 0o700, "socket directory");
}

#[test]
fn a_socket_directory_made_too_open_is_tightened_on_start() {
    let mut d = Daemon::unstarted("");
    let dir = d.socket.parent().unwrap().to_path_buf();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    d.spawn();
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&d.socket), 0o600);
}

#[test]
fn with_read_only_uids_the_directory_is_0711_and_the_socket_0666() {
    let d = Daemon::start_with_config("read_only_uids = [4242]\n");
    assert_eq!(mode(&d.socket), 0o666, "socket");
    assert_eq!(mode(d.socket.parent().unwrap()), 0o711, "socket directory");
}

/// useradd and userdel lock /etc/passwd: one at a time.
static USERS: Mutex<()> = Mutex::new(());

/// A system user created for the test and removed on drop, even when the test fails.
struct TempUser {
    name: String,
    uid: u32,
    gid: u32,
    created: bool,
}

impl TempUser {
    fn create() -> Self {
        let _lock = USERS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("sheaf-e2e-{:x}{:x}", std::process::id(), nanos);
        let exists = Command::new("id")
            .arg("-u")
            .arg(&name)
            .output()
            .unwrap()
            .status
            .success();
        let mut created = false;
        if !exists {
            let out = Command::new("useradd")
                .args(["-M", "-r", "-s", "/usr/sbin/nologin"])
                .arg(&name)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "useradd: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            created = true;
        }
        let id = |flag: &str| -> u32 {
            let out = Command::new("id").arg(flag).arg(&name).output().unwrap();
            String::from_utf8(out.stdout)
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        };
        Self {
            uid: id("-u"),
            gid: id("-g"),
            name,
            created,
        }
    }

    /// Runs curl as this user against the socket; `extra` are more curl arguments.
    fn curl(&self, socket: &Path, method: &str, path: &str, extra: &[&str]) -> Output {
        Command::new("setpriv")
            .arg(format!("--reuid={}", self.uid))
            .arg(format!("--regid={}", self.gid))
            .arg("--clear-groups")
            .args([
                "curl",
                "-sS",
                "-X",
                method,
                "-w",
                "\n%{http_code}",
                "--unix-socket",
            ])
            .arg(socket)
            .args(extra)
            .arg(format!("http://sheaf{path}"))
            .output()
            .unwrap()
    }
}

impl Drop for TempUser {
    fn drop(&mut self) {
        if self.created {
            let _lock = USERS
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let _ = Command::new("userdel").arg(&self.name).status();
        }
    }
}

/// Whether the tests can act as another uid; prints why not.
fn can_switch_users() -> bool {
    if !is_root() {
        eprintln!("SKIPPED: acting as another uid needs root");
        return false;
    }
    for tool in ["useradd", "userdel", "setpriv", "curl"] {
        if !have(tool) {
            eprintln!("SKIPPED: {tool} is not installed (util-linux, passwd, curl)");
            return false;
        }
    }
    true
}

/// The status and JSON body of a curl run with `-w '\n%{http_code}'`.
fn answer(out: &Output) -> (u16, Value) {
    assert!(
        out.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (
        code.parse().unwrap(),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

/// Lets other users reach the socket directory (the test's temp dir is 0700).
fn open_tempdir(d: &Daemon) {
    std::fs::set_permissions(d.dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
}

#[test]
fn another_uid_cannot_connect_to_the_socket_by_default() {
    if !can_switch_users() {
        return;
    }
    let user = TempUser::create();
    let d = Daemon::start();
    open_tempdir(&d);
    let out = user.curl(&d.socket, "GET", "/v1/health", &[]);
    assert_eq!(
        out.status.code(),
        Some(7),
        "curl cannot connect: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("\"status\""));
}

#[test]
fn a_read_only_uid_reads_but_gets_insufficient_permissions_on_writes() {
    if !can_switch_users() {
        return;
    }
    let user = TempUser::create();
    let d = Daemon::start_with_config(&format!("read_only_uids = [{}]\n", user.uid));
    open_tempdir(&d);
    d.create_collection("inbox");

    let (s, health) = answer(&user.curl(&d.socket, "GET", "/v1/health", &[]));
    assert_eq!(s, 200, "{health}");
    assert_eq!(health["status"], "ok");
    let (s, list) = answer(&user.curl(&d.socket, "GET", "/v1/collections/inbox/items", &[]));
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["entries"], serde_json::json!([]));

    let json = [
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"id": "mine"}"#,
    ];
    let (s, body) = answer(&user.curl(&d.socket, "POST", "/v1/collections", &json));
    assert_eq!(s, 403, "{body}");
    assert_eq!(body["success"], false);
    assert_eq!(body["error"]["code"], "INSUFFICIENT_PERMISSIONS");
    assert!(
        body["error"]["request_id"]
            .as_str()
            .unwrap()
            .starts_with("req_")
    );
    let (s, body) = answer(&user.curl(&d.socket, "DELETE", "/v1/collections/inbox", &[]));
    assert_eq!(s, 403, "{body}");
    assert_eq!(body["error"]["code"], "INSUFFICIENT_PERMISSIONS");
    // Nor a rule that would run a program as the daemon's user (SPEC §7.3).
    let rule = [
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"name": "r", "on": ["item.created"], "query": {}, "run": ["id"]}"#,
    ];
    let (s, body) = answer(&user.curl(&d.socket, "POST", "/v1/rules", &rule));
    assert_eq!(s, 403, "{body}");
    assert_eq!(body["error"]["code"], "INSUFFICIENT_PERMISSIONS");
    assert_eq!(d.get("/v1/collections/mine").0, 404, "nothing was written");
    assert!(d.get("/v1/collections/inbox").1["trashed_at"].is_null());
    assert_eq!(d.get("/v1/rules").1["rules"], serde_json::json!([]));
}

#[test]
fn a_uid_that_is_not_listed_gets_insufficient_permissions_on_everything() {
    if !can_switch_users() {
        return;
    }
    let reader = TempUser::create();
    let stranger = TempUser::create();
    let d = Daemon::start_with_config(&format!("read_only_uids = [{}]\n", reader.uid));
    open_tempdir(&d);
    for path in ["/v1/health", "/v1/collections", "/v1/events"] {
        let (s, body) = answer(&stranger.curl(&d.socket, "GET", path, &[]));
        assert_eq!(s, 403, "{path}: {body}");
        assert_eq!(body["error"]["code"], "INSUFFICIENT_PERMISSIONS", "{path}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(&stranger.uid.to_string()), "{message}");
    }
    let json = [
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"id": "x"}"#,
    ];
    let (s, body) = answer(&stranger.curl(&d.socket, "POST", "/v1/collections", &json));
    assert_eq!(s, 403, "{body}");
    assert_eq!(body["error"]["code"], "INSUFFICIENT_PERMISSIONS");
    // The listed reader next to it still reads.
    let (s, _) = answer(&reader.curl(&d.socket, "GET", "/v1/health", &[]));
    assert_eq!(s, 200);
}
