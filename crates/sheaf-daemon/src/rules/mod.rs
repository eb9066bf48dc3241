//! Rules (SPEC §7.3): the executors of a rule's outside actions. [`run`] runs one command
//! without a shell, niced, in its own process group under the rule's timeout; [`webhook`]
//! POSTs one event with an idempotency key, retries and backoff. Both report what happened
//! as values for the run record and never fail the caller; concurrency (`max_jobs`), cursors
//! and recording belong to the engine that calls them.

pub(crate) mod run;
pub(crate) mod webhook;
