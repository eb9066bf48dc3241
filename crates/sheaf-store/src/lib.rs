//! sheaf's persistence on redb: the tables and indexes of `schema`, the change feed and
//! the op log, and the one way to change anything — plan with `sheaf-core` inside a write
//! transaction, apply every change, commit, and return the committed sequence numbers.
//! Every write is one method of [`Store`]; work outside the database that must happen in
//! the same transaction (moving files) is an [`Effects`] hook of that write. A refused plan
//! aborts; a failed commit leaves the previous state. Reads run in their own transactions,
//! concurrently with a writer.
//!
//! This crate knows nothing of async runtimes, HTTP, sockets or terminals; it opens one
//! database file (or any redb `StorageBackend`, which is how tests inject faults).

mod apply;
mod effects;
mod error;
mod folder;
mod migrate;
mod order;
mod query;
mod rule;
mod schema;
mod smart;
mod txn;
mod view;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

use redb::{Database, Durability, ReadableDatabase, StorageBackend};
use sheaf_core::rules::{
    self, BatchAdd, CollectionUpdate, EntryUpdate, FolderChange, ItemUpdate, NewCollection,
    NewEntry, NewWatch, Remove, Reorder,
};
use sheaf_core::{
    CollectionId, Ctx, FileFacts, ItemTarget, Limits, OpId, Outcome, Plan, PlanError, StateView,
    Timestamp, WatchId,
};

pub use effects::Effects;
pub use error::{OpenError, ReadError, StoreError, WriteError};
pub use folder::{KnownFile, Unhashed};
pub use order::{Direction, Order};
pub use query::{
    CollectionQuery, DuplicateGroup, EntryQuery, FeedPage, ItemQuery, Listed, Page, StoredEvent,
};
pub use rule::{ApplyStep, Applying, Fired, Firing, Matched, RULE_RUNS_KEPT, RuleState, RuleTest};
pub use schema::SCHEMA_VERSION;
pub use smart::Filled;

use crate::apply::Retention;
use crate::schema::{
    FEED, META, META_CREATED, META_FIRST_SEQ, META_NEXT_COLLECTION_NUMBER, META_NEXT_HANDLE,
    META_NEXT_ITEM_NUMBER, META_NEXT_SEQ, META_SCHEMA, ReadTabs, WriteTabs,
};
use crate::smart::Matchers;
use crate::txn::{Settings, Txn};
use crate::view::meta;

/// The source of commit times. Tests pin it; the daemon uses the system clock.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Commit times from `SystemTime::now`, to the microsecond (0 before the Unix epoch).
#[must_use]
pub fn system_clock() -> Clock {
    Arc::new(|| {
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        Timestamp::from_micros(i64::try_from(micros).unwrap_or(i64::MAX))
    })
}

/// How the store behaves.
#[derive(Clone)]
pub struct Options {
    /// redb's page cache, in bytes. sheafd is a background service: 64 MiB by default.
    pub cache_bytes: usize,
    /// Commit with fsync (`true`, the default) or let the OS flush (tests, benchmarks of
    /// the non-durable path).
    pub durable: bool,
    /// Request bounds handed to the rules.
    pub limits: Limits,
    /// Change-feed events kept; older ones are dropped whole commits at a time, and a
    /// reader asking for them is told to re-read (`reset`).
    pub feed_retention: u64,
    /// Logged ops kept for undo.
    pub op_retention: u64,
    /// Commit times.
    pub clock: Clock,
    /// The home folder a leading `~` of a query's `path` globs stands for (the daemon
    /// user's); `None`: such globs match nothing.
    pub home: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            cache_bytes: 64 << 20,
            durable: true,
            limits: Limits::default(),
            feed_retention: 1_000_000,
            op_retention: 10_000,
            clock: system_clock(),
            home: None,
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("cache_bytes", &self.cache_bytes)
            .field("durable", &self.durable)
            .field("limits", &self.limits)
            .field("feed_retention", &self.feed_retention)
            .field("op_retention", &self.op_retention)
            .field("home", &self.home)
            .finish_non_exhaustive()
    }
}

/// What [`Store::transact`] answers: the body's value, the seqs the write appended, its
/// commit time.
pub(crate) type Transacted<T> = (T, Option<(u64, u64)>, Timestamp);

/// What a committed write did.
#[derive(Clone, Debug, PartialEq)]
pub struct Written {
    /// The plan's answer.
    pub outcome: Outcome,
    /// Commit time.
    pub at: Timestamp,
    /// The seqs of the events it appended, first and last; `None` when nothing visible
    /// changed.
    pub seqs: Option<(u64, u64)>,
}

/// Refuses a database written by a newer sheaf; reads only.
fn check_schema(db: &impl ReadableDatabase) -> Result<(), OpenError> {
    let txn = db
        .begin_read()
        .map_err(StoreError::redb("reading the schema version"))?;
    match txn.open_table(META) {
        Ok(t) => {
            let found = redb::ReadableTable::get(&t, META_SCHEMA)
                .map_err(StoreError::storage)?
                .map_or(0, |v| v.value());
            if found > SCHEMA_VERSION {
                return Err(OpenError::UnknownSchema {
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
            Ok(())
        }
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(()),
        Err(e) => Err(StoreError::table(e).into()),
    }
}

/// Opens (or creates) the database file at `path`, refusing it unchanged if a newer sheaf
/// wrote it.
fn open_file(path: &Path, cache_bytes: usize) -> Result<Database, OpenError> {
    let in_use = |e: redb::DatabaseError| match e {
        redb::DatabaseError::DatabaseAlreadyOpen => OpenError::AlreadyOpen {
            path: path.to_path_buf(),
        },
        other => StoreError::redb("opening the database")(other).into(),
    };
    // An existing file is checked read-only first: even opening a redb file read-write
    // rewrites its header, and a database from a newer sheaf must stay untouched. (A file
    // that needs repair cannot be opened read-only; the read-write open repairs it, and the
    // version is checked again on the repaired file.)
    if path.exists() {
        match redb::Builder::new().open_read_only(path) {
            Ok(ro) => check_schema(&ro)?,
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                return Err(in_use(redb::DatabaseError::DatabaseAlreadyOpen));
            }
            Err(e) => {
                tracing::info!(error = %e, "read-only open failed; opening read-write to repair");
            }
        }
    }
    let db = redb::Builder::new()
        .set_cache_size(cache_bytes)
        .create(path)
        .map_err(in_use)?;
    check_schema(&db)?;
    Ok(db)
}

/// The store: one redb database (a file, or any redb backend) holding the items, collections,
/// entries and watches, the change feed and the op log.
///
/// After an I/O failure (a full disk, a failing device) redb refuses every later operation
/// until the database is closed and opened again. A file-backed store does that by itself:
/// the next operation after the failure reopens the file as soon as no other request holds
/// the old handle, so service resumes when the disk does, without a daemon restart.
pub struct Store {
    db: RwLock<Option<Arc<Database>>>,
    path: Option<PathBuf>,
    failed: AtomicBool,
    options: Options,
    matchers: Matchers,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) the database file at `path`, migrating an older schema in place.
    pub fn open(path: &Path, options: Options) -> Result<Self, OpenError> {
        let db = open_file(path, options.cache_bytes)?;
        let mut store = Self::init(db, options)?;
        store.path = Some(path.to_path_buf());
        Ok(store)
    }

    /// Opens (or creates) a database on any redb backend.
    pub fn open_backend(backend: impl StorageBackend, options: Options) -> Result<Self, OpenError> {
        let db = redb::Builder::new()
            .set_cache_size(options.cache_bytes)
            .create_with_backend(backend)
            .map_err(StoreError::redb("opening the database"))?;
        check_schema(&db)?;
        Ok(Self::init(db, options)?)
    }

    /// Creates the tables a new database lacks, or migrates an older schema, in one write
    /// transaction.
    fn init(db: Database, options: Options) -> Result<Self, StoreError> {
        let txn = db.begin_write().map_err(StoreError::redb("initialising"))?;
        {
            let mut tabs = WriteTabs::open(&txn)?;
            let mut feed = txn.open_table(FEED).map_err(StoreError::table)?;
            if meta(&tabs, META_CREATED)? == 0 {
                let now = (options.clock)().as_micros().max(0) as u64;
                tabs.meta
                    .insert(META_CREATED, now)
                    .map_err(StoreError::storage)?;
            }
            let found = meta(&tabs, META_SCHEMA)?;
            if found != 0 && found < SCHEMA_VERSION {
                migrate::run(&mut tabs, &mut feed, found)?;
                tabs.meta
                    .insert(META_SCHEMA, SCHEMA_VERSION)
                    .map_err(StoreError::storage)?;
                tracing::info!(from = found, to = SCHEMA_VERSION, "database migrated");
            }
            if found == 0 {
                for (key, value) in [
                    (META_SCHEMA, SCHEMA_VERSION),
                    (META_NEXT_SEQ, 1),
                    (META_FIRST_SEQ, 1),
                    (META_NEXT_HANDLE, 1),
                    (META_NEXT_COLLECTION_NUMBER, 1),
                    (META_NEXT_ITEM_NUMBER, 1),
                ] {
                    tabs.meta.insert(key, value).map_err(StoreError::storage)?;
                }
            }
        }
        txn.commit().map_err(StoreError::redb("initialising"))?;
        Ok(Self {
            db: RwLock::new(Some(Arc::new(db))),
            path: None,
            failed: AtomicBool::new(false),
            matchers: Matchers::new(options.home.clone()),
            options,
        })
    }

    /// The database handle, reopening the file first if an I/O failure latched it.
    fn database(&self) -> Result<Arc<Database>, StoreError> {
        if self.failed.load(Ordering::Acquire) {
            self.recover()?;
        }
        self.db
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .ok_or(StoreError::Recovering)
    }

    /// Remembers an I/O failure so that the next operation reopens the database.
    fn remember(&self, e: &StoreError) {
        if e.needs_reopen() && !self.failed.swap(true, Ordering::AcqRel) {
            tracing::warn!(error = %e, "database I/O failed; it will be reopened before the next operation");
        }
    }

    fn recover(&self) -> Result<(), StoreError> {
        let Some(path) = &self.path else {
            // A store on a caller's backend cannot be reopened; it stays failed.
            return Err(StoreError::Recovering);
        };
        let mut slot = self
            .db
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !self.failed.load(Ordering::Acquire) {
            return Ok(()); // another request recovered it meanwhile
        }
        if slot.as_ref().is_some_and(|db| Arc::strong_count(db) > 1) {
            return Err(StoreError::Recovering);
        }
        // Close the failed handle (releasing the file lock), then open the file afresh.
        drop(slot.take());
        let db = open_file(path, self.options.cache_bytes)
            .map_err(|e| StoreError::Reopen(Box::new(e)))?;
        *slot = Some(Arc::new(db));
        self.failed.store(false, Ordering::Release);
        tracing::info!(database = %path.display(), "database reopened after an I/O failure");
        Ok(())
    }

    /// The options in force.
    #[must_use]
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Plans with `plan` against the current state inside one write transaction, carries
    /// out the plan's `effects`, applies the plan and commits. A refusal or a failure leaves
    /// the store as it was, and the effects rolled back. Every write method is this.
    fn write<F>(&self, plan: F, effects: &mut dyn Effects) -> Result<Written, WriteError>
    where
        F: FnOnce(
            &dyn StateView<Error = StoreError>,
            &mut Ctx<'_>,
        ) -> Result<Plan, PlanError<StoreError>>,
    {
        let mut applied = false;
        let result = self.write_once(plan, effects, &mut applied);
        if applied {
            if result.is_ok() {
                effects.commit();
            } else {
                effects.rollback();
            }
        }
        if let Err(WriteError::Store(e)) = &result {
            self.remember(e);
        }
        result
    }

    /// [`Store::write`] without the bookkeeping: `applied` says whether `effects` were
    /// carried out (and so must be finished or rolled back).
    fn write_once<F>(
        &self,
        plan: F,
        effects: &mut dyn Effects,
        applied: &mut bool,
    ) -> Result<Written, WriteError>
    where
        F: FnOnce(
            &dyn StateView<Error = StoreError>,
            &mut Ctx<'_>,
        ) -> Result<Plan, PlanError<StoreError>>,
    {
        let txn = self.begin_write()?;
        let (plan, now, seqs) = {
            let mut t = Txn::open(&txn, self.settings())?;
            let plan = t.plan(plan)?;
            effects.apply(&plan)?;
            *applied = true;
            t.apply(&plan)?;
            (plan, t.now, t.seqs())
        };
        txn.commit().map_err(StoreError::redb("committing"))?;
        Ok(Written {
            outcome: plan.outcome,
            at: now,
            seqs,
        })
    }

    /// What a write transaction needs of the store's settings.
    fn settings(&self) -> Settings<'_> {
        Settings {
            clock: &*self.options.clock,
            limits: self.options.limits,
            retention: self.retention(),
            matchers: &self.matchers,
            home: self.options.home.as_deref(),
        }
    }

    fn retention(&self) -> Retention {
        Retention {
            feed_events: self.options.feed_retention,
            ops: self.options.op_retention,
        }
    }

    /// One step of the background fill of smart collections (SPEC §7.2): the first
    /// collection still filling is matched against up to `chunk` more items, in one
    /// transaction. `None` when every smart collection is filled.
    pub fn fill_smart(&self, chunk: usize) -> Result<Option<Filled>, WriteError> {
        let (filled, seqs, _) = self.transact(|t| t.fill_step(chunk.max(1)))?;
        Ok(filled.map(|f| Filled { seqs, ..f }))
    }

    /// Runs `body` in one write transaction and commits it: the store's own multi-step
    /// writes (a fill step, a rule's actions), which plan and apply through [`Txn`].
    /// Answers what `body` did, the seqs the write appended and its commit time.
    pub(crate) fn transact<T>(
        &self,
        body: impl FnOnce(&mut Txn<'_, '_>) -> Result<T, WriteError>,
    ) -> Result<Transacted<T>, WriteError> {
        let result = (|| {
            let txn = self.begin_write()?;
            let done = {
                let mut t = Txn::open(&txn, self.settings())?;
                let value = body(&mut t)?;
                (value, t.seqs(), t.now)
            };
            txn.commit().map_err(StoreError::redb("committing"))?;
            Ok(done)
        })();
        if let Err(WriteError::Store(e)) = &result {
            self.remember(e);
        }
        result
    }

    /// `POST /v1/collections/{cid}/items`.
    pub fn batch_add(&self, req: &BatchAdd) -> Result<Written, WriteError> {
        self.batch_add_with(req, &mut ())
    }

    /// [`Store::batch_add`] with `effects` carried out in its transaction (the files of a
    /// `relocate`).
    pub fn batch_add_with(
        &self,
        req: &BatchAdd,
        effects: &mut dyn Effects,
    ) -> Result<Written, WriteError> {
        self.write(|v, ctx| rules::plan_batch_add(v, ctx, req), effects)
    }

    /// `POST /v1/collections/{cid}/items/{item_id}`.
    pub fn add_one(&self, req: &NewEntry) -> Result<Written, WriteError> {
        self.write(|v, ctx| rules::plan_add_one(v, ctx, req), &mut ())
    }

    /// `POST /v1/collections/{cid}/items/remove` (and `DELETE` of one entry).
    pub fn remove(&self, req: &Remove) -> Result<Written, WriteError> {
        self.write(|v, ctx| rules::plan_remove(v, ctx, req), &mut ())
    }

    /// `POST /v1/collections/{cid}/items/reorder`.
    pub fn reorder(&self, req: &Reorder) -> Result<Written, WriteError> {
        self.write(|v, ctx| rules::plan_reorder(v, ctx, req), &mut ())
    }

    /// `PATCH /v1/collections/{cid}/items/{item_id}`.
    pub fn update_entry(
        &self,
        collection: &CollectionId,
        item: &ItemTarget,
        req: &EntryUpdate,
    ) -> Result<Written, WriteError> {
        self.write(
            |v, ctx| rules::plan_update_entry(v, ctx, collection, item, req),
            &mut (),
        )
    }

    /// `POST /v1/collections`.
    pub fn create_collection(&self, req: &NewCollection) -> Result<Written, WriteError> {
        self.write(|v, ctx| rules::plan_create_collection(v, ctx, req), &mut ())
    }

    /// `PATCH /v1/collections/{cid}`.
    pub fn update_collection(
        &self,
        id: &CollectionId,
        req: &CollectionUpdate,
    ) -> Result<Written, WriteError> {
        self.write(
            |v, ctx| rules::plan_update_collection(v, ctx, id, req),
            &mut (),
        )
    }

    /// `DELETE /v1/collections/{cid}`.
    pub fn trash_collection(&self, id: &CollectionId) -> Result<Written, WriteError> {
        self.write(|v, ctx| rules::plan_trash_collection(v, ctx, id), &mut ())
    }

    /// `POST /v1/collections/{cid}/restore`.
    pub fn restore_collection(&self, id: &CollectionId) -> Result<Written, WriteError> {
        self.write(|v, ctx| rules::plan_restore_collection(v, ctx, id), &mut ())
    }

    /// `DELETE /v1/collections/{cid}?purge=true`.
    pub fn purge_collection(&self, id: &CollectionId) -> Result<Written, WriteError> {
        self.write(|v, ctx| rules::plan_purge_collection(v, ctx, id), &mut ())
    }

    /// `POST /v1/items`, with the facts the caller read from the files.
    pub fn register(&self, files: &[FileFacts]) -> Result<Written, WriteError> {
        self.write(|v, ctx| rules::plan_register(v, ctx, files), &mut ())
    }

    /// `PATCH /v1/items/{item_id}`.
    pub fn update_item(&self, item: &ItemTarget, req: &ItemUpdate) -> Result<Written, WriteError> {
        self.write(|v, ctx| rules::plan_update_item(v, ctx, item, req), &mut ())
    }

    /// `POST /v1/ops/{op_id}/undo`.
    pub fn undo(&self, op: OpId) -> Result<Written, WriteError> {
        self.undo_with(op, &mut ())
    }

    /// [`Store::undo`] with `effects` carried out in its transaction (the files of an
    /// undone `relocate` moving back).
    pub fn undo_with(&self, op: OpId, effects: &mut dyn Effects) -> Result<Written, WriteError> {
        self.write(|v, ctx| rules::plan_undo(v, ctx, op), effects)
    }

    /// `POST /v1/watches`, and every watch of the config file at start.
    pub fn create_watch(&self, req: &NewWatch) -> Result<Written, WriteError> {
        self.write(|v, ctx| rules::plan_create_watch(v, ctx, req), &mut ())
    }

    /// `DELETE /v1/watches/{wid}`.
    pub fn remove_watch(&self, id: WatchId, keep_entries: bool) -> Result<Written, WriteError> {
        self.write(
            |v, ctx| rules::plan_remove_watch(v, ctx, id, keep_entries),
            &mut (),
        )
    }

    /// Applies one group of folder changes (SPEC §3) in one transaction.
    pub fn sync(&self, changes: &[FolderChange]) -> Result<Written, WriteError> {
        self.sync_groups(&[changes])
    }

    /// Applies several groups of folder changes, one after the other, in one transaction
    /// (see [`rules::plan_folder_sync_groups`]).
    pub fn sync_groups(&self, groups: &[&[FolderChange]]) -> Result<Written, WriteError> {
        self.write(
            |v, ctx| rules::plan_folder_sync_groups(v, ctx, groups),
            &mut (),
        )
    }

    /// A write transaction with the store's durability.
    fn begin_write(&self) -> Result<redb::WriteTransaction, StoreError> {
        let mut txn = self
            .database()?
            .begin_write()
            .map_err(StoreError::redb("starting a write"))?;
        let durability = if self.options.durable {
            Durability::Immediate
        } else {
            Durability::None
        };
        txn.set_durability(durability)
            .map_err(StoreError::redb("starting a write"))?;
        Ok(txn)
    }

    /// Builds a collection's name, added and size orders (once; see `order`).
    fn keep_orders(&self, handle: u64) -> Result<(), StoreError> {
        let result = (|| {
            let txn = self.begin_write()?;
            {
                let mut tabs = WriteTabs::open(&txn)?;
                if redb::ReadableTable::get(&tabs.handles, handle)
                    .map_err(StoreError::storage)?
                    .is_some()
                {
                    order::build(&mut tabs, handle)?;
                }
            }
            txn.commit().map_err(StoreError::redb("committing"))
        })();
        if let Err(e) = &result {
            self.remember(e);
        }
        result
    }

    fn read(&self) -> Result<ReadTabs, StoreError> {
        let txn = self.database()?.begin_read().map_err(|e| {
            let e = StoreError::redb("starting a read")(e);
            self.remember(&e);
            e
        })?;
        Ok(ReadTabs::new(txn))
    }
}
