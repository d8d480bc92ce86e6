//! A plan is data: the steps that would bring what was applied to what the stack asks,
//! each with its reasons. [`diff`] builds it without I/O; [`render`] writes it as text
//! or JSON. Reasons explain; [`crate::apply`] decides on actions alone.

use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::image::BuildPlan;
use crate::resource::ResourceConfig;

pub mod diff;
pub mod render;
#[cfg(test)]
pub(crate) mod testing;

pub use diff::{destroy, diff, PlanError};

/// What a step does to its resource. The one place that maps an action to its symbol
/// is [`Action::symbol`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    NoOp,
    Create,
    /// Changed in place (resources, restart policy).
    Update,
    /// Deleted then created again.
    Replace,
    Delete,
}

impl Action {
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
        }
    }
    pub fn verb(self) -> &'static str {
        match self {
            Action::NoOp => "no change",
            Action::Create => "create",
            Action::Update => "update in place",
            Action::Replace => "replace",
            Action::Delete => "delete",
        }
    }
}

/// Why a step is in the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    /// Not in the state: it will be created.
    New,
    /// In the state but no longer in the stack.
    NotInStack,
    /// A field changed; `replaces` says whether that forces a replacement.
    Field {
        field: String,
        before: String,
        after: String,
        replaces: bool,
    },
    /// What the backend shows differs from what was recorded (`exited (137) outside quai`,
    /// `removed outside quai`).
    Drift { observed: Drift },
    /// The backend has it, the state does not (left by an interrupted apply).
    Orphan { id: String },
    /// A resource it depends on is replaced (`network.back`).
    Dependency { address: Address },
    /// Asked by `destroy`.
    Destroy,
    /// A volume that a destroy keeps (ask `--volumes` to delete it).
    Kept,
    /// The container is replaced and has no named volume for its data: what it wrote
    /// in its writable layer is lost.
    WritableLayerDropped,
}

/// What the backend shows of a recorded resource when it is not what quai left. Written
/// (text and JSON) as a phrase, `exited (137) outside quai`; typed here so that the
/// playground can say it in French.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drift {
    /// Removed outside quai (`docker rm -f`).
    Removed,
    /// An image no longer in the local store.
    NotInStore,
    /// A container created and never started.
    NeverStarted,
    /// A container that exited outside quai: its code when known, and whether the
    /// kernel killed it for lack of memory.
    Exited { code: Option<i32>, oom_killed: bool },
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Drift::Removed => f.write_str("removed outside quai"),
            Drift::NotInStore => f.write_str("no longer in the local store (removed outside quai)"),
            Drift::NeverStarted => f.write_str("created but never started"),
            Drift::Exited { code, oom_killed } => {
                match code {
                    Some(c) => write!(f, "exited ({c}")?,
                    None => f.write_str("exited (?")?,
                }
                if *oom_killed {
                    f.write_str(", killed: out of memory")?;
                }
                f.write_str(") outside quai")
            }
        }
    }
}

impl std::str::FromStr for Drift {
    type Err = String;

    /// The phrase [`Drift`]'s `Display` writes, read back (plan files).
    fn from_str(text: &str) -> Result<Self, String> {
        let exited = || -> Option<Drift> {
            let inside = text
                .strip_prefix("exited (")?
                .strip_suffix(") outside quai")?;
            let (code, oom_killed) = match inside.strip_suffix(", killed: out of memory") {
                Some(code) => (code, true),
                None => (inside, false),
            };
            let code = match code {
                "?" => None,
                c => Some(c.parse().ok()?),
            };
            Some(Drift::Exited { code, oom_killed })
        };
        [Drift::Removed, Drift::NotInStore, Drift::NeverStarted]
            .into_iter()
            .find(|d| d.to_string() == text)
            .or_else(exited)
            .ok_or_else(|| format!("unknown drift `{text}`"))
    }
}

serde_as_text!(Drift);

/// One step of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub address: Address,
    pub action: Action,
    pub reasons: Vec<Reason>,
    /// As recorded in the state (none when new). Also none for a no-op whose record is
    /// exactly `after`: a plan of a large unchanged stack does not carry every
    /// configuration twice. (A no-op that keeps something the stack no longer asks for,
    /// a kept volume, has `before` and no `after`.)
    pub before: Option<ResourceConfig>,
    /// As the stack asks (none when deleted).
    pub after: Option<ResourceConfig>,
    /// The backend id of what exists now (container id), to act on it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Addresses that must be done before this step.
    pub depends_on: Vec<Address>,
    /// For images that are built: each step with its predicted cache hit or miss. Boxed:
    /// few steps have one, and a plan of 10 000 containers writes every step's bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<Box<BuildPlan>>,
}

/// Counts of actions, as the summary line shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
}

/// Everything a plan says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Version of the plan format (plan files are refused by a quai that reads another).
    pub format: u32,
    pub stack: String,
    /// The state serial this plan was made against: applying it to another is refused.
    pub serial: u64,
    /// Every address, no-ops included, in the order of the graph (dependencies first).
    pub changes: Vec<Change>,
}

impl Plan {
    pub const FORMAT: u32 = 1;

    /// Whether applying would change anything.
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action != Action::NoOp)
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            match c.action {
                Action::NoOp => {}
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::Replace => s.replace += 1,
                Action::Delete => s.delete += 1,
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drift_is_written_as_a_phrase_and_read_back() {
        let all = [
            (Drift::Removed, "removed outside quai"),
            (
                Drift::NotInStore,
                "no longer in the local store (removed outside quai)",
            ),
            (Drift::NeverStarted, "created but never started"),
            (
                Drift::Exited {
                    code: Some(137),
                    oom_killed: true,
                },
                "exited (137, killed: out of memory) outside quai",
            ),
            (
                Drift::Exited {
                    code: None,
                    oom_killed: false,
                },
                "exited (?) outside quai",
            ),
        ];
        for (drift, text) in all {
            assert_eq!(drift.to_string(), text);
            assert_eq!(text.parse::<Drift>(), Ok(drift));
            let reason = Reason::Drift { observed: drift };
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(json, format!(r#"{{"reason":"drift","observed":"{text}"}}"#));
            assert_eq!(serde_json::from_str::<Reason>(&json).unwrap(), reason);
        }
        assert_eq!(
            "exited (x) outside quai".parse::<Drift>(),
            Err("unknown drift `exited (x) outside quai`".to_string())
        );
    }
}
