//! Reproducible layer tars: the same files give the same bytes, hence the same digest,
//! in the simulated backend and in the Linux one.
//!
//! Entries are sorted by path, parent folders included (mode 0755), times are zero,
//! owners are the files' uid and gid (0 unless `--chown`), user and group names empty.
//! Headers are POSIX ustar; a path too long for ustar gets a PAX extended header.
//! Pure Rust and no I/O: the bytes are built in memory.

use std::collections::BTreeMap;

use crate::image::Digest;

/// A file a COPY or ADD step puts into its layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerFile {
    /// Absolute path in the image (`/app/package.json`).
    pub path: String,
    pub content: Vec<u8>,
    /// Permission bits (`0o644`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

const BLOCK: usize = 512;
const FOLDER_MODE: u32 = 0o755;

/// The tar of a layer holding `files` (a later file of the same path wins).
pub fn tar(files: &[LayerFile]) -> Vec<u8> {
    // Entry name (no leading `/`, folders end with `/`) → file, or None for a folder.
    let mut entries: BTreeMap<String, Option<&LayerFile>> = BTreeMap::new();
    for f in files {
        let rel = f.path.trim_start_matches('/');
        if rel.is_empty() {
            continue;
        }
        let mut prefix = String::new();
        let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
        for part in &parts[..parts.len().saturating_sub(1)] {
            prefix.push_str(part);
            prefix.push('/');
            entries.entry(prefix.clone()).or_insert(None);
        }
        entries.insert(parts.join("/"), Some(f));
    }
    let mut out = Vec::new();
    for (name, file) in &entries {
        match file {
            Some(f) => {
                write_entry(&mut out, name, b'0', f.mode, f.uid, f.gid, &f.content);
            }
            None => write_entry(&mut out, name, b'5', FOLDER_MODE, 0, 0, &[]),
        }
    }
    out.resize(out.len() + 2 * BLOCK, 0);
    out
}

/// The digest and size of the layer tar of `files`.
pub fn digest(files: &[LayerFile]) -> (Digest, u64) {
    let bytes = tar(files);
    (Digest::of(&bytes), bytes.len() as u64)
}

fn write_entry(
    out: &mut Vec<u8>,
    name: &str,
    kind: u8,
    mode: u32,
    uid: u32,
    gid: u32,
    content: &[u8],
) {
    let size = content.len() as u64;
    let (ustar_name, ustar_prefix) = split_name(name);
    let mut pax = Vec::new();
    if ustar_name.is_none() {
        pax.push(pax_record("path", name));
    }
    if size >= 0o77777777777 {
        pax.push(pax_record("size", &size.to_string()));
    }
    if !pax.is_empty() {
        let body: Vec<u8> = pax.concat();
        let pax_name = format!("PaxHeaders/{}", truncate(name, 80));
        let header = header(&pax_name, "", b'x', 0o644, 0, 0, body.len() as u64);
        out.extend_from_slice(&header);
        push_padded(out, &body);
    }
    let (n, p) = match ustar_name {
        Some(n) => (n, ustar_prefix),
        None => (truncate(name, 100), ""),
    };
    let header = header(n, p, kind, mode, uid, gid, size.min(0o77777777777));
    out.extend_from_slice(&header);
    push_padded(out, content);
}

fn push_padded(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(bytes);
    let rem = bytes.len() % BLOCK;
    if rem != 0 {
        out.resize(out.len() + BLOCK - rem, 0);
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// ustar's name and prefix fields, when the path fits them.
fn split_name(name: &str) -> (Option<&str>, &str) {
    if name.len() <= 100 {
        return (Some(name), "");
    }
    // Split at a `/` so that the prefix fits 155 bytes and the rest 100.
    let bytes = name.as_bytes();
    for (i, &b) in bytes.iter().enumerate().take(156) {
        if b == b'/' && name.len() - i - 1 <= 100 && i <= 155 && i + 1 < name.len() {
            return (Some(&name[i + 1..]), &name[..i]);
        }
    }
    (None, "")
}

/// `LEN key=value\n`, LEN counting itself.
fn pax_record(key: &str, value: &str) -> Vec<u8> {
    let rest = key.len() + value.len() + 3; // space, `=`, newline
    let mut len = rest + 1;
    while len != rest + len.to_string().len() {
        len = rest + len.to_string().len();
    }
    format!("{len} {key}={value}\n").into_bytes()
}

fn header(
    name: &str,
    prefix: &str,
    kind: u8,
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64,
) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    h[..name.len()].copy_from_slice(name.as_bytes());
    octal(&mut h[100..108], u64::from(mode & 0o7777));
    octal(&mut h[108..116], u64::from(uid));
    octal(&mut h[116..124], u64::from(gid));
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], 0);
    h[156] = kind;
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    octal(&mut h[329..337], 0);
    octal(&mut h[337..345], 0);
    h[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
    // The checksum is computed with its own field filled with spaces.
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    let text = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(text.as_bytes());
    h
}

/// Zero-padded octal digits, then a NUL, filling the field.
fn octal(field: &mut [u8], value: u64) {
    let digits = field.len() - 1;
    let text = format!("{value:0digits$o}");
    let text = &text.as_bytes()[text.len().saturating_sub(digits)..];
    field[..digits].copy_from_slice(text);
    field[digits] = 0;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, content: &str) -> LayerFile {
        LayerFile {
            path: path.into(),
            content: content.as_bytes().to_vec(),
            mode: 0o644,
            uid: 0,
            gid: 0,
        }
    }

    /// Reads back (name, type, mode, size, content) from a tar, checking checksums.
    fn entries(tar: &[u8]) -> Vec<(String, u8, u32, Vec<u8>)> {
        let mut out = Vec::new();
        let mut at = 0;
        let mut long_name = None;
        while at + BLOCK <= tar.len() && tar[at..at + BLOCK].iter().any(|&b| b != 0) {
            let h = &tar[at..at + BLOCK];
            let field = |r: std::ops::Range<usize>| {
                let s = std::str::from_utf8(&h[r]).unwrap();
                s.trim_end_matches(['\0', ' ']).to_string()
            };
            let mut check = h.to_vec();
            check[148..156].fill(b' ');
            let sum: u32 = check.iter().map(|&b| u32::from(b)).sum();
            assert_eq!(u32::from_str_radix(&field(148..154), 8).unwrap(), sum);
            assert_eq!(&h[257..263], b"ustar\0");
            assert_eq!(field(136..148), "00000000000", "mtime is zero");
            let size = usize::from_str_radix(&field(124..136), 8).unwrap();
            let mode = u32::from_str_radix(&field(100..108), 8).unwrap();
            let body = tar[at + BLOCK..at + BLOCK + size].to_vec();
            let prefix = field(345..500);
            let mut name = field(0..100);
            if !prefix.is_empty() {
                name = format!("{prefix}/{name}");
            }
            at += BLOCK + size.div_ceil(BLOCK) * BLOCK;
            if h[156] == b'x' {
                let text = String::from_utf8(body).unwrap();
                long_name = text
                    .split_once("path=")
                    .map(|(_, v)| v.trim_end().to_string());
                continue;
            }
            out.push((long_name.take().unwrap_or(name), h[156], mode, body));
        }
        assert_eq!(tar.len() % BLOCK, 0);
        out
    }

    #[test]
    fn entries_are_sorted_with_parent_folders_and_fixed_metadata() {
        let mut run = file("/app/run.sh", "#!/bin/sh\n");
        run.mode = 0o755;
        let tar = tar(&[
            file("/app/package.json", "{}"),
            run,
            file("/etc/motd", "hi"),
        ]);
        let e = entries(&tar);
        let names: Vec<&str> = e.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            names,
            ["app/", "app/package.json", "app/run.sh", "etc/", "etc/motd"]
        );
        assert_eq!(e[0].1, b'5');
        assert_eq!(e[0].2, 0o755);
        assert_eq!(e[1].3, b"{}");
        assert_eq!(e[2].2, 0o755);
    }

    #[test]
    fn same_files_in_any_order_give_the_same_digest() {
        let a = [file("/a/x", "1"), file("/b", "2")];
        let b = [file("/b", "2"), file("/a/x", "1")];
        assert_eq!(digest(&a), digest(&b));
        assert_ne!(
            digest(&a).0,
            digest(&[file("/a/x", "1"), file("/b", "3")]).0
        );
    }

    #[test]
    fn long_paths_use_prefix_or_pax() {
        let mid = format!("/{}/{}", "d".repeat(120), "f".repeat(90));
        let long = format!("/{}", "x".repeat(300));
        let e = entries(&tar(&[file(&mid, "m"), file(&long, "l")]));
        let names: Vec<String> = e.iter().map(|e| e.0.clone()).collect();
        let mut expected = vec![
            format!("{}/", "d".repeat(120)),
            mid[1..].to_string(),
            long[1..].to_string(),
        ];
        expected.sort();
        assert_eq!(names, expected);
        assert_eq!(e.iter().find(|e| e.0 == long[1..]).unwrap().3, b"l");
    }

    #[test]
    fn pax_record_length_counts_itself() {
        let r = pax_record("path", &"a".repeat(95));
        let text = String::from_utf8(r.clone()).unwrap();
        let len: usize = text.split(' ').next().unwrap().parse().unwrap();
        assert_eq!(len, r.len());
    }
}
