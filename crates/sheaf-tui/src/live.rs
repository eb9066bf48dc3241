//! Follows `GET /v1/events`: bursts of events are coalesced into one [`Action::Events`]
//! (a 1000-item move is 2000 events and one redraw), and when the daemon goes away the feed
//! is retried with a growing backoff and resumed from the last `seq` seen, so nothing
//! committed meanwhile is missed.

use std::time::Duration;

use sheaf_client::Client;
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

use crate::action::Action;

/// How long events are gathered after the first of a burst.
const GATHER: Duration = Duration::from_millis(30);
/// The most events in one action.
const GATHER_MAX: usize = 10_000;

/// The wait before retry `attempt` (1-based): 100 ms doubling, at most 3 s.
#[must_use]
pub fn backoff(attempt: u32) -> Duration {
    let ms = 100u64.saturating_mul(1 << attempt.saturating_sub(1).min(5));
    Duration::from_millis(ms.min(3000))
}

/// Follows the feed from after `since` until the receiver is gone.
pub async fn follow(client: Client, mut since: Option<u64>, tx: UnboundedSender<Action>) {
    let mut attempt = 0u32;
    loop {
        let reason = match client.events(since).await {
            Ok(mut stream) => {
                attempt = 0;
                if tx.send(Action::Connected).is_err() {
                    return;
                }
                loop {
                    let first = match stream.next_event().await {
                        Some(Ok(e)) => e,
                        Some(Err(e)) => break crate::effects::failure(&e).message,
                        None => break "the daemon ended the event stream".to_owned(),
                    };
                    let mut batch = vec![first];
                    let deadline = Instant::now() + GATHER;
                    let mut ended = None;
                    while batch.len() < GATHER_MAX {
                        match tokio::time::timeout_at(deadline, stream.next_event()).await {
                            Ok(Some(Ok(e))) => batch.push(e),
                            Ok(Some(Err(e))) => {
                                ended = Some(crate::effects::failure(&e).message);
                                break;
                            }
                            Ok(None) => {
                                ended = Some("the daemon ended the event stream".to_owned());
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    since = batch.last().map(|e| e.seq).or(since);
                    if tx.send(Action::Events(batch)).is_err() {
                        return;
                    }
                    if let Some(reason) = ended {
                        break reason;
                    }
                }
            }
            Err(e) => crate::effects::failure(&e).message,
        };
        attempt = attempt.saturating_add(1);
        if tx
            .send(Action::Disconnected {
                attempt,
                reason: short(&reason),
            })
            .is_err()
        {
            return;
        }
        tokio::time::sleep(backoff(attempt)).await;
    }
}

/// The first clause of a long error, for the status line.
fn short(reason: &str) -> String {
    let cut = reason
        .find(" (")
        .or_else(|| reason.find("; "))
        .unwrap_or(reason.len());
    reason[..cut].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_100ms_and_stops_at_3s() {
        let waits: Vec<u64> = (1..=8).map(|a| backoff(a).as_millis() as u64).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1600, 3000, 3000, 3000]);
    }

    #[test]
    fn a_long_reason_is_cut_to_its_first_clause() {
        assert_eq!(
            short("sheafd is not running on /s.sock (connection refused); start it"),
            "sheafd is not running on /s.sock"
        );
    }
}
