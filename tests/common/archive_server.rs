//! A GH Archive stand-in on loopback for load tests: serves the hour files of a folder over
//! HTTP/1.1 and injects faults per file on request (an error status, a slow answer, a body cut
//! short), counting the requests each file gets.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the next request for a file gets instead of the file.
#[derive(Debug, Clone)]
pub enum Fault {
    /// An empty answer with this status (404, 500, 503...).
    Status(u16),
    /// The file, after this long a silence.
    Slow(Duration),
    /// The full `Content-Length`, then half the body, then the connection closes.
    CutShort,
}

#[derive(Default)]
struct State {
    faults: HashMap<String, VecDeque<Fault>>,
    requests: HashMap<String, usize>,
}

pub struct ArchiveServer {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl ArchiveServer {
    /// Serve the files of `dir` on an ephemeral loopback port, until the test process ends.
    pub fn start(dir: &Path) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let state = Arc::new(Mutex::new(State::default()));
        let dir = dir.to_path_buf();
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let dir = dir.clone();
                let state = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, &dir, &state));
            }
        });
        Self { url, state }
    }

    /// The next requests for `file` get `faults`, in order; later ones get the file.
    pub fn inject(&self, file: &str, faults: &[Fault]) {
        self.state
            .lock()
            .expect("state")
            .faults
            .entry(file.to_owned())
            .or_default()
            .extend(faults.iter().cloned());
    }

    /// How many requests `file` got.
    pub fn requests(&self, file: &str) -> usize {
        let state = self.state.lock().expect("state");
        state.requests.get(file).copied().unwrap_or(0)
    }
}

fn serve(stream: TcpStream, dir: &Path, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // Skip the headers.
    let mut header = String::new();
    while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
        header.clear();
    }
    let file = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .trim_start_matches('/')
        .to_owned();
    let fault = {
        let mut state = state.lock().expect("state");
        *state.requests.entry(file.clone()).or_default() += 1;
        state.faults.get_mut(&file).and_then(VecDeque::pop_front)
    };
    let mut stream = stream;
    let path: PathBuf = dir.join(&file);
    let body = std::fs::read(&path).ok();
    let _ = match (fault, body) {
        (Some(Fault::Status(code)), _) => answer(&mut stream, code, b""),
        (_, None) => answer(&mut stream, 404, b"Not Found"),
        (Some(Fault::Slow(pause)), Some(body)) => {
            std::thread::sleep(pause);
            answer(&mut stream, 200, &body)
        }
        (Some(Fault::CutShort), Some(body)) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream
                .write_all(head.as_bytes())
                .and_then(|()| stream.write_all(&body[..body.len() / 2]))
        }
        (None, Some(body)) => answer(&mut stream, 200, &body),
    };
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

fn answer(stream: &mut TcpStream, code: u16, body: &[u8]) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {code} Status\r\nContent-Type: application/gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)
}
