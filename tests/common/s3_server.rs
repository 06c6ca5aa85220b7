//! A real S3 server on loopback for the tests: moto_server, started through
//! `scripts/s3-emulator.sh` (which installs it in its own venv on first use), plus the path of
//! DuckDB's httpfs extension file so models can read and write `s3://` offline.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub const KEY_ID: &str = "ghforge-test-key";
pub const SECRET: &str = "s3cr3t-never-logged-4242";

pub struct S3Server {
    pub port: u16,
    child: Child,
}

fn script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/s3-emulator.sh")
}

impl S3Server {
    /// Start a server on a free port (or `port`), waiting until it answers.
    pub fn start(port: Option<u16>) -> Self {
        let mut command = Command::new(script());
        if let Some(port) = port {
            command.args(["--port", &port.to_string()]);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start scripts/s3-emulator.sh");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the port");
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("no port in `{line}`"));
        Self { port, child }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Create a bucket (moto takes unsigned requests).
    pub fn create_bucket(&self, bucket: &str) {
        let response = reqwest::blocking::Client::new()
            .put(format!("{}/{bucket}", self.endpoint()))
            .send()
            .expect("create bucket");
        assert!(response.status().is_success(), "{response:?}");
    }

    /// Stop the server; its buckets are gone with it (moto keeps them in memory).
    pub fn stop(mut self) -> u16 {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.port
    }

    /// The `s3:` block and httpfs extension of a DuckDB output reaching this server.
    pub fn profile(&self, profile: &str) -> String {
        format!(
            "{profile}:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: ghforge.duckdb\n      extensions: ['{httpfs}']\n      s3:\n        endpoint: {endpoint}\n        region: us-east-1\n        access_key_id: {KEY_ID}\n        secret_access_key: \"{{{{ env_var('TEST_S3_SECRET') }}}}\"\n",
            httpfs = httpfs(),
            endpoint = self.endpoint(),
        )
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The path of `httpfs.duckdb_extension` (DuckDB 1.5.5) from the emulator's venv.
pub fn httpfs() -> String {
    let output = Command::new(script())
        .arg("--httpfs")
        .output()
        .expect("scripts/s3-emulator.sh --httpfs");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}
