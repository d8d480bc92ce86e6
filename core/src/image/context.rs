//! A build context: the files a build may copy, by path relative to the context's
//! folder (`/`-separated, no leading `./`), with their Unix modes. The CLI reads it
//! from disk, the playground keeps it in the page.
//!
//! A `.dockerignore` at the top of the context hides files from COPY and ADD:
//! patterns with `*`, `?` and `**`, `#` comments, `!` exceptions, the last matching
//! line deciding. Never reads the disk itself.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The mode a file gets when none is recorded.
pub const DEFAULT_MODE: u32 = 0o644;

/// The files of a build context.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    pub files: BTreeMap<String, Vec<u8>>,
    /// Unix permission bits of files whose mode is not [`DEFAULT_MODE`] (executables).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub modes: BTreeMap<String, u32>,
}

impl Context {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a file, with the default mode.
    pub fn insert(&mut self, path: impl Into<String>, content: impl Into<Vec<u8>>) {
        let path = path.into();
        self.modes.remove(&path);
        self.files.insert(path, content.into());
    }

    /// Adds or replaces a file with a mode (`0o755` for a script).
    pub fn insert_with_mode(
        &mut self,
        path: impl Into<String>,
        content: impl Into<Vec<u8>>,
        mode: u32,
    ) {
        let path = path.into();
        let mode = mode & 0o7777;
        if mode == DEFAULT_MODE {
            self.modes.remove(&path);
        } else {
            self.modes.insert(path.clone(), mode);
        }
        self.files.insert(path, content.into());
    }

    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    /// The permission bits of a file.
    pub fn mode(&self, path: &str) -> u32 {
        self.modes.get(path).copied().unwrap_or(DEFAULT_MODE)
    }

    /// The files COPY and ADD may see: all but those `.dockerignore` excludes, in
    /// path order.
    pub fn visible(&self) -> Vec<&str> {
        let ignore = self
            .get(".dockerignore")
            .map(|b| Ignore::parse(&String::from_utf8_lossy(b)))
            .unwrap_or_default();
        self.files
            .keys()
            .map(String::as_str)
            .filter(|p| !ignore.excludes(p))
            .collect()
    }
}

/// The rules of a `.dockerignore` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ignore {
    /// (segments of the pattern, whether it is a `!` exception), in file order.
    rules: Vec<(Vec<String>, bool)>,
}

impl Ignore {
    pub fn parse(text: &str) -> Ignore {
        let mut rules = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (pattern, exception) = match line.strip_prefix('!') {
                Some(p) => (p.trim(), true),
                None => (line, false),
            };
            let segments: Vec<String> = pattern
                .split('/')
                .filter(|s| !s.is_empty() && *s != ".")
                .map(str::to_string)
                .collect();
            if !segments.is_empty() {
                rules.push((segments, exception));
            }
        }
        Ignore { rules }
    }

    /// Whether `path` is excluded: the last rule matching it or one of its parent
    /// folders decides.
    pub fn excludes(&self, path: &str) -> bool {
        let segments: Vec<&str> = path.split('/').collect();
        let mut excluded = false;
        for (pattern, exception) in &self.rules {
            let pattern: Vec<&str> = pattern.iter().map(String::as_str).collect();
            let matches = (1..=segments.len()).any(|n| path_match(&pattern, &segments[..n]));
            if matches {
                excluded = !exception;
            }
        }
        excluded
    }
}

/// Whether a path's segments match a pattern's: `*` and `?` within a segment, `**`
/// for any number of segments.
pub fn path_match(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|skip| path_match(rest, &path[skip..])),
        Some((first, rest)) => match path.split_first() {
            Some((segment, path_rest)) => {
                segment_match(first.as_bytes(), segment.as_bytes()) && path_match(rest, path_rest)
            }
            None => false,
        },
    }
}

/// Whether one segment matches a pattern with `*` (any run) and `?` (one character).
pub fn segment_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// Whether a COPY source is a pattern rather than a path.
pub fn is_pattern(source: &str) -> bool {
    source.contains(['*', '?'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_match_stars_and_question_marks() {
        assert!(segment_match(b"*.json", b"package.json"));
        assert!(segment_match(b"pack?ge.*", b"package.json"));
        assert!(segment_match(b"*", b""));
        assert!(!segment_match(b"*.json", b"package.js"));
        assert!(!segment_match(b"a?", b"a"));
    }

    #[test]
    fn double_star_crosses_folders() {
        assert!(path_match(&["**", "*.log"], &["a", "b", "x.log"]));
        assert!(path_match(&["**", "*.log"], &["x.log"]));
        assert!(!path_match(&["*.log"], &["a", "x.log"]));
    }

    #[test]
    fn dockerignore_excludes_folders_and_honours_exceptions() {
        let mut c = Context::new();
        for p in [
            "src/app.js",
            "node_modules/x/index.js",
            "logs/a.log",
            "logs/keep.log",
            "README.md",
            ".git/HEAD",
        ] {
            c.insert(p, "x");
        }
        c.insert(
            ".dockerignore",
            "# build junk\nnode_modules\n/.git\nlogs/*.log\n!logs/keep.log\n*.md\n",
        );
        assert_eq!(
            c.visible(),
            [".dockerignore", "logs/keep.log", "src/app.js"]
        );
    }

    #[test]
    fn modes_default_to_0644_and_are_kept_when_set() {
        let mut c = Context::new();
        c.insert_with_mode("install", "#!/bin/sh", 0o100755);
        c.insert("a", "");
        assert_eq!(c.mode("install"), 0o755);
        assert_eq!(c.mode("a"), DEFAULT_MODE);
        c.insert("install", "plain now");
        assert_eq!(c.mode("install"), DEFAULT_MODE);
    }
}
