//! A small PDF writer for text documents (reports): A4 pages, the standard Helvetica
//! fonts every reader has (nothing embedded, nothing fetched), WinAnsi encoding so that
//! French accents print as they should, long lines wrapped at word boundaries, and the
//! first line as a bold title. Characters outside WinAnsi get a close ASCII stand-in.

use std::fmt::Write;

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 50.0;
const SIZE: f32 = 9.5;
const LEADING: f32 = 12.5;
/// Characters per line at this size (Helvetica averages about half its size per
/// character; kept conservative for wide letters).
const WRAP: usize = 96;

/// One character in WinAnsi, or a stand-in.
fn win_ansi(c: char, out: &mut Vec<u8>) {
    let code = c as u32;
    let byte = match c {
        ' '..='~' => Some(code as u8),
        '\u{a0}'..='\u{ff}' => Some(code as u8),
        '€' => Some(0x80),
        '‚' => Some(0x82),
        '…' => Some(0x85),
        'Œ' => Some(0x8c),
        '‘' => Some(0x91),
        '’' => Some(0x92),
        '“' => Some(0x93),
        '”' => Some(0x94),
        '•' => Some(0x95),
        '–' => Some(0x96),
        '—' => Some(0x97),
        'œ' => Some(0x9c),
        _ => None,
    };
    match byte {
        Some(b) => out.push(b),
        None => {
            let stand_in = match c {
                '→' => "->",
                '←' => "<-",
                '✓' => "v",
                '✗' => "x",
                '☐' => "[ ]",
                '\t' => "    ",
                _ => "?",
            };
            out.extend_from_slice(stand_in.as_bytes());
        }
    }
}

/// A PDF string literal: WinAnsi bytes with `\`, `(` and `)` escaped.
fn literal(text: &str) -> Vec<u8> {
    let mut raw = Vec::new();
    for c in text.chars() {
        win_ansi(c, &mut raw);
    }
    let mut out = vec![b'('];
    for b in raw {
        if matches!(b, b'\\' | b'(' | b')') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b')');
    out
}

/// Wraps `line` at word boundaries, keeping its indentation on continuation lines.
fn wrap(line: &str) -> Vec<String> {
    if line.chars().count() <= WRAP {
        return vec![line.to_string()];
    }
    let indent: String = line.chars().take_while(|c| *c == ' ').collect();
    let mut out = Vec::new();
    let mut current = String::new();
    for word in line.split(' ') {
        let len = current.chars().count();
        if len > 0 && len + 1 + word.chars().count() > WRAP {
            out.push(std::mem::take(&mut current));
            current.push_str(&indent);
            current.push_str("  ");
        } else if len > 0 {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

/// Renders `text` as a PDF document titled `title`.
pub fn text_document(title: &str, text: &str) -> Vec<u8> {
    let lines: Vec<String> = text.lines().flat_map(wrap).collect();
    let per_page = ((PAGE_HEIGHT - 2.0 * MARGIN) / LEADING) as usize;
    let pages: Vec<&[String]> = if lines.is_empty() {
        vec![&[]]
    } else {
        lines.chunks(per_page).collect()
    };

    // Objects: 1 catalog, 2 pages, 3 regular font, 4 bold font, 5 info, then a page
    // and its content stream for each page.
    let mut objects: Vec<Vec<u8>> = Vec::new();
    let page_ids: Vec<usize> = (0..pages.len()).map(|i| 6 + 2 * i).collect();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    let kids: Vec<String> = page_ids.iter().map(|id| format!("{id} 0 R")).collect();
    objects.push(
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        )
        .into_bytes(),
    );
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    let mut info = b"<< /Producer (Reprise) /Title ".to_vec();
    info.extend(literal(title));
    info.extend_from_slice(b" >>");
    objects.push(info);
    for (n, page) in pages.iter().enumerate() {
        let mut stream = Vec::new();
        let _ = write!(
            Buf(&mut stream),
            "BT\n{LEADING} TL\n{MARGIN} {} Td\n",
            PAGE_HEIGHT - MARGIN
        );
        for (i, line) in page.iter().enumerate() {
            let bold = n == 0 && i == 0;
            let _ = writeln!(
                Buf(&mut stream),
                "/{} {} Tf",
                if bold { "F2" } else { "F1" },
                if bold { SIZE + 2.0 } else { SIZE }
            );
            stream.extend(literal(line));
            stream.extend_from_slice(b" Tj T*\n");
        }
        let _ = write!(
            Buf(&mut stream),
            "/F1 8 Tf\n0 {} Td\n({} / {}) Tj\nET\n",
            -(PAGE_HEIGHT - 2.0 * MARGIN - (page.len() as f32) * LEADING) + 10.0,
            n + 1,
            pages.len()
        );
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
                page_ids[n] + 1
            )
            .into_bytes(),
        );
        let mut content = format!("<< /Length {} >>\nstream\n", stream.len()).into_bytes();
        content.extend(stream);
        content.extend_from_slice(b"\nendstream");
        objects.push(content);
    }

    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).into_bytes());
        out.extend(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).into_bytes());
    for offset in offsets {
        out.extend(format!("{offset:010} 00000 n \n").into_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .into_bytes(),
    );
    out
}

/// `write!` into a byte buffer.
struct Buf<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Buf<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_encoded_for_the_standard_fonts() {
        assert_eq!(
            literal("Gravité (SEV1) \\ ok"),
            b"(Gravit\xe9 \\(SEV1\\) \\\\ ok)"
        );
        assert_eq!(literal("a → b — c"), b"(a -> b \x97 c)");
    }

    #[test]
    fn long_lines_wrap_at_words_and_keep_their_indent() {
        let line = format!("    {}", "word ".repeat(40));
        let wrapped = wrap(&line);
        assert!(wrapped.len() > 1);
        assert!(wrapped.iter().all(|l| l.chars().count() <= WRAP + 8));
        assert!(wrapped[1].starts_with("      word"));
    }

    #[test]
    fn the_document_is_well_formed_with_a_page_per_chunk_of_lines() {
        let text = (0..150)
            .map(|i| format!("line {i}"))
            .collect::<Vec<_>>()
            .join("\n");
        let pdf = text_document("Report", &text);
        let body = String::from_utf8_lossy(&pdf);
        assert!(body.starts_with("%PDF-1.4"));
        assert!(body.trim_end().ends_with("%%EOF"));
        assert!(body.contains("/Count 3"));
        // `startxref` gives the byte offset of the cross-reference table.
        let tail = &body[body.rfind("startxref\n").unwrap() + 10..];
        let xref: usize = tail.lines().next().unwrap().parse().unwrap();
        assert_eq!(&pdf[xref..xref + 4], b"xref");
    }
}
