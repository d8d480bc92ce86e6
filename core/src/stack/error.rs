//! Errors in a stack file, with the spot they are about.
//!
//! A [`StackError`] is made once, from the file's text and a byte range, and renders
//! itself: `error: …`, the `file:line:col` arrow, the line with carets under the spot,
//! and a `= help:` line saying what is accepted. Rendering has no colour; the CLI may
//! add it. This module never decides what is wrong, only how it is shown.

use std::ops::Range;

/// A place in a file: byte range and 1-based line and column of its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub line: usize,
    pub col: usize,
}

impl Span {
    /// The span of `range` in `text`; line and column count characters, from 1.
    pub fn of(text: &str, range: Range<usize>) -> Span {
        let start = floor_char_boundary(text, range.start.min(text.len()));
        let end = floor_char_boundary(text, range.end.clamp(start, text.len()));
        let before = &text[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = text[line_start..start].chars().count() + 1;
        Span {
            start,
            end,
            line,
            col,
        }
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// An error in a stack file. Its `Display` shows `file:line:col`, the line with a caret
/// under the spot, and what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{rendered}")]
pub struct StackError {
    pub file: String,
    pub span: Option<Span>,
    pub message: String,
    /// What is accepted, or the closest known key.
    pub help: Option<String>,
    rendered: String,
}

impl StackError {
    /// An error about `range` of `text` (the whole file), named `file` in the output.
    pub fn new(
        file: &str,
        text: &str,
        range: Option<Range<usize>>,
        message: impl Into<String>,
        help: Option<String>,
    ) -> StackError {
        let message = message.into();
        let span = range.map(|r| Span::of(text, r));
        let rendered = render(file, text, span, &message, help.as_deref());
        StackError {
            file: file.to_string(),
            span,
            message,
            help,
            rendered,
        }
    }

    /// The error as shown to people (the same text as `Display`).
    pub fn rendered(&self) -> &str {
        &self.rendered
    }
}

/// Tabs are drawn as this many spaces, so that carets line up.
const TAB: &str = "    ";

fn render(file: &str, text: &str, span: Option<Span>, message: &str, help: Option<&str>) -> String {
    let mut out = format!("error: {message}\n");
    let Some(span) = span else {
        out.push_str(&format!(" --> {file}\n"));
        if let Some(help) = help {
            out.push_str(&format!("  = help: {help}\n"));
        }
        return out;
    };
    let number = span.line.to_string();
    let gutter = " ".repeat(number.len() + 1);
    out.push_str(&format!(" --> {file}:{}:{}\n", span.line, span.col));
    out.push_str(&format!("{gutter}|\n"));

    let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[span.start..]
        .find('\n')
        .map_or(text.len(), |i| span.start + i);
    let line = text[line_start..line_end].trim_end_matches('\r');
    let shown = line.replace('\t', TAB);
    out.push_str(format!("{number} | {shown}").trim_end());
    out.push('\n');

    let lead: usize = text[line_start..span.start]
        .chars()
        .map(|c| if c == '\t' { TAB.len() } else { 1 })
        .sum();
    let under_end = span.end.min(line_start + line.len()).max(span.start);
    let width: usize = text[span.start..under_end]
        .chars()
        .map(|c| if c == '\t' { TAB.len() } else { 1 })
        .sum();
    out.push_str(&format!(
        "{gutter}| {}{}\n",
        " ".repeat(lead),
        "^".repeat(width.max(1))
    ));
    if let Some(help) = help {
        out.push_str(&format!("{gutter}= help: {help}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_counts_lines_and_characters_from_one() {
        let text = "a = 1\n[é]\nport = 2\n";
        let start = text.find("port").unwrap();
        let span = Span::of(text, start..start + 4);
        assert_eq!((span.line, span.col), (3, 1));
        let e = text.find(']').unwrap();
        assert_eq!(Span::of(text, e..e + 1).col, 3);
    }

    #[test]
    fn rendering_draws_the_line_and_carets() {
        let text = "\n\n\n\n\n\n\n\n\n\n[containers.web]\nport = [\"8080:80\"]\n";
        let start = text.find("port").unwrap();
        let e = StackError::new(
            "stack.toml",
            text,
            Some(start..start + 4),
            "unknown key `port` in [containers.web]",
            Some("did you mean `ports`?".into()),
        );
        assert_eq!(
            e.to_string(),
            "error: unknown key `port` in [containers.web]\n \
             --> stack.toml:12:1\n   \
             |\n\
             12 | port = [\"8080:80\"]\n   \
             | ^^^^\n   \
             = help: did you mean `ports`?\n"
        );
    }

    #[test]
    fn an_error_without_a_spot_names_the_file() {
        let e = StackError::new("stack.toml", "", None, "bad name", Some("add one".into()));
        assert_eq!(
            e.rendered(),
            "error: bad name\n --> stack.toml\n  = help: add one\n"
        );
    }

    #[test]
    fn tabs_are_drawn_as_spaces_so_carets_line_up() {
        let text = "\tport = 1\n";
        let e = StackError::new("s.toml", text, Some(1..5), "bad", None);
        assert!(e.to_string().contains("1 |     port = 1\n  |     ^^^^\n"));
    }

    #[test]
    fn a_span_over_several_lines_is_underlined_to_the_end_of_its_first() {
        let text = "ports = [\n  1,\n]\n";
        let e = StackError::new("s.toml", text, Some(8..text.len() - 1), "bad", None);
        assert!(e.to_string().contains("1 | ports = [\n  |         ^\n"));
    }
}
