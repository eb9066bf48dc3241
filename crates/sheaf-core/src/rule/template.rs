//! The templates of a rule's `relocate` and `run` (SPEC §7.3): text with tokens in braces,
//! `{path}` `{dir}` `{name}` `{stem}` `{ext}` `{id}` `{collection}` and the file's
//! modification date `{yyyy}` `{mm}` `{dd}`. An unknown token is refused when the rule is
//! defined, never when it runs; `{{` and `}}` stand for literal braces.

use std::fmt::{self, Write as _};

use crate::id::CollectionId;
use crate::model::Item;

/// One token of a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    Path,
    Dir,
    Name,
    Stem,
    Ext,
    Id,
    Collection,
    Year,
    Month,
    Day,
}

const TOKENS: [(&str, Token); 10] = [
    ("path", Token::Path),
    ("dir", Token::Dir),
    ("name", Token::Name),
    ("stem", Token::Stem),
    ("ext", Token::Ext),
    ("id", Token::Id),
    ("collection", Token::Collection),
    ("yyyy", Token::Year),
    ("mm", Token::Month),
    ("dd", Token::Day),
];

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Token(Token),
}

/// A parsed template; [`Template::render`] fills it for one item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

/// What a template is filled with: the item, and the collection of the event that fired
/// the rule (or the rule's first `link` collection, or none).
#[derive(Clone, Copy, Debug)]
pub struct Fill<'a> {
    /// The item the rule runs for.
    pub item: &'a Item,
    /// `{collection}`; empty when `None`.
    pub collection: Option<&'a CollectionId>,
}

impl Template {
    /// Parses `text`; the error says which token is unknown or where a brace is unmatched.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.peek().is_some_and(|(_, n)| *n == '{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().is_some_and(|(_, n)| *n == '}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let rest = &text[at + 1..];
                    let Some(end) = rest.find('}') else {
                        return Err(format!(
                            "an unmatched {{ at byte {at}; write {{{{ for a literal brace"
                        ));
                    };
                    let name = &rest[..end];
                    let Some((_, token)) = TOKENS.iter().find(|(n, _)| *n == name) else {
                        let known: Vec<String> =
                            TOKENS.iter().map(|(n, _)| format!("{{{n}}}")).collect();
                        return Err(format!(
                            "unknown token {{{name}}}; known: {}",
                            known.join(" ")
                        ));
                    };
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Token(*token));
                    for _ in 0..=name.chars().count() {
                        chars.next();
                    }
                }
                '}' => {
                    return Err(format!(
                        "an unmatched }} at byte {at}; write }}}} for a literal brace"
                    ));
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Self {
            source: text.to_owned(),
            parts,
        })
    }

    /// The template as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the template names `{collection}`.
    #[must_use]
    pub fn uses_collection(&self) -> bool {
        self.parts.contains(&Part::Token(Token::Collection))
    }

    /// The template filled for one item. A deleted item's tokens come from its last path.
    #[must_use]
    pub fn render(&self, fill: Fill<'_>) -> String {
        let item = fill.item;
        let path = item
            .path
            .as_deref()
            .or(item.last_path.as_deref())
            .unwrap_or_default();
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let (stem, ext) = match name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => (stem, ext),
            _ => (name, ""),
        };
        let (year, month, day) = item.mtime.date();
        let mut out = String::with_capacity(self.source.len() + path.len());
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Token(Token::Path) => out.push_str(path),
                Part::Token(Token::Dir) => out.push_str(if dir.is_empty() { "/" } else { dir }),
                Part::Token(Token::Name) => out.push_str(name),
                Part::Token(Token::Stem) => out.push_str(stem),
                Part::Token(Token::Ext) => out.push_str(ext),
                Part::Token(Token::Id) => out.push_str(&item.id.to_string()),
                Part::Token(Token::Collection) => {
                    out.push_str(fill.collection.map_or("", CollectionId::as_str));
                }
                Part::Token(Token::Year) => {
                    let _ = write!(out, "{year:04}");
                }
                Part::Token(Token::Month) => {
                    let _ = write!(out, "{month:02}");
                }
                Part::Token(Token::Day) => {
                    let _ = write!(out, "{day:02}");
                }
            }
        }
        out
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ItemId, Kind, Metadata, Timestamp};

    fn item(path: &str) -> Item {
        Item {
            id: ItemId::new(Kind::Document, ulid::Ulid(7)),
            kind: Kind::Document,
            content_type: "application/pdf".into(),
            path: Some(path.into()),
            last_path: Some(path.into()),
            original_filename: path.rsplit('/').next().unwrap_or_default().into(),
            size: 1,
            // 2026-03-04T05:06:07Z
            mtime: "2026-03-04T05:06:07Z".parse::<Timestamp>().unwrap(),
            content_hash: None,
            metadata: Metadata::new(),
            file_id: None,
            created_at: Timestamp::EPOCH,
            updated_at: Timestamp::EPOCH,
            deleted_at: None,
            number: 0,
        }
    }

    #[test]
    fn every_token_is_filled_from_the_item_and_the_collection() {
        let t = Template::parse(
            "{path}|{dir}|{name}|{stem}|{ext}|{id}|{collection}|{yyyy}-{mm}-{dd}|{{x}}",
        )
        .unwrap();
        let papers = CollectionId::parse("papers").unwrap();
        let i = item("/home/u/Downloads/report.final.pdf");
        assert_eq!(
            t.render(Fill {
                item: &i,
                collection: Some(&papers)
            }),
            format!(
                "/home/u/Downloads/report.final.pdf|/home/u/Downloads|report.final.pdf|\
                 report.final|pdf|{}|papers|2026-03-04|{{x}}",
                i.id
            )
        );
        assert!(t.uses_collection());
    }

    #[test]
    fn a_name_without_extension_and_a_dot_file_have_no_ext() {
        let t = Template::parse("{stem}.{ext}").unwrap();
        let fill = |p: &str| {
            let i = item(p);
            t.render(Fill {
                item: &i,
                collection: None,
            })
        };
        assert_eq!(fill("/d/README"), "README.");
        assert_eq!(fill("/d/.bashrc"), ".bashrc.");
    }

    #[test]
    fn unknown_tokens_and_unmatched_braces_are_refused_when_parsed() {
        let e = Template::parse("~/Papers/{year}/").unwrap_err();
        assert!(e.contains("unknown token {year}"), "{e}");
        assert!(e.contains("{yyyy}"), "{e}");
        assert!(
            Template::parse("{path")
                .unwrap_err()
                .contains("unmatched {")
        );
        assert!(Template::parse("a}b").unwrap_err().contains("unmatched }"));
        assert_eq!(Template::parse("a{{b}}").unwrap().as_str(), "a{{b}}");
    }
}
