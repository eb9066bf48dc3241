//! Datalab's collections (SPEC §8.1, `000_*.txt`): collections and files by their integer
//! `number`s, the `CollectionResponse`, and the request checked as pydantic checks it (every
//! problem reported, each at its location).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::fastapi::{LocStep, ValidationError, problem};

/// Most files one request may link.
pub const MAX_FILES: usize = 100;

/// Most files a `CollectionResponse` lists (`file_count` is the true count).
pub const MAX_LISTED: usize = 1000;

/// `POST /api/v1/collections/{collection_id}/files`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = AddFilesToCollectionRequest)]
pub struct AddFilesBody {
    /// The files' `number`s, 1 to 100.
    #[schema(min_items = 1, max_items = 100)]
    pub uploaded_file_ids: Vec<u64>,
}

/// A file of a collection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = CollectionFileResponse)]
pub struct CollectionFile {
    /// The item's `number`.
    pub uploaded_file_id: u64,
    /// The file's name.
    pub original_filename: String,
    /// Bytes.
    pub file_size: u64,
    /// MIME type.
    pub content_type: String,
    /// The entry's position.
    pub sort_order: i64,
    /// Always `null`: sheaf scores nothing.
    #[schema(value_type = Option<f64>)]
    pub last_eval_score: Option<f64>,
    /// Always `null`.
    #[schema(value_type = Option<Vec<i64>>)]
    pub last_score_breakdown: Option<Vec<i64>>,
}

/// A collection, with its first files (`files` is left out of listings).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = CollectionResponse)]
pub struct CollectionResponse {
    /// The collection's `number`.
    pub id: u64,
    /// Display name.
    pub name: String,
    /// Description, `null` when empty.
    pub description: Option<String>,
    /// Whether its membership is read-only.
    pub archived: bool,
    /// Live entries.
    pub file_count: u64,
    /// The live entries by position, at most the first 1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<CollectionFile>>,
    /// RFC 3339 UTC.
    #[schema(format = DateTime)]
    pub created: Option<String>,
    /// RFC 3339 UTC.
    #[schema(format = DateTime)]
    pub updated: Option<String>,
}

/// `GET /api/v1/collections`: every collection, without `files`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(as = DatalabCollectionList)]
pub struct CollectionList(pub Vec<CollectionResponse>);

/// `collection_id` from the path as an integer, or pydantic's complaint.
pub fn collection_number(text: &str) -> Result<u64, Vec<ValidationError>> {
    text.parse::<u64>().map_err(|_| {
        vec![problem(
            vec![key("path"), key("collection_id")],
            "Input should be a valid integer, unable to parse string as an integer",
            "int_parsing",
        )]
    })
}

fn key(k: &str) -> LocStep {
    LocStep::Key(k.to_owned())
}

/// The file numbers of a request body, or every problem pydantic would report: the field
/// missing, not a list, empty, over 100, or elements that are not integers.
pub fn file_numbers(body: &Value) -> Result<Vec<u64>, Vec<ValidationError>> {
    let field = vec![key("body"), key("uploaded_file_ids")];
    let Value::Object(fields) = body else {
        return Err(vec![problem(
            vec![key("body")],
            "Input should be a valid dictionary or object to extract fields from",
            "model_attributes_type",
        )]);
    };
    let Some(value) = fields.get("uploaded_file_ids") else {
        return Err(vec![problem(field, "Field required", "missing")]);
    };
    let Value::Array(list) = value else {
        return Err(vec![problem(
            field,
            "Input should be a valid list",
            "list_type",
        )]);
    };
    let mut numbers = Vec::with_capacity(list.len());
    let mut problems = Vec::new();
    for (i, v) in list.iter().enumerate() {
        match integer(v) {
            Ok(n) => numbers.push(n),
            Err((msg, kind)) => {
                let mut loc = field.clone();
                loc.push(LocStep::Index(i));
                problems.push(problem(loc, msg, kind));
            }
        }
    }
    if list.is_empty() {
        problems.push(problem(
            field,
            "List should have at least 1 item after validation, not 0",
            "too_short",
        ));
    } else if list.len() > MAX_FILES {
        problems.push(problem(
            field,
            format!(
                "List should have at most {MAX_FILES} items after validation, not {}",
                list.len()
            ),
            "too_long",
        ));
    }
    if problems.is_empty() {
        Ok(numbers)
    } else {
        Err(problems)
    }
}

/// An integer as pydantic's lax mode takes it: a JSON integer, a float without a fraction,
/// or a string of digits. sheaf's numbers are never negative, so a negative one is refused
/// as not found later, not here; it is taken as a number no file has.
fn integer(v: &Value) -> Result<u64, (&'static str, &'static str)> {
    const PARSING: &str = "Input should be a valid integer, unable to parse string as an integer";
    match v {
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Ok(u)
            } else if n.as_i64().is_some() {
                Ok(u64::MAX)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if f.fract() == 0.0 && f.is_finite() {
                    Ok(if f < 0.0 { u64::MAX } else { f as u64 })
                } else {
                    Err((
                        "Input should be a valid integer, got a number with a fractional part",
                        "int_from_float",
                    ))
                }
            }
        }
        Value::String(s) => s
            .trim()
            .parse::<u64>()
            .map_err(|_| (PARSING, "int_parsing")),
        _ => Err(("Input should be a valid integer", "int_type")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn locs(problems: &[ValidationError]) -> Vec<Value> {
        problems
            .iter()
            .map(|p| json!([serde_json::to_value(&p.loc).unwrap(), p.kind]))
            .collect()
    }

    #[test]
    fn every_bad_element_is_reported_at_its_index() {
        let err = file_numbers(&json!({"uploaded_file_ids": [1, 2, "x", null]})).unwrap_err();
        assert_eq!(
            locs(&err),
            vec![
                json!([["body", "uploaded_file_ids", 2], "int_parsing"]),
                json!([["body", "uploaded_file_ids", 3], "int_type"]),
            ]
        );
    }

    #[test]
    fn missing_empty_and_too_long_lists_are_refused() {
        assert_eq!(
            locs(&file_numbers(&json!({})).unwrap_err()),
            vec![json!([["body", "uploaded_file_ids"], "missing"])]
        );
        assert_eq!(
            locs(&file_numbers(&json!({"uploaded_file_ids": []})).unwrap_err()),
            vec![json!([["body", "uploaded_file_ids"], "too_short"])]
        );
        let many: Vec<u64> = (0..101).collect();
        assert_eq!(
            locs(&file_numbers(&json!({"uploaded_file_ids": many})).unwrap_err()),
            vec![json!([["body", "uploaded_file_ids"], "too_long"])]
        );
        assert_eq!(
            file_numbers(&json!({"uploaded_file_ids": [3, "4", 5.0]})).unwrap(),
            vec![3, 4, 5]
        );
    }

    #[test]
    fn a_collection_id_that_is_no_integer_is_located_in_the_path() {
        let err = collection_number("abc").unwrap_err();
        assert_eq!(
            locs(&err),
            vec![json!([["path", "collection_id"], "int_parsing"])]
        );
        assert_eq!(collection_number("12").unwrap(), 12);
    }
}
