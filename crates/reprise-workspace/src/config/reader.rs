//! A small reader over TOML's spanned tree. It takes fields one by one, reports a wrong
//! type or value at the value's position, and, once a table is read, reports every key
//! nobody asked for, so that a typo is never silently ignored.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::diagnostic::{Diagnostic, Severity, Source};

/// Collects diagnostics while reading one file.
pub(crate) struct Reader<'s> {
    pub source: &'s Source<'s>,
    pub diagnostics: Vec<Diagnostic>,
}

/// A string value with the byte range it was read from.
#[derive(Debug, Clone)]
pub(crate) struct Located<T> {
    pub value: T,
    pub span: Range<usize>,
}

/// One table being read: its entries, which ones were taken, and what it describes.
pub(crate) struct TableView<'t, 'i> {
    table: &'t DeTable<'i>,
    pub span: Range<usize>,
    /// `asset \`cam-1\``, for messages; refined once the id is known.
    pub subject: String,
    taken: Vec<&'static str>,
}

impl<'s> Reader<'s> {
    pub fn new(source: &'s Source<'s>) -> Self {
        Self {
            source,
            diagnostics: Vec::new(),
        }
    }

    /// How many errors so far; comparing before and after reading a field tells whether
    /// that field failed.
    pub fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    pub fn error(
        &mut self,
        span: Range<usize>,
        subject: Option<&str>,
        field: Option<&str>,
        message: impl Into<String>,
    ) {
        self.push(Severity::Error, span, subject, field, message.into());
    }

    pub fn warning(
        &mut self,
        span: Range<usize>,
        subject: Option<&str>,
        field: Option<&str>,
        message: impl Into<String>,
    ) {
        self.push(Severity::Warning, span, subject, field, message.into());
    }

    fn push(
        &mut self,
        severity: Severity,
        span: Range<usize>,
        subject: Option<&str>,
        field: Option<&str>,
        message: String,
    ) {
        let d = self
            .source
            .diagnostic(severity, span, subject.map(str::to_string), field, message);
        self.diagnostics.push(d);
    }

    /// A string field. Missing and `required`: an error at the table.
    pub fn string(
        &mut self,
        view: &mut TableView<'_, '_>,
        key: &'static str,
        required: bool,
    ) -> Option<Located<String>> {
        let value = view.take(key);
        match value {
            None => {
                if required {
                    let subject = view.subject.clone();
                    self.error(
                        view.span.clone(),
                        Some(&subject),
                        Some(key),
                        "this field is required",
                    );
                }
                None
            }
            Some(v) => match v.get_ref() {
                DeValue::String(s) => Some(Located {
                    value: s.to_string(),
                    span: v.span(),
                }),
                other => {
                    let subject = view.subject.clone();
                    self.error(
                        v.span(),
                        Some(&subject),
                        Some(key),
                        format!("expected a string, found {}", other.type_str()),
                    );
                    None
                }
            },
        }
    }

    /// A date, written as a TOML date or as a string; returned as text for the caller to
    /// parse.
    pub(crate) fn date_or_string(
        &mut self,
        view: &mut TableView<'_, '_>,
        key: &'static str,
    ) -> Option<Located<String>> {
        let v = view.take(key)?;
        let text = match v.get_ref() {
            DeValue::String(s) => s.to_string(),
            DeValue::Datetime(d) => d.to_string(),
            other => {
                let subject = view.subject.clone();
                self.error(
                    v.span(),
                    Some(&subject),
                    Some(key),
                    format!("expected a date, found {}", other.type_str()),
                );
                return None;
            }
        };
        Some(Located {
            value: text,
            span: v.span(),
        })
    }

    /// A string field parsed with `parse`; a failure is reported at the value.
    pub fn parsed<T, E: std::fmt::Display>(
        &mut self,
        view: &mut TableView<'_, '_>,
        key: &'static str,
        required: bool,
        parse: impl Fn(&str) -> Result<T, E>,
    ) -> Option<T> {
        let raw = self.string(view, key, required)?;
        match parse(&raw.value) {
            Ok(v) => Some(v),
            Err(e) => {
                let subject = view.subject.clone();
                self.error(raw.span, Some(&subject), Some(key), e.to_string());
                None
            }
        }
    }

    /// A list of strings; a single string is accepted as a list of one.
    pub fn strings(
        &mut self,
        view: &mut TableView<'_, '_>,
        key: &'static str,
    ) -> Vec<Located<String>> {
        let Some(v) = view.take(key) else {
            return Vec::new();
        };
        let subject = view.subject.clone();
        match v.get_ref() {
            DeValue::String(s) => vec![Located {
                value: s.to_string(),
                span: v.span(),
            }],
            DeValue::Array(items) => items
                .iter()
                .filter_map(|item| match item.get_ref() {
                    DeValue::String(s) => Some(Located {
                        value: s.to_string(),
                        span: item.span(),
                    }),
                    other => {
                        self.error(
                            item.span(),
                            Some(&subject),
                            Some(key),
                            format!("expected a string, found {}", other.type_str()),
                        );
                        None
                    }
                })
                .collect(),
            other => {
                self.error(
                    v.span(),
                    Some(&subject),
                    Some(key),
                    format!("expected a list of strings, found {}", other.type_str()),
                );
                Vec::new()
            }
        }
    }

    /// A non-negative integer that fits in `u32`.
    pub fn count(&mut self, view: &mut TableView<'_, '_>, key: &'static str) -> Option<u32> {
        let v = view.take(key)?;
        let subject = view.subject.clone();
        let parsed = v
            .get_ref()
            .as_integer()
            .and_then(|i| i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()).ok())
            .and_then(|i| u32::try_from(i).ok());
        if parsed.is_none() {
            self.error(
                v.span(),
                Some(&subject),
                Some(key),
                "expected a whole number, zero or more",
            );
        }
        parsed
    }

    /// The tables of an array of tables (`[[asset]]`) or a single inline table.
    pub fn tables<'t, 'i>(
        &mut self,
        view: &mut TableView<'t, 'i>,
        key: &'static str,
        subject: &str,
    ) -> Vec<TableView<'t, 'i>> {
        let Some(v) = view.take(key) else {
            return Vec::new();
        };
        let parent = view.subject.clone();
        let mut out = Vec::new();
        let mut push = |item: &'t Spanned<DeValue<'i>>, this: &mut Self| match item.get_ref() {
            DeValue::Table(t) => out.push(TableView::new(t, item.span(), subject.to_string())),
            other => this.error(
                item.span(),
                Some(&parent).filter(|p| !p.is_empty()).map(String::as_str),
                Some(key),
                format!("expected a table, found {}", other.type_str()),
            ),
        };
        match v.get_ref() {
            DeValue::Array(items) => {
                for item in items.iter() {
                    push(item, self);
                }
            }
            _ => push(v, self),
        }
        out
    }

    /// Reports every key of `view` that was not taken, suggesting the closest known one.
    pub fn finish(&mut self, view: TableView<'_, '_>, known: &[&str]) {
        for (key, value) in view.table.iter() {
            let name: &str = key.get_ref();
            if view.taken.contains(&name) {
                continue;
            }
            let _ = value;
            let message = match closest(name, known) {
                Some(guess) => format!("unknown field `{name}` (did you mean `{guess}`?)"),
                None => format!(
                    "unknown field `{name}` (known fields: {})",
                    known.join(", ")
                ),
            };
            let subject = Some(view.subject.as_str()).filter(|s| !s.is_empty());
            self.error(key.span(), subject, None, message);
        }
    }
}

impl<'t, 'i> TableView<'t, 'i> {
    pub fn new(table: &'t DeTable<'i>, span: Range<usize>, subject: String) -> Self {
        Self {
            table,
            span,
            subject,
            taken: Vec::new(),
        }
    }

    /// Whether the table has `key` at all, read or not.
    pub fn has(&self, key: &str) -> bool {
        self.table.get(key).is_some()
    }

    fn take(&mut self, key: &'static str) -> Option<&'t Spanned<DeValue<'i>>> {
        let value = self.table.get(key)?;
        self.taken.push(key);
        Some(value)
    }
}

/// The known name closest to `name`, if it is close enough to be a likely typo.
fn closest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (row[j + 1] + 1).min(row[j] + 1).min(prev + cost);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_get_a_suggestion() {
        let known = ["depends_on", "criticality", "name"];
        assert_eq!(closest("dependson", &known), Some("depends_on"));
        assert_eq!(closest("criticity", &known), Some("criticality"));
        assert_eq!(closest("colour", &known), None);
    }
}
