//! The Snowflake emulator of a test binary: fakesnow behind `tests/support/snowflake_server.py`,
//! started once by `scripts/snowflake-emulator.sh` on a free port; each test works in a
//! database of its own.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use ghforge::adapters::Adapter;
use ghforge::adapters::snowflake::SnowflakeAdapter;
use ghforge::project::profiles::{SnowflakeTarget, Target, Warehouse};

/// The emulator of this test binary. Its stdin stays open while the process lives; the server
/// stops when it closes (`--exit-on-stdin-eof`), even if a test panics.
struct Emulator {
    port: u16,
    _process: Mutex<(Child, ChildStdin)>,
}

/// The emulator's port, starting it on first use.
pub fn port() -> u16 {
    static EMULATOR: OnceLock<Emulator> = OnceLock::new();
    EMULATOR
        .get_or_init(|| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR"));
            let log = std::env::temp_dir().join(format!(
                "ghforge-snowflake-emulator-{}.log",
                std::process::id()
            ));
            let mut child = Command::new(root.join("scripts/snowflake-emulator.sh"))
                .arg("--exit-on-stdin-eof")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(std::fs::File::create(&log).expect("emulator log"))
                .spawn()
                .expect("start scripts/snowflake-emulator.sh");
            let stdin = child.stdin.take().expect("stdin");
            let mut line = String::new();
            std::io::BufReader::new(child.stdout.take().expect("stdout"))
                .read_line(&mut line)
                .expect("read the port");
            let port = line.trim().parse().unwrap_or_else(|_| {
                panic!(
                    "the emulator printed `{}` instead of its port; its log:\n{}",
                    line.trim(),
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            });
            Emulator {
                port,
                _process: Mutex::new((child, stdin)),
            }
        })
        .port
}

/// A session on `database` through the library's adapter (password login).
pub fn session(database: &str, password: &str) -> Box<dyn ghforge::adapters::Session> {
    let snowflake = SnowflakeTarget {
        account: "ghforge-test".to_owned(),
        user: "ghforge".to_owned(),
        password: Some(serde_json::from_value(serde_json::Value::from(password)).expect("secret")),
        private_key_path: None,
        private_key_passphrase: None,
        role: Some("SYSADMIN".to_owned()),
        warehouse: Some("WH".to_owned()),
        query_tag: None,
        endpoint: Some(format!("http://127.0.0.1:{}", port())),
    };
    let target = Target {
        profile_name: "tests".to_owned(),
        name: "dev".to_owned(),
        database: database.to_owned(),
        schema: "PUBLIC".to_owned(),
        threads: 1,
        warehouse: Warehouse::Snowflake(snowflake.clone()),
        s3: None,
        profiles_path: None,
    };
    SnowflakeAdapter::open(&target, &snowflake)
        .expect("login")
        .session()
        .expect("session")
}
