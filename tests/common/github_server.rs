//! A GitHub Events API stand-in on loopback for `load --live` tests: `GET /events?per_page=&page=`
//! over a timeline the test moves on between polls (newest first), with an ETag per timeline
//! state (a matching `If-None-Match` gets a 304), `X-Poll-Interval`, rate-limit headers, and
//! faults on request (a status, a secondary limit with `Retry-After`, exhausted rate limit).
//! Every request is recorded with its time and headers.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What the next request gets instead of its page.
#[derive(Debug, Clone)]
pub enum Fault {
    /// An empty answer with this status (500, 502...).
    Status(u16),
    /// 403 with `Retry-After: seconds` (a secondary rate limit).
    SecondaryLimit(u64),
    /// The page, with `X-RateLimit-Remaining: 0` and a reset this many seconds ahead.
    Exhausted(u64),
}

/// One request the server answered.
#[derive(Debug, Clone)]
pub struct Request {
    pub at: Instant,
    pub path: String,
    /// Header lines as received, lower-case names.
    pub headers: Vec<(String, String)>,
    pub status: u16,
}

#[derive(Default)]
struct State {
    /// Newest first, as the API lists them.
    timeline: Vec<String>,
    /// Bumped whenever the timeline changes; the ETag is derived from it.
    version: u64,
    poll_interval: u64,
    /// `owner/name` → the repository's JSON (`None`: gone, a 404).
    repos: std::collections::HashMap<String, Option<String>>,
    faults: VecDeque<Fault>,
    requests: Vec<Request>,
}

pub struct GithubServer {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl GithubServer {
    /// Serve on an ephemeral loopback port until the test process ends.
    pub fn start(poll_interval: u64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let state = Arc::new(Mutex::new(State {
            poll_interval,
            ..State::default()
        }));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Self { url, state }
    }

    /// New events happen: `events` (JSON objects, oldest first) go on top of the timeline.
    pub fn publish(&self, events: &[String]) {
        let mut state = self.state.lock().expect("state");
        for event in events {
            state.timeline.insert(0, event.clone());
        }
        state.version += 1;
    }

    /// `GET /repos/{name}` answers `body` (`None`: 404), with an ETag of its contents.
    pub fn repo(&self, name: &str, body: Option<&str>) {
        self.state
            .lock()
            .expect("state")
            .repos
            .insert(name.to_owned(), body.map(str::to_owned));
    }

    /// The next requests get `faults`, in order.
    pub fn inject(&self, faults: &[Fault]) {
        self.state
            .lock()
            .expect("state")
            .faults
            .extend(faults.iter().cloned());
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().expect("state").requests.clone()
    }
}

/// A well-formed Events API event.
pub fn event(id: u64, created_at: &str, repo: &str) -> String {
    serde_json::json!({
        "id": id.to_string(),
        "type": "WatchEvent",
        "actor": {"id": 1000 + id % 7, "login": format!("user{}", id % 7), "url": "https://api.github.com/users/x"},
        "repo": {"id": 500 + id % 3, "name": repo, "url": format!("https://api.github.com/repos/{repo}")},
        "payload": {"action": "started"},
        "public": true,
        "created_at": created_at,
    })
    .to_string()
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut headers = Vec::new();
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        if let Some((name, value)) = line.trim_end().split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
        line.clear();
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let query = |name: &str| -> Option<usize> {
        path.split_once('?')?
            .1
            .split('&')
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")))?
            .parse()
            .ok()
    };
    let (per_page, page) = (query("per_page").unwrap_or(30), query("page").unwrap_or(1));
    let mut state = state.lock().expect("state");
    let etag = format!("\"v{}-p{page}\"", state.version);
    let if_none_match = headers
        .iter()
        .find(|(name, _)| name == "if-none-match")
        .map(|(_, value)| value.clone());
    let fault = state.faults.pop_front();
    let reset = |ahead: u64| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs()
            + ahead
    };
    let common = format!("X-Poll-Interval: {}\r\n", state.poll_interval);
    let (status, extra, body) = match fault {
        Some(Fault::Status(code)) => (code, String::new(), String::new()),
        Some(Fault::SecondaryLimit(seconds)) => (
            403,
            format!("Retry-After: {seconds}\r\n"),
            r#"{"message":"You have exceeded a secondary rate limit."}"#.to_owned(),
        ),
        other if path.starts_with("/repos/") => {
            match state.repos.get(&path["/repos/".len()..]).cloned().flatten() {
                None => (404, String::new(), r#"{"message":"Not Found"}"#.to_owned()),
                Some(body) => {
                    let etag = format!("\"r{}\"", body.len());
                    if if_none_match.as_deref() == Some(etag.as_str()) {
                        (304, limit_headers(&other, reset), String::new())
                    } else {
                        let headers = format!("ETag: {etag}\r\n{}", limit_headers(&other, reset));
                        (200, headers, body)
                    }
                }
            }
        }
        _ if path.split('?').next() != Some("/events") => (404, String::new(), String::new()),
        other if if_none_match.as_deref() == Some(etag.as_str()) => {
            (304, limit_headers(&other, reset), String::new())
        }
        other => {
            let start = (page - 1) * per_page;
            let items: Vec<&String> = state.timeline.iter().skip(start).take(per_page).collect();
            let body = format!(
                "[{}]",
                items
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let headers = format!("ETag: {etag}\r\n{}", limit_headers(&other, reset));
            (200, headers, body)
        }
    };
    state.requests.push(Request {
        at: Instant::now(),
        path: path.clone(),
        headers,
        status,
    });
    drop(state);
    let mut stream = stream;
    let head = format!(
        "HTTP/1.1 {status} Status\r\nContent-Type: application/json\r\n{common}{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()));
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

fn limit_headers(fault: &Option<Fault>, reset: impl Fn(u64) -> u64) -> String {
    match fault {
        Some(Fault::Exhausted(ahead)) => format!(
            "X-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: {}\r\n",
            reset(*ahead)
        ),
        _ => format!(
            "X-RateLimit-Remaining: 4999\r\nX-RateLimit-Reset: {}\r\n",
            reset(3600)
        ),
    }
}
