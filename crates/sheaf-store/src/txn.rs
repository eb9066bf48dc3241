//! One write transaction as every write method sees it: the open tables, the commit time,
//! fresh ids, and [`Txn::apply`], which applies a plan and then keeps the smart collections
//! (SPEC §7.2) for what it changed. A write may apply several plans (a rule's links and
//! its metadata, say); each is planned against the state the ones before it left, and the
//! seqs of all of them are the write's.

use redb::{Table, WriteTransaction};
use sheaf_core::rule::Cause;
use sheaf_core::{Ctx, IdSource, Limits, Plan, PlanError, StateView, Timestamp};

use crate::apply::{self, Retention};
use crate::error::{StoreError, WriteError};
use crate::schema::{FEED, META_LAST_NOW, WriteTabs};
use crate::smart::Matchers;
use crate::view::{StoreView, meta};

/// Fresh ULIDs within one transaction, increasing from one commit to the next: the
/// commit's millisecond is the ULID's time, the microsecond within it leads the random
/// part (commit times are strictly increasing microseconds), and ids of one commit count
/// up from a random start below that.
pub(crate) struct TxnIds(u128);

impl TxnIds {
    fn new(now: Timestamp) -> Self {
        let micros = u64::try_from(now.as_micros()).unwrap_or(0);
        let (ms, within) = (micros / 1000, u128::from(micros % 1000));
        // 80 random bits: 10 for the microsecond, 69 random, 1 bit of room to count up.
        let random = (within << 70) | (ulid::Ulid::generate().random() >> 11);
        Self(ulid::Ulid::from_parts(ms, random).0)
    }
}

impl IdSource for TxnIds {
    fn next_ulid(&mut self) -> ulid::Ulid {
        self.0 += 1;
        ulid::Ulid(self.0)
    }
}

/// What a write needs of the store's settings.
#[derive(Clone, Copy)]
pub(crate) struct Settings<'a> {
    pub(crate) clock: &'a (dyn Fn() -> Timestamp + Send + Sync),
    pub(crate) limits: Limits,
    pub(crate) retention: Retention,
    pub(crate) matchers: &'a Matchers,
    pub(crate) home: Option<&'a str>,
}

/// An open write transaction's tables and what planning in it needs.
pub(crate) struct Txn<'a, 't> {
    pub(crate) tabs: WriteTabs<'t>,
    pub(crate) feed: Table<'t, u64, &'static [u8]>,
    /// The commit time: every timestamp the write records.
    pub(crate) now: Timestamp,
    ids: TxnIds,
    limits: Limits,
    pub(crate) retention: Retention,
    pub(crate) matchers: &'a Matchers,
    home: Option<&'a str>,
    /// Set while applying a rule's actions: their events carry it.
    pub(crate) cause: Option<Cause>,
    seqs: Option<(u64, u64)>,
}

impl<'a, 't> Txn<'a, 't> {
    pub(crate) fn open(txn: &'t WriteTransaction, s: Settings<'a>) -> Result<Self, StoreError> {
        let tabs = WriteTabs::open(txn)?;
        let feed = txn.open_table(FEED).map_err(StoreError::table)?;
        let last = Timestamp::from_micros(meta(&tabs, META_LAST_NOW)? as i64);
        let now = (s.clock)().max(last.next());
        Ok(Self {
            tabs,
            feed,
            now,
            ids: TxnIds::new(now),
            limits: s.limits,
            retention: s.retention,
            matchers: s.matchers,
            home: s.home,
            cause: None,
            seqs: None,
        })
    }

    /// Runs a planner against the current state of this transaction.
    pub(crate) fn plan<T>(
        &mut self,
        f: impl FnOnce(
            &dyn StateView<Error = StoreError>,
            &mut Ctx<'_>,
        ) -> Result<T, PlanError<StoreError>>,
    ) -> Result<T, WriteError> {
        let view = StoreView::new(&self.tabs);
        let mut ctx = Ctx {
            now: self.now,
            ids: &mut self.ids,
            limits: self.limits,
            home: self.home,
        };
        Ok(f(&view, &mut ctx)?)
    }

    /// Applies `plan` (its events carry [`Txn::cause`]), then keeps the smart collections
    /// for the items it changed.
    pub(crate) fn apply(&mut self, plan: &Plan) -> Result<(), WriteError> {
        self.apply_kept(plan)?;
        self.keep(&plan.changes)
    }

    /// Applies a plan of the smart collections' own upkeep (no further upkeep: the caller
    /// runs it in dependency order).
    pub(crate) fn apply_kept(&mut self, plan: &Plan) -> Result<(), WriteError> {
        let seqs = apply::apply(
            &mut self.tabs,
            &mut self.feed,
            plan,
            self.now,
            self.retention,
            self.cause,
        )?;
        self.add_seqs(seqs);
        Ok(())
    }

    /// Appends events that no record change made (a rule's `rule.ran`, say).
    pub(crate) fn emit(&mut self, events: Vec<sheaf_core::Event>) -> Result<(), WriteError> {
        let seqs = apply::append_events(
            &mut self.tabs,
            &mut self.feed,
            events,
            None,
            self.now,
            self.retention,
            self.cause,
        )?;
        self.add_seqs(seqs);
        Ok(())
    }

    fn add_seqs(&mut self, seqs: Option<(u64, u64)>) {
        self.seqs = match (self.seqs, seqs) {
            (Some((first, _)), Some((_, last))) => Some((first, last)),
            (a, b) => a.or(b),
        };
    }

    /// The first and last seq of every event this write appended.
    pub(crate) fn seqs(&self) -> Option<(u64, u64)> {
        self.seqs
    }
}
