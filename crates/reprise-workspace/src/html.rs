//! HTML for reports: text made safe, and a text report as one self-contained page.

/// Text made safe inside HTML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A text report as one self-contained HTML page (no external asset): its first line as
/// the title, the text as written, then `footer` (HTML).
pub fn text_page(text: &str, footer: &str, fr: bool) -> String {
    let title = escape(text.lines().next().unwrap_or(""));
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<style>\nbody {{ font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #111; }}\npre {{ white-space: pre-wrap; font: 0.95rem/1.5 ui-monospace, monospace; background: #f6f6f6; padding: 1rem; border-radius: 6px; }}\n.sig {{ border-top: 2px solid #111; padding-top: 1rem; }}\ncode {{ word-break: break-all; }}\n</style>\n</head>\n<body>\n<h1>{title}</h1>\n<pre>{body}</pre>\n{footer}\n</body>\n</html>\n",
        lang = if fr { "fr" } else { "en" },
        body = escape(text),
    )
}
