//! Node selection with dbt's grammar: a selection is an AST ([`Selection`]) parsed from
//! `--select`/`--exclude` ([`parse`]) and evaluated on the graph apart from parsing ([`eval`]).

mod eval;
mod glob;
mod parse;

pub use eval::{PreviousState, SelectionContext, select, unmatched};
pub use parse::{parse_selection, parse_spec};

/// How far a graph operator reaches: `+x` is `All`, `2+x` is `Depth(2)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    All,
    Depth(usize),
}

impl Reach {
    pub fn limit(self) -> Option<usize> {
        match self {
            Self::All => None,
            Self::Depth(depth) => Some(depth),
        }
    }
}

/// `state:` comparisons against a previous manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateCheck {
    New,
    Old,
    Modified,
    ModifiedBody,
    ModifiedConfigs,
    Unmodified,
}

/// The selector methods (`method:value`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    Fqn,
    Path,
    File,
    Tag,
    /// `config.<key>[.<subkey>]:value`
    Config(Vec<String>),
    ResourceType,
    Source,
    TestType,
    TestName,
    Package,
    State(StateCheck),
}

impl Method {
    pub const NAMES: [&'static str; 11] = [
        "fqn",
        "path",
        "file",
        "tag",
        "config",
        "resource_type",
        "source",
        "test_type",
        "test_name",
        "package",
        "state",
    ];
}

/// One selector atom, e.g. `2+tag:nightly+` or `@silver.events`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criterion {
    pub raw: String,
    pub method: Method,
    pub value: String,
    pub parents: Option<Reach>,
    pub children: Option<Reach>,
    /// `@x`: x, its descendants and the ancestors of all of those.
    pub childrens_parents: bool,
}

/// The selection AST: atoms combined by intersection (comma), union (space) and exclusion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every node (what no `--select` means).
    All,
    Atom(Criterion),
    And(Vec<Selection>),
    Or(Vec<Selection>),
    Exclude {
        include: Box<Selection>,
        exclude: Box<Selection>,
    },
}

/// How tests next to selected nodes join the selection (`--indirect-selection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum IndirectSelection {
    /// Tests that touch any selected node.
    #[default]
    Eager,
    /// Tests whose parents are all selected.
    Cautious,
    /// Tests whose parents are all selected or ancestors of selected nodes.
    Buildable,
    /// No tests beyond those selected directly.
    Empty,
}
