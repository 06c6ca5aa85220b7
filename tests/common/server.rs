//! A `ghforge serve` process on a free loopback port for the serve tests: started with
//! `--port 0`, its URL read from the "Listening on" line, stopped (SIGTERM) when dropped.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct Server {
    pub child: Child,
    pub url: String,
    /// Lines the server printed after "Listening on".
    pub lines: mpsc::Receiver<String>,
}

pub fn ghforge_command(project: &Path) -> Command {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("ghforge"));
    command
        .current_dir(project)
        .env_remove("GHFORGE_PROFILES_DIR")
        .env_remove("GHFORGE_PROJECT_DIR")
        .env("HOME", project.join(".no-home"))
        .env("NO_COLOR", "1");
    command
}

impl Server {
    /// Start `ghforge serve --port 0` in `project` and wait until it listens.
    pub fn start(project: &Path) -> Server {
        let mut child = ghforge_command(project)
            .args(["serve", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ghforge serve");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let url = loop {
            let line = receiver
                .recv_timeout(Duration::from_secs(30))
                .expect("ghforge serve prints its URL");
            if let Some(rest) = line.split("Listening on ").nth(1) {
                break rest.split_whitespace().next().expect("url").to_owned();
            }
        };
        Server {
            child,
            url,
            lines: receiver,
        }
    }

    pub fn get(&self, path: &str) -> reqwest::blocking::Response {
        client()
            .get(format!("{}{path}", self.url))
            .send()
            .expect("request")
    }

    /// GET `path`, which must answer 200 with JSON.
    pub fn json(&self, path: &str) -> serde_json::Value {
        let response = self.get(path);
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().expect("json body")
    }

    /// Send SIGTERM and wait for the exit; the process's exit code and its remaining output.
    pub fn stop(mut self) -> (Option<i32>, String) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let status = self.child.wait().expect("wait");
        let mut rest = String::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            rest.push_str(&line);
            rest.push('\n');
        }
        (status.code(), rest)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}
