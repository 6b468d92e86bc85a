//! PDF documents laid out by Typst, used as a library: A4 pages, fonts embedded (the
//! Libertinus Serif and DejaVu Sans Mono families Typst ships), full Unicode (accents,
//! arrows, check marks), tables, page numbers. Reports are written as Typst markup by
//! their owners; [`escape`] and [`string`] make any text safe to put in it. Nothing is
//! read from the system or the network: the same input gives the same layout anywhere.

use std::sync::LazyLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

static FONTS: LazyLock<Fonts> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts()
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    Fonts {
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});

static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::default()));

fn file_id(path: &str) -> FileId {
    FileId::new(RootedPath::new(
        VirtualRoot::Project,
        VirtualPath::new(path).expect("a valid virtual path"),
    ))
}

/// One document: its markup and the files it may read (a logo).
struct Document {
    main: Source,
    files: Vec<(FileId, Bytes)>,
    today: Option<Datetime>,
}

impl World for Document {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::NotFound(id.vpath().get_with_slash().into()))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        self.files
            .iter()
            .find(|(f, _)| *f == id)
            .map(|(_, b)| b.clone())
            .ok_or_else(|| FileError::NotFound(id.vpath().get_with_slash().into()))
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        self.today
    }
}

/// Lays out `markup` (Typst) as a PDF. `files` are the files it may read by name
/// (`("logo.png", bytes)` is read as `image("/logo.png")`).
pub fn typeset(markup: &str, files: &[(&str, Vec<u8>)]) -> Result<Vec<u8>, String> {
    let now = jiff::Zoned::now();
    let document = Document {
        main: Source::new(file_id("/main.typ"), markup.to_string()),
        files: files
            .iter()
            .map(|(name, bytes)| (file_id(&format!("/{name}")), Bytes::new(bytes.clone())))
            .collect(),
        today: Datetime::from_ymd(now.year().into(), now.month() as u8, now.day() as u8),
    };
    let compiled = typst::compile::<PagedDocument>(&document).output;
    let paged = compiled.map_err(|errors| {
        errors
            .iter()
            .map(|e| e.message.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    typst_pdf::pdf(&paged, &typst_pdf::PdfOptions::default()).map_err(|errors| {
        errors
            .iter()
            .map(|e| e.message.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// `text` as Typst markup shows it: every character that means something to Typst
/// escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '#'
                | '$'
                | '*'
                | '_'
                | '`'
                | '<'
                | '>'
                | '@'
                | '['
                | ']'
                | '~'
                | '/'
                | '='
                | '-'
                | '+'
                | '"'
                | '\''
                | ':'
                | '.'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `text` as a Typst string literal, quotes included.
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The page set-up every report shares: A4, margins, the serif text font, page numbers
/// and `footer` at the bottom of every page.
pub fn preamble(title: &str, footer: &str) -> String {
    format!(
        "#set document(title: {title})\n\
         #set page(paper: \"a4\", margin: (x: 1.8cm, y: 2cm), footer: context [#set text(size: 7.5pt, fill: luma(90)); {footer} #h(1fr) #counter(page).display(\"1 / 1\", both: true)])\n\
         #set text(font: \"Libertinus Serif\", size: 10pt)\n\
         #set par(justify: false)\n\
         #show raw: set text(font: \"DejaVu Sans Mono\", size: 8pt)\n",
        title = string(title),
        footer = escape(footer),
    )
}

/// Renders `text` (a report written as plain text, aligned in columns) as a PDF titled
/// `title`: the first line bold, the rest in a monospace font so its columns hold.
pub fn text_document(title: &str, text: &str) -> Result<Vec<u8>, String> {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or(title);
    let rest: Vec<&str> = lines.collect();
    let markup = format!(
        "{}#text(weight: \"bold\", size: 12pt)[{}]\n\n#raw(block: true, {})\n",
        preamble(title, "Reprise"),
        escape(first),
        string(&rest.join("\n"))
    );
    typeset(&markup, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_report_is_a_pdf_whatever_its_characters() {
        let pdf = text_document(
            "Rapport",
            "RAPPORT — tests\n✓ restauré → vérifié « ok »\n#[*_]$ \\ \"quoted\"",
        )
        .unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        // Fonts are embedded: a font file stream is in the document.
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/FontFile"), "no embedded font");
    }

    #[test]
    fn escaped_text_never_becomes_markup() {
        let markup = format!("{}\n", escape("#panic() *bold* $x$ <label> @ref [a] // c"));
        assert!(typeset(&markup, &[]).is_ok());
        assert!(typeset("#panic()", &[]).is_err());
    }
}
