//! User-facing errors: a [`Diagnostic`] names what went wrong, where (file, line, column, the
//! offending line with a caret) and what to do about it; [`Error`] adds the phase and maps it
//! to an exit code.

use std::fmt;
use std::path::{Path, PathBuf};

/// What kind of mistake a diagnostic reports; shown as a stable code, e.g. `error[yaml]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagnosticKind {
    Io,
    Yaml,
    Project,
    Profile,
    Config,
    Jinja,
    UnknownRef,
    UnknownSource,
    Duplicate,
    Cycle,
    Selector,
    EnvVar,
    Vars,
    Execution,
    Internal,
}

impl DiagnosticKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Io => "io",
            Self::Yaml => "yaml",
            Self::Project => "project",
            Self::Profile => "profile",
            Self::Config => "config",
            Self::Jinja => "jinja",
            Self::UnknownRef => "ref",
            Self::UnknownSource => "source",
            Self::Duplicate => "duplicate",
            Self::Cycle => "cycle",
            Self::Selector => "selector",
            Self::EnvVar => "env-var",
            Self::Vars => "vars",
            Self::Execution => "execution",
            Self::Internal => "internal",
        }
    }
}

/// A place in a user's file. Lines and columns are 1-based; line 0 means the whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub column: Option<usize>,
    /// The text of the offending line, shown under the location with a caret.
    pub source_line: Option<String>,
}

/// A message about a user's input, with its place and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub kind: DiagnosticKind,
    pub message: String,
    /// Boxed to keep `Result<_, Diagnostic>` small.
    pub location: Option<Box<Location>>,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(kind: DiagnosticKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            location: None,
            hint: None,
        }
    }

    /// Attach a location; when `source` (the file's text) is given, the line is shown too.
    #[must_use]
    pub fn at(
        mut self,
        file: impl Into<PathBuf>,
        line: usize,
        column: Option<usize>,
        source: Option<&str>,
    ) -> Self {
        let source_line = source.and_then(|text| {
            line.checked_sub(1)
                .and_then(|index| text.lines().nth(index))
                .map(str::to_owned)
        });
        self.location = Some(Box::new(Location {
            file: file.into(),
            line,
            column,
            source_line,
        }));
        self
    }

    /// Attach a file without a line.
    #[must_use]
    pub fn in_file(mut self, file: impl Into<PathBuf>) -> Self {
        if self.location.is_none() {
            self.location = Some(Box::new(Location {
                file: file.into(),
                line: 0,
                column: None,
                source_line: None,
            }));
        }
        self
    }

    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Make file paths relative to `root` so messages read the same everywhere.
    #[must_use]
    pub fn relative_to(mut self, root: &Path) -> Self {
        if let Some(location) = &mut self.location
            && let Ok(relative) = location.file.strip_prefix(root)
        {
            location.file = relative.to_path_buf();
        }
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error[{}]: {}", self.kind.code(), self.message)?;
        if let Some(location) = &self.location {
            let file = location.file.display();
            match (location.line, location.column) {
                (0, _) => write!(f, "\n  --> {file}")?,
                (line, None) => write!(f, "\n  --> {file}:{line}")?,
                (line, Some(column)) => write!(f, "\n  --> {file}:{line}:{column}")?,
            }
            if let Some(text) = &location.source_line {
                let number = location.line.to_string();
                let pad = " ".repeat(number.len());
                write!(f, "\n {pad} |\n {number} | {text}")?;
                if let Some(column) = location.column {
                    let offset: String = text
                        .chars()
                        .take(column.saturating_sub(1))
                        .map(|c| if c == '\t' { '\t' } else { ' ' })
                        .collect();
                    write!(f, "\n {pad} | {offset}^")?;
                }
            }
        }
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// An error of the whole tool: which phase failed decides the exit code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The project, a profile or the command line is wrong (exit 2).
    #[error("{0}")]
    Project(Diagnostic),
    /// A model, test or load failed while running (exit 1).
    #[error("{0}")]
    Execution(Diagnostic),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Project(_) => 2,
            Self::Execution(_) => 1,
        }
    }
}

impl From<Diagnostic> for Error {
    fn from(diagnostic: Diagnostic) -> Self {
        Self::Project(diagnostic)
    }
}

/// An I/O failure on a named file, as a diagnostic.
pub fn io_error(path: &Path, action: &str, source: &std::io::Error) -> Diagnostic {
    Diagnostic::new(
        DiagnosticKind::Io,
        format!("could not {action} `{}`: {source}", path.display()),
    )
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_location_line_caret_and_hint() {
        let diagnostic = Diagnostic::new(
            DiagnosticKind::UnknownRef,
            "model `a` refers to `evnts`, which does not exist",
        )
        .at(
            "models/a.sql",
            2,
            Some(15),
            Some("select 1\nselect * from {{ ref('evnts') }}\n"),
        )
        .hint("did you mean `events`?");
        insta::assert_snapshot!(diagnostic.to_string(), @r"
        error[ref]: model `a` refers to `evnts`, which does not exist
          --> models/a.sql:2:15
           |
         2 | select * from {{ ref('evnts') }}
           |               ^
        hint: did you mean `events`?
        ");
    }
}
