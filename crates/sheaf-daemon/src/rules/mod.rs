//! Rules (SPEC §7.3). [`engine`] follows the change feed for every rule from its stored
//! cursor and fires it on the events it matches (the store actions commit with the cursor);
//! [`job`] carries out a firing's outside actions — `relocate`, then [`run`] (one command
//! without a shell, niced, in its own process group under the rule's timeout), then
//! [`webhook`] (the event posted with an idempotency key, retries and backoff) — and
//! records the run.

pub(crate) mod engine;
pub(crate) mod job;
pub(crate) mod run;
pub(crate) mod webhook;
