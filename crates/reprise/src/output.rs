//! Rendering for people: aligned tables and local times. Programs use `--json`.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// A plain-text table with a header row, columns aligned on character count.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows
            .push(cells.into_iter().map(|c| term(&c).into_owned()).collect());
    }

    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut out = String::new();
            for (i, cell) in cells.iter().enumerate() {
                out.push_str(cell);
                if i + 1 < cells.len() {
                    let pad = widths[i] - cell.chars().count() + 2;
                    out.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.trim_end().to_string() + "\n"
        };
        let mut out = line(&self.header);
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }
}

/// Text as a terminal may show it: control characters (escape sequences that would move
/// the cursor, recolour or retitle the terminal) are written as `\u{1b}`, not sent.
/// Line breaks and tabs stay.
pub fn term(text: &str) -> std::borrow::Cow<'_, str> {
    if !text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `2026-11-22 09:14` in the workspace's zone.
pub fn local_time(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

pub fn or_dash(value: Option<impl ToString>) -> String {
    value.map_or_else(|| "-".to_string(), |v| v.to_string())
}

pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

pub use reprise_workspace::html::escape as escape_html;
pub use reprise_workspace::text::bytes;

/// Writes a report where asked (text, HTML, PDF), or prints it when nowhere.
pub fn write_report(
    text: &str,
    fr: bool,
    out: Option<&std::path::Path>,
    html: Option<&std::path::Path>,
    pdf: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    if let Some(path) = out {
        std::fs::write(path, text)?;
    }
    if let Some(path) = html {
        std::fs::write(path, report_html(text, "", fr))?;
    }
    if let Some(path) = pdf {
        let head = text.lines().next().unwrap_or("Reprise");
        let pdf = reprise_workspace::pdf::text_document(head, text)
            .map_err(|e| anyhow::anyhow!("the PDF could not be laid out: {e}"))?;
        std::fs::write(path, pdf)?;
    }
    if out.is_none() && html.is_none() && pdf.is_none() {
        print!("{text}");
    }
    Ok(())
}

pub use reprise_workspace::html::text_page as report_html;
