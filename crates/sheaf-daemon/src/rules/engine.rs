//! The rule engine (SPEC §7.3): each rule follows the persistent change feed from its own
//! stored cursor, so events that happened while the daemon was down are handled when it
//! starts, and none is handled twice. For the events of a feed page a rule fires on, about
//! items its query matches, the store actions and the cursor commit together
//! ([`sheaf_store::Store::fire_rule_page`]); the outside actions are then carried out as jobs,
//! at most `max_jobs` at once. Events a rule's own actions caused never fire it again: its
//! store actions' events carry it as their cause, and the changes its programs make to the
//! item while they run (and a moment after) are taken as its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sheaf_core::rule::{Rule, RuleJob, RuleSpec};
use sheaf_core::{ItemId, Matcher, RuleId};
use sheaf_store::{Fired, Firing, StoredEvent};
use tokio::sync::{Notify, Semaphore, watch};

use super::job::{self, JobContext};
use crate::writer::Writer;

/// Events read per rule and step.
const PAGE: usize = 512;

/// Items an `apply` looks at per transaction.
const APPLY_CHUNK: usize = 256;

/// How long after a rule's outside actions end the changes to their item still count as
/// theirs: a program's last write reaches the feed after the watch settles it.
const OWN_CHANGES_GRACE: Duration = Duration::from_secs(3);

/// Outside actions of a rule on an item that are running or just ended.
#[derive(Debug, Default)]
pub(crate) struct Busy(Mutex<HashMap<(RuleId, ItemId), Option<Instant>>>);

impl Busy {
    fn start(&self, rule: RuleId, item: ItemId) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((rule, item), None);
    }

    pub(crate) fn end(&self, rule: RuleId, item: ItemId) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((rule, item), Some(Instant::now()));
    }

    /// Whether a change to `item` now is the rule's own doing.
    fn owns(&self, rule: RuleId, item: ItemId) -> bool {
        let mut busy = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        busy.retain(|_, ended| ended.is_none_or(|t| t.elapsed() < OWN_CHANGES_GRACE));
        busy.contains_key(&(rule, item))
    }
}

/// What the engine needs.
pub(crate) struct Engine {
    pub(crate) writer: Arc<Writer>,
    pub(crate) home: Option<String>,
    pub(crate) jobs: Arc<Semaphore>,
    pub(crate) busy: Arc<Busy>,
    pub(crate) context: Arc<JobContext>,
    /// Compiled queries, by rule, with the definition they were compiled from.
    matchers: Mutex<HashMap<RuleId, (Rule, Arc<Matcher>)>>,
}

impl Engine {
    pub(crate) fn new(writer: Arc<Writer>, home: Option<String>, max_jobs: usize) -> Self {
        Self {
            context: Arc::new(JobContext::new(Arc::clone(&writer), home.clone())),
            writer,
            home,
            jobs: Arc::new(Semaphore::new(max_jobs.max(1))),
            busy: Arc::default(),
            matchers: Mutex::default(),
        }
    }

    fn matcher(&self, rule: &Rule) -> Arc<Matcher> {
        let mut m = self.matchers.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((r, matcher)) = m.get(&rule.id)
            && r == rule
        {
            return Arc::clone(matcher);
        }
        let matcher = Arc::new(rule.spec.query.matcher(self.home.as_deref()));
        m.insert(rule.id, (rule.clone(), Arc::clone(&matcher)));
        matcher
    }

    /// Carries out a job's outside actions in the background, at most `max_jobs` at once.
    pub(crate) fn spawn_job(self: &Arc<Self>, rule: Rule, job: RuleJob) {
        let this = Arc::clone(self);
        self.busy.start(job.rule, job.item);
        tokio::spawn(async move {
            let Ok(_permit) = Arc::clone(&this.jobs).acquire_owned().await else {
                return;
            };
            job::carry_out(&this.context, &rule, &job).await;
            this.busy.end(job.rule, job.item);
        });
    }

    /// Runs one rule over the feed from its cursor until it is caught up; answers whether
    /// it did anything.
    fn step_rule(self: &Arc<Self>, rule: &Rule, cursor: u64) -> Result<bool, String> {
        let store = self.writer.store();
        let page = store.events(cursor, PAGE).map_err(|e| e.to_string())?;
        if page.reset {
            tracing::warn!(rule = %rule.id, "events the rule had not handled were dropped from the feed");
        }
        let Some(last) = page.events.last().map(|e| e.seq) else {
            return Ok(false);
        };
        let matcher = self.matcher(rule);
        let mut firings = Vec::new();
        // An item whose outside actions this page queues is the rule's own until they end,
        // as it would be had each event been committed on its own.
        let mut queued = std::collections::HashSet::new();
        let outside = rule.spec.has_outside_actions();
        for e in &page.events {
            if let Some(firing) = self.fires(rule, &matcher, e)?
                && (!outside || queued.insert(firing.item))
            {
                firings.push(firing);
            }
        }
        if firings.is_empty() {
            store
                .advance_rule(rule.id, last)
                .map_err(|e| e.to_string())?;
            return Ok(true);
        }
        // The page's firings and the cursor's move past the page: one commit.
        let (fired, _) = self
            .writer
            .write_with_seqs(|s| s.fire_rule_page(rule.id, &firings, last))
            .map_err(|e| e.to_string())?;
        for (firing, fired) in firings.iter().zip(fired) {
            match fired {
                Fired::Done => {}
                Fired::Queued(job) => self.spawn_job(rule.clone(), *job),
                Fired::Failed(why) => {
                    tracing::info!(rule = %rule.id, item = %firing.item, %why, "rule run failed");
                }
            }
        }
        Ok(true)
    }

    /// The firing of `rule` for `e`, if the event is one it acts on.
    fn fires(
        &self,
        rule: &Rule,
        matcher: &Matcher,
        e: &StoredEvent,
    ) -> Result<Option<Firing>, String> {
        let Some(item) = e.event.item_id else {
            return Ok(None);
        };
        if !rule.spec.fires_on(e.event.kind)
            || e.cause.is_some_and(|c| c.rule == rule.id)
            || self.busy.owns(rule.id, item)
        {
            return Ok(None);
        }
        let found = self
            .writer
            .store()
            .item_if_matches(&rule.spec.query, matcher, item)
            .map_err(|e| e.to_string())?;
        Ok(found.map(|_| Firing {
            seq: e.seq,
            item,
            event: e.event.clone(),
            at: e.at,
            op_id: e.op_id,
            cause: e.cause,
        }))
    }

    /// One batch of a running `apply`; answers whether more remain.
    fn step_apply(self: &Arc<Self>, id: RuleId) -> Result<bool, String> {
        let (step, _) = self
            .writer
            .write_with_seqs(|s| s.apply_step(id, APPLY_CHUNK))
            .map_err(|e| e.to_string())?;
        for job in step.jobs {
            self.spawn_job(step.rule.clone(), job);
        }
        Ok(step.more)
    }

    /// Every rule until each is caught up with the feed, then one batch of every running
    /// `apply` (the feed comes first: new events are what a user waits for); answers
    /// whether an apply has more to do.
    fn catch_up(self: &Arc<Self>) -> bool {
        self.follow_feed();
        let running = match self.writer.store().applies_running() {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "reading the running applies failed");
                return false;
            }
        };
        let mut more = false;
        for id in running {
            match self.step_apply(id) {
                Ok(m) => more |= m,
                Err(e) => tracing::warn!(rule = %id, error = %e, "an apply could not go on"),
            }
        }
        more
    }

    /// Every rule until each is caught up with the feed.
    fn follow_feed(self: &Arc<Self>) {
        loop {
            let rules = match self.writer.store().rules() {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = %e, "reading the rules failed");
                    return;
                }
            };
            let mut progressed = false;
            for state in rules {
                match self.step_rule(&state.rule, state.cursor) {
                    Ok(did) => progressed |= did,
                    Err(e) => {
                        tracing::warn!(rule = %state.rule.id, error = %e, "a rule could not follow the feed");
                    }
                }
            }
            if !progressed {
                return;
            }
        }
    }
}

/// Resumes the jobs a previous run left, then follows the feed for every rule, and carries
/// out applies, until the daemon stops. `wake` is nudged when a rule is defined or
/// changed or an apply is asked for.
pub(crate) async fn run(engine: Arc<Engine>, wake: Arc<Notify>, mut stop: watch::Receiver<bool>) {
    match engine.writer.store().rule_jobs() {
        Ok(jobs) => {
            for job in jobs {
                if let Ok(Some(state)) = engine.writer.store().rule(job.rule) {
                    tracing::info!(rule = %job.rule, seq = job.seq, "resuming an unfinished rule job");
                    engine.spawn_job(state.rule, job);
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "reading unfinished rule jobs failed"),
    }
    let mut seq = engine.writer.subscribe();
    loop {
        let e = Arc::clone(&engine);
        let Ok(more) = tokio::task::spawn_blocking(move || e.catch_up()).await else {
            tracing::error!("the rule engine panicked");
            return;
        };
        if more {
            if *stop.borrow() {
                return;
            }
            continue;
        }
        tokio::select! {
            changed = seq.changed() => if changed.is_err() { return },
            () = wake.notified() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Brings the rules of the config file into the store: each is defined, or redefined in
/// place by its name; a config rule no longer in the file is deleted. A rule the store
/// refuses (a name an API rule holds, a link into a smart collection) is logged and left
/// out.
pub(crate) fn sync_config(writer: &Writer, specs: &[RuleSpec]) {
    for spec in specs {
        if let Err(e) = writer.write(|s| s.define_rule(spec, true)) {
            tracing::error!(rule = %spec.name, error = %e, "a rule of the config file was refused");
        }
    }
    let stored = match writer.store().rules() {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "reading the rules failed");
            return;
        }
    };
    for state in stored {
        let rule = state.rule;
        if rule.from_config && !specs.iter().any(|s| s.name == rule.spec.name) {
            tracing::info!(rule = %rule.id, name = %rule.spec.name, "rule no longer in the config file: deleted");
            if let Err(e) = writer.write(|s| s.delete_rule(rule.id)) {
                tracing::warn!(rule = %rule.id, error = %e, "deleting a rule failed");
            }
        }
    }
}
