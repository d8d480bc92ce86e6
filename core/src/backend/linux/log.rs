//! A container's log: what its program wrote on stdout and stderr, one JSON line per
//! line written, with the time it was read (`{"time_ms":…,"stream":"stdout","text":…}`).
//! The supervisor appends; `logs` reads and follows. Never interprets the text.

use std::io::{BufRead, Write};
use std::path::Path;

use crate::backend::{LogLine, LogStream};

/// A line longer than this is cut into several.
const MAX_LINE: usize = 16 * 1024;

/// Splits what a stream produced into complete lines, keeping an unfinished tail.
#[derive(Debug, Default)]
pub struct LineSplitter {
    pending: Vec<u8>,
}

impl LineSplitter {
    /// Adds `bytes`; returns the lines completed by them (without their newline).
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(bytes);
        let mut lines = Vec::new();
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            lines.push(String::from_utf8_lossy(&line[..line.len() - 1]).into_owned());
        }
        while self.pending.len() >= MAX_LINE {
            let line: Vec<u8> = self.pending.drain(..MAX_LINE).collect();
            lines.push(String::from_utf8_lossy(&line).into_owned());
        }
        lines
    }

    /// What is left when the stream ends.
    pub fn finish(&mut self) -> Option<String> {
        if self.pending.is_empty() {
            return None;
        }
        let line = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        Some(line)
    }
}

/// Appends one line to the log. Written by hand, the same bytes serde_json writes for a
/// [`LogLine`]: this runs in the supervisor for every line a container prints, and the
/// less code it touches, the fewer pages of program text the supervisor keeps resident
/// while output flows.
pub fn append(log: &mut impl Write, time_ms: u64, stream: LogStream, text: String) {
    let stream = match stream {
        LogStream::Stdout => "stdout",
        LogStream::Stderr => "stderr",
    };
    let mut json = Vec::with_capacity(text.len() + 48);
    json.extend_from_slice(b"{\"time_ms\":");
    json.extend_from_slice(time_ms.to_string().as_bytes());
    json.extend_from_slice(b",\"stream\":\"");
    json.extend_from_slice(stream.as_bytes());
    json.extend_from_slice(b"\",\"text\":\"");
    for c in text.chars() {
        match c {
            '"' => json.extend_from_slice(b"\\\""),
            '\\' => json.extend_from_slice(b"\\\\"),
            '\n' => json.extend_from_slice(b"\\n"),
            '\r' => json.extend_from_slice(b"\\r"),
            '\t' => json.extend_from_slice(b"\\t"),
            '\u{8}' => json.extend_from_slice(b"\\b"),
            '\u{c}' => json.extend_from_slice(b"\\f"),
            c if (c as u32) < 0x20 => {
                json.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => json.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    json.extend_from_slice(b"\"}\n");
    let _ = log.write_all(&json);
}

/// Reads the log from byte `offset`; returns the lines and the offset after the last
/// complete one.
pub fn read_from(path: &Path, offset: u64) -> (Vec<LogLine>, u64) {
    use std::io::Seek;
    let Ok(mut file) = std::fs::File::open(path) else {
        return (Vec::new(), offset);
    };
    if file.seek(std::io::SeekFrom::Start(offset)).is_err() {
        return (Vec::new(), offset);
    }
    let mut reader = std::io::BufReader::new(file);
    let mut lines = Vec::new();
    let mut at = offset;
    let mut buf = String::new();
    loop {
        buf.clear();
        match reader.read_line(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) if buf.ends_with('\n') => {
                at += n as u64;
                if let Ok(line) = serde_json::from_str(buf.trim_end()) {
                    lines.push(line);
                }
            }
            Ok(_) => break,
        }
    }
    (lines, at)
}

/// A time in milliseconds since the epoch, as RFC 3339 in UTC (`2026-11-23T09:32:24.123Z`).
pub fn rfc3339(time_ms: u64) -> String {
    let secs = time_ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        time_ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_and_tails_kept() {
        let mut s = LineSplitter::default();
        assert_eq!(s.push(b"a\nb"), vec!["a"]);
        assert_eq!(s.push(b"c\n\n"), vec!["bc", ""]);
        assert_eq!(s.push(b"end"), Vec::<String>::new());
        assert_eq!(s.finish().as_deref(), Some("end"));
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn log_lines_round_trip_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let mut file = std::fs::File::create(&path).unwrap();
        append(&mut file, 5, LogStream::Stdout, "hello".into());
        append(&mut file, 6, LogStream::Stderr, "oops".into());
        let (lines, offset) = read_from(&path, 0);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].stream, LogStream::Stderr);
        assert_eq!(lines[1].text, "oops");
        assert_eq!(read_from(&path, offset).0, vec![]);
    }

    #[test]
    fn log_lines_are_the_json_serde_writes() {
        for text in [
            "hello",
            "",
            "quote \" backslash \\ slash /",
            "tab\tcr\rnl\nbell\u{7}esc\u{1b}del\u{7f}",
            "\u{8}\u{c}\u{0}\u{1f}",
            "é 漢字 🐳",
        ] {
            for stream in [LogStream::Stdout, LogStream::Stderr] {
                let mut ours = Vec::new();
                append(&mut ours, 1_795_426_344_123, stream, text.to_string());
                let mut serde = serde_json::to_vec(&LogLine {
                    time_ms: 1_795_426_344_123,
                    stream,
                    text: text.to_string(),
                })
                .unwrap();
                serde.push(b'\n');
                assert_eq!(
                    String::from_utf8(ours).unwrap(),
                    String::from_utf8(serde).unwrap()
                );
            }
        }
    }

    #[test]
    fn times_print_as_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_426_344_123), "2026-11-23T09:32:24.123Z");
    }
}
