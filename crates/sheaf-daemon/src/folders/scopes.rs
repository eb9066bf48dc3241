//! Which watches own a path: every watch whose root covers it and whose filters admit it.

use std::path::Path;
use std::sync::Arc;

use sheaf_core::Watch;
use sheaf_core::rules::Owner;
use sheaf_watch::{Filter, WalkError, WalkOptions};

/// The walk options of a watch (stat only: see `docs/decisions.md` on content types).
pub(crate) fn walk_options(watch: &Watch) -> WalkOptions {
    WalkOptions {
        include: watch.include.clone(),
        exclude: watch.exclude.clone(),
        recursive: watch.recursive,
        ..WalkOptions::default()
    }
}

/// One watch with its compiled filter.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    pub(crate) watch: Watch,
    pub(crate) filter: Arc<Filter>,
    /// This watch alone, as the owners of a file only it covers.
    owners: Arc<[Owner]>,
}

/// The owners of a file no watch covers.
static NOBODY: std::sync::LazyLock<Arc<[Owner]>> = std::sync::LazyLock::new(|| Arc::new([]));

impl Scope {
    pub(crate) fn new(watch: Watch) -> Result<Self, WalkError> {
        let filter = Filter::new(Path::new(&watch.path), &walk_options(&watch))?;
        let owners = Arc::new([owner_of(&watch)]);
        Ok(Self {
            watch,
            filter: Arc::new(filter),
            owners,
        })
    }

    pub(crate) fn owner(&self) -> Owner {
        owner_of(&self.watch)
    }
}

fn owner_of(watch: &Watch) -> Owner {
    Owner {
        watch: watch.id,
        collection: watch.collection_id.clone(),
        root: watch.path.clone(),
    }
}

/// Every running watch's scope; replaced as a whole when a watch comes or goes.
#[derive(Debug, Default, Clone)]
pub(crate) struct Scopes(pub(crate) Vec<Scope>);

impl Scopes {
    /// The watches a regular file at `path` belongs to. The common answers — none, or one
    /// watch — are shared, not allocated per file.
    pub(crate) fn owners(&self, path: &Path) -> Arc<[Owner]> {
        let mut admitting = self.0.iter().filter(|s| s.filter.admits(path));
        match (admitting.next(), admitting.next()) {
            (None, _) => Arc::clone(&NOBODY),
            (Some(one), None) => Arc::clone(&one.owners),
            (Some(first), Some(second)) => [first, second]
                .into_iter()
                .chain(admitting)
                .map(Scope::owner)
                .collect(),
        }
    }

    /// Forget cached ignore files of `folder` in every watch covering it.
    pub(crate) fn forget(&self, folder: &Path) {
        for s in &self.0 {
            if folder.starts_with(s.filter.root()) {
                s.filter.forget(folder);
            }
        }
    }
}
