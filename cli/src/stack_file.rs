//! Reads a stack file and the build contexts of its images from disk, and the digests
//! that tell whether any of them changed since a plan was made. The only place where
//! the command line reads a user's files.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use quai_core::image::{Context, Digest};
use quai_core::resource::desired::Desired;
use quai_core::stack::{self, ImageSpec, Stack, StackError};
use serde::{Deserialize, Serialize};

/// Why a stack and its contexts could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read stack file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// Rendered by core: file:line:col, the line, a caret, what is accepted.
    #[error("{0}")]
    Stack(Box<StackError>),
    #[error("image `{image}`: cannot read build context {path}: {source}")]
    Context {
        image: String,
        path: String,
        source: std::io::Error,
    },
}

/// A stack file read and validated, with its build contexts.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The file, as the user named it.
    pub path: PathBuf,
    pub text: String,
    pub stack: Stack,
    /// Files of each built image's context, by image name.
    pub contexts: BTreeMap<String, Context>,
}

/// The digests a plan file keeps, to refuse being applied after its inputs changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Digest of the stack file's text.
    pub stack: Digest,
    /// Digest of each build context (paths and contents), by image name.
    pub contexts: BTreeMap<String, Digest>,
}

impl Loaded {
    /// Reads `path`, validates it, and reads the build context of every built image.
    pub fn read(path: &Path) -> Result<Loaded, LoadError> {
        let shown = path.display().to_string();
        let text = fs::read_to_string(path).map_err(|source| LoadError::Read {
            path: shown.clone(),
            source,
        })?;
        let folder = stack_folder(path);
        let folder_name = folder_name(&folder);
        let stack =
            stack::parse(&text, &shown, &folder_name).map_err(|e| LoadError::Stack(Box::new(e)))?;
        let mut contexts = BTreeMap::new();
        for (name, spec) in &stack.images {
            if let ImageSpec::Build { context, .. } = spec {
                let dir = folder.join(context);
                let ctx = read_context(&dir).map_err(|source| LoadError::Context {
                    image: name.clone(),
                    path: dir.display().to_string(),
                    source,
                })?;
                contexts.insert(name.clone(), ctx);
            }
        }
        Ok(Loaded {
            path: path.to_path_buf(),
            text,
            stack,
            contexts,
        })
    }

    /// What the planner needs.
    pub fn desired(&self) -> Desired {
        Desired {
            stack: self.stack.clone(),
            contexts: self.contexts.clone(),
        }
    }

    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint {
            stack: Digest::of(self.text.as_bytes()),
            contexts: self
                .contexts
                .iter()
                .map(|(name, ctx)| (name.clone(), context_digest(ctx)))
                .collect(),
        }
    }
}

/// The folder that holds the stack file (`.` for a bare file name).
fn stack_folder(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The stack's default name: the name of its folder.
fn folder_name(folder: &Path) -> String {
    let absolute = fs::canonicalize(folder).unwrap_or_else(|_| folder.to_path_buf());
    absolute
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "stack".to_string())
}

/// Every file under `dir`, recursively, by `/`-separated relative path.
pub fn read_context(dir: &Path) -> std::io::Result<Context> {
    let mut ctx = Context::new();
    let mut pending = vec![(dir.to_path_buf(), String::new())];
    while let Some((folder, prefix)) = pending.pop() {
        for entry in fs::read_dir(&folder)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let path = entry.path();
            let meta = fs::metadata(&path)?;
            if meta.is_dir() {
                pending.push((path, relative));
            } else if meta.is_file() {
                ctx.insert(relative, fs::read(&path)?);
            }
        }
    }
    Ok(ctx)
}

/// One digest for a whole context: every path and content, in path order.
pub fn context_digest(ctx: &Context) -> Digest {
    Digest::of_parts(
        ctx.files
            .iter()
            .flat_map(|(path, content)| [path.as_bytes(), content.as_slice()]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_context_holds_every_file_by_relative_path() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("package.json"), "{}").unwrap();
        fs::create_dir_all(dir.path().join("src/lib")).unwrap();
        fs::write(dir.path().join("src/lib/a.js"), "a").unwrap();
        let ctx = read_context(dir.path()).unwrap();
        let paths: Vec<&str> = ctx.files.keys().map(String::as_str).collect();
        assert_eq!(paths, ["package.json", "src/lib/a.js"]);
        assert_eq!(ctx.get("src/lib/a.js"), Some(&b"a"[..]));
    }

    #[test]
    fn a_context_digest_changes_with_a_content_or_a_name() {
        let mut a = Context::new();
        a.insert("package.json", "{}");
        let mut b = a.clone();
        assert_eq!(context_digest(&a), context_digest(&b));
        b.insert("package.json", "{ }");
        assert_ne!(context_digest(&a), context_digest(&b));
        let mut c = Context::new();
        c.insert("package.jso", "n{}");
        assert_ne!(context_digest(&a), context_digest(&c));
    }

    #[test]
    fn the_default_name_is_the_folder_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("blog");
        fs::create_dir(&sub).unwrap();
        assert_eq!(folder_name(&stack_folder(&sub.join("stack.toml"))), "blog");
        assert_eq!(stack_folder(Path::new("stack.toml")), PathBuf::from("."));
    }
}
