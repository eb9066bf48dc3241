//! The error shapes of the two FastAPI platforms, Datalab and LlamaCloud: a bad request is
//! 422 `{"detail": [{"loc", "msg", "type"}]}` as pydantic reports it, every other refusal
//! `{"detail": "…"}` with SPEC §2.3's status.

use serde::{Deserialize, Serialize};
use sheaf_core::{Details, ErrorCode, FieldError, Loc, Refusal};
use utoipa::ToSchema;

/// The status a FastAPI platform answers `code` with: a malformed request is 422, as
/// FastAPI answers any request its models refuse; everything else keeps SPEC §2.3's.
#[must_use]
pub const fn status(code: ErrorCode) -> u16 {
    match code {
        ErrorCode::ValidationError | ErrorCode::BatchSizeExceeded | ErrorCode::InvalidId => 422,
        other => other.http_status(),
    }
}

/// The schema of a FastAPI error body with `status`.
#[must_use]
pub const fn schema(status: u16) -> &'static str {
    if status == 422 {
        "HTTPValidationError"
    } else {
        "HTTPError"
    }
}

/// One step of a location: a key or an index.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum LocStep {
    /// An object key, or `body`, `path`, `query`.
    Key(String),
    /// An array index.
    Index(usize),
}

/// One problem with a request, as pydantic reports it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = FastApiValidationError)]
pub struct ValidationError {
    /// Where: `["body", "uploaded_file_ids", 2]`, `["path", "collection_id"]`.
    pub loc: Vec<LocStep>,
    /// What is wrong, for people.
    pub msg: String,
    /// What is wrong, for programs (`missing`, `int_parsing`, `too_long`, …).
    #[serde(rename = "type")]
    pub kind: String,
}

/// 422: the request does not fit the route's model.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = HTTPValidationError)]
pub struct HttpValidationError {
    /// Every problem found.
    pub detail: Vec<ValidationError>,
}

/// Every other refusal: one sentence.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = HTTPError)]
pub struct HttpError {
    /// What went wrong.
    pub detail: String,
}

impl From<&FieldError> for ValidationError {
    /// serde's "missing field `x`" becomes pydantic's `Field required` at `[…, "x"]`.
    fn from(e: &FieldError) -> Self {
        let mut loc: Vec<LocStep> = e
            .loc
            .iter()
            .map(|l| match l {
                Loc::Index(i) => LocStep::Index(*i),
                Loc::Key(k) => LocStep::Key(k.clone()),
            })
            .collect();
        let missing = e
            .msg
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        match missing {
            Some(field) => {
                loc.push(LocStep::Key(field.to_owned()));
                Self {
                    loc,
                    msg: "Field required".to_owned(),
                    kind: "missing".to_owned(),
                }
            }
            None => Self {
                loc,
                msg: e.msg.clone(),
                kind: e.kind.clone(),
            },
        }
    }
}

/// A problem at `loc`.
#[must_use]
pub fn problem(loc: Vec<LocStep>, msg: impl Into<String>, kind: &str) -> ValidationError {
    ValidationError {
        loc,
        msg: msg.into(),
        kind: kind.to_owned(),
    }
}

/// pydantic's complaints as a `VALIDATION_ERROR`, each at its location.
#[must_use]
pub fn refusal(problems: Vec<ValidationError>) -> Refusal {
    Refusal::validation(
        problems
            .into_iter()
            .map(|p| {
                let loc = p
                    .loc
                    .into_iter()
                    .map(|l| match l {
                        LocStep::Key(k) => Loc::Key(k),
                        LocStep::Index(i) => Loc::Index(i),
                    })
                    .collect();
                FieldError::new(loc, p.msg, p.kind)
            })
            .collect(),
    )
}

/// The body a FastAPI platform answers `refusal` with, and its status.
#[must_use]
pub fn body(refusal: &Refusal) -> (u16, serde_json::Value) {
    let status = status(refusal.code);
    let value = if status == 422 {
        let detail = match &refusal.details {
            Details::Fields(fields) => fields.iter().map(ValidationError::from).collect(),
            _ => vec![problem(
                vec![LocStep::Key("body".to_owned())],
                refusal.message.clone(),
                "value_error",
            )],
        };
        serde_json::to_value(HttpValidationError { detail })
    } else {
        serde_json::to_value(HttpError {
            detail: refusal.message.clone(),
        })
    };
    (status, value.unwrap_or(serde_json::Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_field_is_reported_as_pydantic_does() {
        let refusal = Refusal::field(
            vec![Loc::from("body")],
            "missing field `file_id` at line 1 column 2",
            "value_error",
        );
        let (status, body) = body(&refusal);
        assert_eq!(status, 422);
        assert_eq!(
            body,
            serde_json::json!({"detail": [
                {"loc": ["body", "file_id"], "msg": "Field required", "type": "missing"}
            ]})
        );
    }

    #[test]
    fn other_refusals_are_a_sentence_with_the_sheaf_status() {
        let refusal = Refusal::new(ErrorCode::CollectionNotFound, "collection x does not exist");
        assert_eq!(
            body(&refusal),
            (
                404,
                serde_json::json!({"detail": "collection x does not exist"})
            )
        );
    }
}
