//! The harness itself: a daemon boots, answers health, and stops cleanly on SIGTERM.

use sheaf_e2e::Daemon;

#[test]
fn sheafd_answers_health_and_exits_zero_on_sigterm_removing_its_socket() {
    let mut d = Daemon::start();
    let (status, health) = d.get("/v1/health");
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["api_version"], sheaf_proto::API_VERSION);
    let exit = d.stop();
    assert!(exit.success(), "{exit}");
    assert!(!d.socket.exists(), "the socket is removed on exit");
}
