//! The four platforms whose documented "add files to a collection" requests sheafd also
//! answers (SPEC §8): which platform a path belongs to, each platform's wire types, and
//! one table per platform mapping sheaf's error codes onto its statuses and shapes.
//!
//! Everything here is pure: the daemon's `api::dialect` translates these onto the store's
//! operations and renders refusals through these tables.

pub mod datalab;
pub mod fastapi;
pub mod llama;
pub mod oracle;
pub mod wickson;

use sheaf_core::ErrorCode;

/// Whose API a route belongs to: sheaf's own, or one of the platforms of SPEC §8.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Platform {
    /// sheaf's native `/v1` API.
    Sheaf,
    /// Datalab's collections (SPEC §8.1).
    Datalab,
    /// Oracle Content Management's collections (SPEC §8.2).
    Oracle,
    /// Wickson's media collections (SPEC §8.3).
    Wickson,
    /// LlamaCloud's directories (SPEC §8.4).
    LlamaCloud,
}

impl Platform {
    /// The platforms of SPEC §8, in its order.
    pub const DIALECTS: [Platform; 4] = [
        Platform::Datalab,
        Platform::Oracle,
        Platform::Wickson,
        Platform::LlamaCloud,
    ];

    /// The OpenAPI tag of the platform's routes; `None` for the native API, which has none.
    #[must_use]
    pub const fn tag(self) -> Option<&'static str> {
        match self {
            Platform::Sheaf => None,
            Platform::Datalab => Some("Datalab"),
            Platform::Oracle => Some("Oracle Content Management"),
            Platform::Wickson => Some("Wickson"),
            Platform::LlamaCloud => Some("LlamaCloud"),
        }
    }

    /// What the platform's tag in the OpenAPI document says.
    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            Platform::Sheaf => "sheaf's own API",
            Platform::Datalab => {
                "Datalab's collections (SPEC §8.1): collections and files by their integer numbers"
            }
            Platform::Oracle => {
                "Oracle Content Management's collections (SPEC §8.2): JSON, or XML on Accept: application/xml"
            }
            Platform::Wickson => {
                "Wickson's media collections (SPEC §8.3): batch moves, collections created when missing"
            }
            Platform::LlamaCloud => {
                "LlamaCloud's directories (SPEC §8.4): a directory is a collection"
            }
        }
    }

    /// The platform whose paths `path` is under: decided from the path alone, so a refusal
    /// before any handler runs (no key, no route) already has the platform's shape.
    #[must_use]
    pub fn of_path(path: &str) -> Self {
        let under = |prefix: &str| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        if under("/api/v1/beta") {
            Platform::LlamaCloud
        } else if under("/api") {
            Platform::Datalab
        } else if under("/documents/api") {
            Platform::Oracle
        } else if under("/v1/media") || under("/v1/search") {
            Platform::Wickson
        } else {
            Platform::Sheaf
        }
    }

    /// The HTTP status the platform answers `code` with: the platform's own where its
    /// documentation gives one, SPEC §2.3's otherwise.
    #[must_use]
    pub const fn error_status(self, code: ErrorCode) -> u16 {
        match self {
            Platform::Sheaf | Platform::Wickson => code.http_status(),
            Platform::Datalab | Platform::LlamaCloud => fastapi::status(code),
            Platform::Oracle => oracle::status(code),
        }
    }

    /// The name of the schema of the platform's error bodies with `status`.
    #[must_use]
    pub const fn error_schema(self, status: u16) -> &'static str {
        match self {
            Platform::Sheaf => "ErrorEnvelope",
            Platform::Datalab | Platform::LlamaCloud => fastapi::schema(status),
            Platform::Oracle => "OracleError",
            Platform::Wickson => "WicksonError",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_belongs_to_the_platform_whose_prefix_it_is_under() {
        let cases = [
            ("/v1/collections/inbox/items", Platform::Sheaf),
            ("/v1/health", Platform::Sheaf),
            ("/v1/mediax", Platform::Sheaf),
            ("/api/v1/collections/7/files", Platform::Datalab),
            ("/api/v1/collections", Platform::Datalab),
            ("/api/v1/beta/directories/d/files", Platform::LlamaCloud),
            ("/documents/api/1.1/collections/c/files/f", Platform::Oracle),
            (
                "/v1/media/collections/research_papers/items",
                Platform::Wickson,
            ),
            ("/v1/media", Platform::Wickson),
            ("/v1/search", Platform::Wickson),
        ];
        for (path, platform) in cases {
            assert_eq!(Platform::of_path(path), platform, "{path}");
        }
    }
}
