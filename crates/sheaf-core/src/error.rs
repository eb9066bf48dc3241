use std::fmt;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

/// Every error code of the API (SPEC §2.3). Each maps to exactly one HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// Malformed body, bad collection slug, bad field value.
    ValidationError,
    /// More references than `max_batch`, or a `select` matching more than `max_select`.
    BatchSizeExceeded,
    /// A malformed item, entry or op id.
    InvalidId,
    /// No or a wrong API key on the TCP listener.
    InvalidApiKey,
    /// A read-only caller attempted a write.
    InsufficientPermissions,
    /// No such collection.
    CollectionNotFound,
    /// The collection is in the trash.
    CollectionTrashed,
    /// Some referenced items do not exist.
    ItemsNotFound,
    /// The item has no entry in the collection.
    EntryNotFound,
    /// No such watch.
    WatchNotFound,
    /// No rule has this id.
    RuleNotFound,
    /// No such operation.
    OpNotFound,
    /// No such route.
    NotFound,
    /// The route exists but not with this method.
    MethodNotAllowed,
    /// The item already has a live entry in the collection.
    AlreadyInCollection,
    /// The `unique_id` is taken by another live entry of the collection.
    UniqueIdConflict,
    /// A collection with this id exists (possibly in the trash).
    CollectionExists,
    /// The collection is archived: its membership is read-only.
    CollectionArchived,
    /// The collection is smart: its query alone decides its members (SPEC §7.2).
    CollectionIsSmart,
    /// A rule with this name exists.
    RuleExists,
    /// Items named in a move are not live members of `from`.
    NotInSource,
    /// The entry belongs to a folder watch; only the watch (or `relocate`) changes it.
    EntryManagedByFolder,
    /// A `relocate` target collection does not have exactly one folder.
    NoTargetFolder,
    /// Later changes touched what the operation changed, or it was undone already.
    UndoConflict,
    /// The request body is larger than the limit.
    PayloadTooLarge,
    /// The request body is not JSON.
    UnsupportedMediaType,
    /// The collection's `accept` list refuses the item.
    ItemNotAllowed,
    /// The item's file is gone.
    ItemDeleted,
    /// Too many requests; retry after the time given.
    RateLimited,
    /// The database failed.
    StorageError,
    /// An unexpected failure.
    Internal,
    /// The daemon is shutting down.
    ShuttingDown,
    /// A compatibility route sheaf answers but cannot serve (SPEC §8.3: search, since sheaf
    /// computes no embeddings).
    NotImplemented,
}

impl ErrorCode {
    /// The HTTP status this code is answered with.
    #[must_use]
    pub const fn http_status(self) -> u16 {
        use ErrorCode as C;
        match self {
            C::ValidationError | C::BatchSizeExceeded | C::InvalidId => 400,
            C::InvalidApiKey => 401,
            C::InsufficientPermissions => 403,
            C::CollectionNotFound
            | C::CollectionTrashed
            | C::ItemsNotFound
            | C::EntryNotFound
            | C::WatchNotFound
            | C::RuleNotFound
            | C::OpNotFound
            | C::NotFound => 404,
            C::MethodNotAllowed => 405,
            C::AlreadyInCollection
            | C::UniqueIdConflict
            | C::CollectionExists
            | C::CollectionArchived
            | C::CollectionIsSmart
            | C::RuleExists
            | C::NotInSource
            | C::EntryManagedByFolder
            | C::NoTargetFolder
            | C::UndoConflict => 409,
            C::PayloadTooLarge => 413,
            C::UnsupportedMediaType => 415,
            C::ItemNotAllowed | C::ItemDeleted => 422,
            C::RateLimited => 429,
            C::StorageError | C::Internal => 500,
            C::NotImplemented => 501,
            C::ShuttingDown => 503,
        }
    }

    /// The code as it appears on the wire, e.g. `ITEMS_NOT_FOUND`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        use ErrorCode as C;
        match self {
            C::ValidationError => "VALIDATION_ERROR",
            C::BatchSizeExceeded => "BATCH_SIZE_EXCEEDED",
            C::InvalidId => "INVALID_ID",
            C::InvalidApiKey => "INVALID_API_KEY",
            C::InsufficientPermissions => "INSUFFICIENT_PERMISSIONS",
            C::CollectionNotFound => "COLLECTION_NOT_FOUND",
            C::CollectionTrashed => "COLLECTION_TRASHED",
            C::ItemsNotFound => "ITEMS_NOT_FOUND",
            C::EntryNotFound => "ENTRY_NOT_FOUND",
            C::WatchNotFound => "WATCH_NOT_FOUND",
            C::RuleNotFound => "RULE_NOT_FOUND",
            C::OpNotFound => "OP_NOT_FOUND",
            C::NotFound => "NOT_FOUND",
            C::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            C::AlreadyInCollection => "ALREADY_IN_COLLECTION",
            C::UniqueIdConflict => "UNIQUE_ID_CONFLICT",
            C::CollectionExists => "COLLECTION_EXISTS",
            C::CollectionArchived => "COLLECTION_ARCHIVED",
            C::CollectionIsSmart => "COLLECTION_IS_SMART",
            C::RuleExists => "RULE_EXISTS",
            C::NotInSource => "NOT_IN_SOURCE",
            C::EntryManagedByFolder => "ENTRY_MANAGED_BY_FOLDER",
            C::NoTargetFolder => "NO_TARGET_FOLDER",
            C::UndoConflict => "UNDO_CONFLICT",
            C::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            C::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            C::ItemNotAllowed => "ITEM_NOT_ALLOWED",
            C::ItemDeleted => "ITEM_DELETED",
            C::RateLimited => "RATE_LIMITED",
            C::StorageError => "STORAGE_ERROR",
            C::Internal => "INTERNAL",
            C::ShuttingDown => "SHUTTING_DOWN",
            C::NotImplemented => "NOT_IMPLEMENTED",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One step of a field's location in a request: an object key or an array index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Loc {
    /// An array index.
    Index(usize),
    /// An object key.
    Key(String),
}

/// A key as it is, an index as its number.
impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loc::Index(i) => write!(f, "{i}"),
            Loc::Key(k) => f.write_str(k),
        }
    }
}

impl From<&str> for Loc {
    fn from(key: &str) -> Self {
        Loc::Key(key.to_owned())
    }
}

impl From<String> for Loc {
    fn from(key: String) -> Self {
        Loc::Key(key)
    }
}

impl From<usize> for Loc {
    fn from(index: usize) -> Self {
        Loc::Index(index)
    }
}

/// What is wrong with one field of a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// Where the field is, e.g. `["body", "items", 3, "unique_id"]`.
    pub loc: Vec<Loc>,
    /// What is wrong, for people.
    pub msg: String,
    /// What is wrong, for programs (e.g. `metadata.key_length`).
    #[serde(rename = "type")]
    pub kind: String,
}

impl FieldError {
    /// A field error at `loc`.
    pub fn new(loc: Vec<Loc>, msg: impl Into<String>, kind: impl Into<String>) -> Self {
        Self {
            loc,
            msg: msg.into(),
            kind: kind.into(),
        }
    }
}

/// The `details` of an error envelope.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Details {
    /// No details.
    #[default]
    None,
    /// The offending ids or references under one key, e.g. `{"missing": ["doc_…"]}`.
    Ids {
        /// The key: `missing`, `not_in_source`, `conflicts`, …
        key: &'static str,
        /// The ids or references, in request order.
        ids: Vec<String>,
    },
    /// Field-level validation errors.
    Fields(Vec<FieldError>),
}

impl Details {
    /// Whether there is nothing to report.
    #[must_use]
    pub fn is_none(&self) -> bool {
        matches!(self, Details::None)
    }
}

impl Serialize for Details {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Details::None => s.serialize_none(),
            Details::Ids { key, ids } => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry(key, ids)?;
                map.end()
            }
            Details::Fields(fields) => fields.serialize(s),
        }
    }
}

/// A typed refusal of an operation: the error code, a sentence for people, and details.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Refusal {
    /// The SPEC's error code.
    pub code: ErrorCode,
    /// What went wrong, in one sentence.
    pub message: String,
    /// The offending ids or fields.
    pub details: Details,
}

/// A malformed id is `INVALID_ID`, naming the text given.
impl From<crate::IdError> for Refusal {
    fn from(e: crate::IdError) -> Self {
        let message = e.to_string();
        Refusal::with_ids(ErrorCode::InvalidId, message, "invalid", vec![e.given])
    }
}

impl Refusal {
    /// A refusal without details.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: Details::None,
        }
    }

    /// A refusal listing offending ids under `key`.
    pub fn with_ids(
        code: ErrorCode,
        message: impl Into<String>,
        key: &'static str,
        ids: Vec<String>,
    ) -> Self {
        Self {
            code,
            message: message.into(),
            details: Details::Ids { key, ids },
        }
    }

    /// A `VALIDATION_ERROR` with field details.
    #[must_use]
    pub fn validation(fields: Vec<FieldError>) -> Self {
        let message = match fields.as_slice() {
            [one] => one.msg.clone(),
            many => format!("{} fields are invalid", many.len()),
        };
        Self {
            code: ErrorCode::ValidationError,
            message,
            details: Details::Fields(fields),
        }
    }

    /// A `VALIDATION_ERROR` for one field.
    pub fn field(loc: Vec<Loc>, msg: impl Into<String>, kind: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(loc, msg, kind)])
    }

    /// The ids in the details, if any.
    #[must_use]
    pub fn ids(&self) -> &[String] {
        match &self.details {
            Details::Ids { ids, .. } => ids,
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_in_screaming_snake_case_matching_as_str() {
        for code in [
            ErrorCode::ItemsNotFound,
            ErrorCode::UndoConflict,
            ErrorCode::InvalidId,
        ] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }

    #[test]
    fn details_render_as_the_envelope_expects() {
        let ids = Details::Ids {
            key: "missing",
            ids: vec!["doc_x".into()],
        };
        assert_eq!(
            serde_json::to_string(&ids).unwrap(),
            r#"{"missing":["doc_x"]}"#
        );
        let fields = Details::Fields(vec![FieldError::new(
            vec!["body".into(), "items".into(), 3.into()],
            "bad",
            "value_error",
        )]);
        assert_eq!(
            serde_json::to_string(&fields).unwrap(),
            r#"[{"loc":["body","items",3],"msg":"bad","type":"value_error"}]"#
        );
    }
}
