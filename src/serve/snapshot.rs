//! An open serving snapshot: its file opened read-only, what it holds, and a small pool of
//! connections (`try_clone` of the first) that requests borrow on blocking threads.
//! [`Current`] holds the snapshot requests start on; [`watch`] swaps in a newer file within a
//! second of its appearance, while requests in flight finish on the one they started on (they
//! hold an `Arc` of it; its connections close when the last one ends).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use duckdb::{AccessMode, Config, Connection};

/// How often the snapshot folder is looked at.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// Connections kept open per snapshot between requests.
const POOL_SIZE: usize = 8;

/// A snapshot that cannot be opened or read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot open snapshot `{}`: {source}", path.display())]
    Open {
        path: PathBuf,
        source: duckdb::Error,
    },
    #[error("snapshot `{}` has no `_ghforge.snapshot` table: {source}", path.display())]
    NotASnapshot {
        path: PathBuf,
        source: duckdb::Error,
    },
    #[error("query failed: {0}")]
    Query(#[from] duckdb::Error),
}

/// Which run a snapshot comes from and how fresh its data is.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SnapshotInfo {
    /// The invocation id of the run that published it (also the API's `ETag`).
    pub invocation_id: String,
    /// The command that published it (`run`, `build`, `publish`).
    pub command: String,
    /// When the run started (UTC).
    pub generated_at: String,
    /// When the snapshot was written (UTC).
    pub published_at: String,
    /// The latest event time in the data (UTC); the API's windows end there.
    pub latest_created_at: Option<String>,
    /// The latest hour the loader's ledger has as loaded (UTC).
    pub latest_loaded_hour: Option<String>,
    /// `latest_created_at` at full precision, as the window queries bind it.
    #[serde(skip)]
    pub as_of: Option<String>,
}

/// An open snapshot file.
pub struct Snapshot {
    pub path: PathBuf,
    pub info: SnapshotInfo,
    /// `schema.table` of every table in the snapshot.
    tables: BTreeSet<String>,
    root: Mutex<Connection>,
    pool: Mutex<Vec<Connection>>,
}

/// `strftime` format of the API's timestamps.
pub const ISO: &str = "%Y-%m-%dT%H:%M:%SZ";

impl Snapshot {
    pub fn open(path: &Path) -> Result<Self, SnapshotError> {
        let open_error = |source| SnapshotError::Open {
            path: path.to_path_buf(),
            source,
        };
        let config = Config::default()
            .access_mode(AccessMode::ReadOnly)
            .map_err(open_error)?;
        let connection = Connection::open_with_flags(path, config).map_err(open_error)?;
        let info = read_info(&connection).map_err(|source| SnapshotError::NotASnapshot {
            path: path.to_path_buf(),
            source,
        })?;
        let mut statement = connection.prepare(
            "select schema_name || '.' || table_name from duckdb_tables() where database_name = current_database()",
        )?;
        let tables = statement
            .query_map([], |row| row.get::<_, String>(0))?
            .collect::<Result<BTreeSet<_>, _>>()?;
        drop(statement);
        Ok(Self {
            path: path.to_path_buf(),
            info,
            tables,
            root: Mutex::new(connection),
            pool: Mutex::new(Vec::new()),
        })
    }

    /// Whether the snapshot holds `schema.table`.
    pub fn has(&self, table: &str) -> bool {
        self.tables.contains(table)
    }

    /// Run `work` on a pooled connection (call from a blocking thread).
    pub fn with_connection<T>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, duckdb::Error>,
    ) -> Result<T, SnapshotError> {
        let pooled = self
            .pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let connection = match pooled {
            Some(connection) => connection,
            None => self
                .root
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .try_clone()?,
        };
        let result = work(&connection);
        let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        if pool.len() < POOL_SIZE {
            pool.push(connection);
        }
        Ok(result?)
    }
}

fn read_info(connection: &Connection) -> Result<SnapshotInfo, duckdb::Error> {
    let sql = format!(
        "select invocation_id, command, strftime(generated_at, '{ISO}'), strftime(published_at, '{ISO}'), \
         strftime(latest_created_at, '{ISO}'), strftime(latest_loaded_hour, '{ISO}'), \
         strftime(latest_created_at, '%Y-%m-%d %H:%M:%S.%f') from _ghforge.snapshot"
    );
    connection.query_row(&sql, [], |row| {
        Ok(SnapshotInfo {
            invocation_id: row.get(0)?,
            command: row.get(1)?,
            generated_at: row.get(2)?,
            published_at: row.get(3)?,
            latest_created_at: row.get(4)?,
            latest_loaded_hour: row.get(5)?,
            as_of: row.get(6)?,
        })
    })
}

/// The snapshot new requests start on.
pub struct Current {
    snapshot: RwLock<Arc<Snapshot>>,
}

impl Current {
    pub fn new(snapshot: Snapshot) -> Self {
        Self {
            snapshot: RwLock::new(Arc::new(snapshot)),
        }
    }

    pub fn get(&self) -> Arc<Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn replace(&self, snapshot: Snapshot) {
        *self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(snapshot);
    }
}

/// Poll `<target-path>/serve/` and switch `current` to each newer snapshot (run it as a task
/// that ends with the server). A snapshot that cannot be opened is reported once and skipped.
pub async fn watch(target_dir: PathBuf, current: Arc<Current>, console: crate::console::Console) {
    let mut refused: Option<PathBuf> = None;
    loop {
        tokio::time::sleep(POLL_INTERVAL).await;
        let newest = match super::newest_snapshot(&target_dir) {
            Ok(Some(newest)) => newest,
            Ok(None) => continue,
            Err(err) => {
                console.warn(
                    "ServeSnapshotSwitch",
                    &format!("cannot list snapshots: {err}"),
                );
                continue;
            }
        };
        if newest == current.get().path || refused.as_ref() == Some(&newest) {
            continue;
        }
        let path = newest.clone();
        match tokio::task::spawn_blocking(move || Snapshot::open(&path)).await {
            Ok(Ok(snapshot)) => {
                console.info(
                    "ServeSnapshotSwitch",
                    &format!(
                        "Serving snapshot `{}` (invocation {})",
                        file_name(&snapshot.path),
                        snapshot.info.invocation_id
                    ),
                    serde_json::json!({"invocation_id": snapshot.info.invocation_id}),
                );
                current.replace(snapshot);
            }
            Ok(Err(err)) => {
                console.warn(
                    "ServeSnapshotSwitch",
                    &format!("{err}; still serving the previous one"),
                );
                refused = Some(newest);
            }
            Err(err) => console.warn(
                "ServeSnapshotSwitch",
                &format!("opening a snapshot failed: {err}"),
            ),
        }
    }
}

pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
