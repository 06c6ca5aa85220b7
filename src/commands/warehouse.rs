//! Opening the target's warehouse for a command, with a `hint:` fitting what went wrong.

use crate::adapters::duckdb::{Access, DuckDbAdapter, LOCK_WAIT};
use crate::adapters::snowflake::SnowflakeAdapter;
use crate::adapters::{Adapter, AdapterErrorKind};
use crate::error::{Diagnostic, DiagnosticKind, Error, Result};
use crate::project::profiles::{DuckDbTarget, SnowflakeTarget, Target, Warehouse};

/// Open the DuckDB database of a target, with a hint fitting what went wrong.
pub fn open_duckdb(target: &Target, duck: &DuckDbTarget, access: Access) -> Result<DuckDbAdapter> {
    DuckDbAdapter::open(duck, target.s3.as_ref(), LOCK_WAIT, access).map_err(|err| {
        let hint = match err.kind {
            AdapterErrorKind::Locked => {
                "wait for the other ghforge (or DuckDB) process to finish, or point the profile's `path` elsewhere"
            }
            AdapterErrorKind::Other => {
                "check the target's `path`, `settings`, `extensions` and `s3` in profiles.yml; DuckDB reaches `s3://` through httpfs, which loads by itself online (offline, list the path of `httpfs.duckdb_extension` under `extensions:`)"
            }
        };
        Error::Execution(Diagnostic::new(DiagnosticKind::Execution, err.message).hint(hint))
    })
}

pub fn open_adapter(target: &Target, access: Access) -> Result<Box<dyn Adapter>> {
    match &target.warehouse {
        Warehouse::DuckDb(duck) => {
            open_duckdb(target, duck, access).map(|a| Box::new(a) as Box<dyn Adapter>)
        }
        Warehouse::Snowflake(snowflake) => {
            open_snowflake(target, snowflake).map(|a| Box::new(a) as Box<dyn Adapter>)
        }
    }
}

/// Log in to a Snowflake target, with a hint naming what to check.
pub fn open_snowflake(target: &Target, snowflake: &SnowflakeTarget) -> Result<SnowflakeAdapter> {
    SnowflakeAdapter::open(target, snowflake).map_err(|err| {
        Error::Execution(
            Diagnostic::new(DiagnosticKind::Execution, err.message).hint(format!(
                "check `account`, `user`, `password` or `private_key_path` (and `private_key_passphrase`), `role`, `warehouse`, `database` and `endpoint` of target `{}` in profiles.yml (`ghforge debug` tests the login)",
                target.name
            )),
        )
    })
}
