//! A realistic, deterministic GitHub Archive generator: hour files named and shaped like the
//! real ones (gzipped NDJSON), the real type mix, payloads of both eras (full before
//! 2025-10-07, trimmed after), power-law activity over actors, repos and orgs, bots, pull
//! requests opened in one hour and closed or merged in a later one, and faults on request:
//! byte-identical duplicates (also across hours), malformed lines and lines over 100 KB.
//! The same seed and options give the same bytes.

use std::collections::{BTreeSet, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

use super::hours::Hour;

/// Payload shape: GitHub trimmed payloads on 2025-10-07.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Era {
    /// Full payloads (history before 2025-10-07).
    Full,
    /// Trimmed payloads (from 2025-10-07).
    Trimmed,
}

/// Faults the generator can inject, as the real archive has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Fault {
    /// Byte-identical duplicate lines, in the same hour and the next.
    Dupes,
    /// Truncated JSON, NUL bytes, two objects on one line, invalid UTF-8, missing fields.
    Malformed,
    /// Issue comments with bodies over 100 KB.
    HugeLines,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    pub events_per_hour: usize,
    /// `None`: by date, as the real archive.
    pub era: Option<Era>,
    pub seed: u64,
    pub faults: BTreeSet<Fault>,
}

/// What one generated hour file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourFile {
    pub hour: Hour,
    pub path: PathBuf,
    /// Distinct events.
    pub events: usize,
    /// Lines in the file (events, duplicates and malformed lines).
    pub lines: usize,
    pub duplicates: usize,
    pub malformed: usize,
    pub bytes: u64,
}

/// Deterministic pseudo-random numbers (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A power-law pick: low indices are much more likely (a few very active actors/repos).
    fn skewed(&mut self, n: usize) -> usize {
        ((self.unit().powi(3)) * n as f64) as usize % n.max(1)
    }

    fn hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from(b"0123456789abcdef"[self.below(16)]))
            .collect()
    }
}

struct Actor {
    id: u64,
    login: String,
}

struct Repo {
    id: u64,
    name: String,
    org: Option<usize>,
    language: &'static str,
}

struct Org {
    id: u64,
    login: String,
}

struct PullRequest {
    id: u64,
    number: u64,
    repo: usize,
    author: usize,
    created_at: DateTime<Utc>,
}

/// The simulated world: who acts on what, and which pull requests are open.
struct World {
    rng: Rng,
    actors: Vec<Actor>,
    repos: Vec<Repo>,
    orgs: Vec<Org>,
    open_prs: VecDeque<PullRequest>,
    next_event_id: u64,
    next_object_id: u64,
}

/// The type mix of real hours (distinct events), in percent.
const TYPE_MIX: [(&str, f64); 16] = [
    ("PushEvent", 57.0),
    ("CreateEvent", 10.0),
    ("PullRequestEvent", 7.5),
    ("WatchEvent", 5.0),
    ("IssueCommentEvent", 5.0),
    ("DeleteEvent", 3.0),
    ("IssuesEvent", 3.0),
    ("PullRequestReviewEvent", 2.5),
    ("PullRequestReviewCommentEvent", 1.5),
    ("ForkEvent", 1.5),
    ("ReleaseEvent", 1.0),
    ("PublicEvent", 0.6),
    ("MemberEvent", 0.5),
    ("GollumEvent", 0.5),
    ("CommitCommentEvent", 0.4),
    ("DiscussionEvent", 1.0),
];

const BOT_LOGINS: [&str; 6] = [
    "dependabot[bot]",
    "github-actions[bot]",
    "renovate",
    "dependabot-preview",
    "pyup-bot",
    "copilot",
];
const LANGUAGES: [&str; 8] = [
    "Rust",
    "Python",
    "TypeScript",
    "Go",
    "Java",
    "C++",
    "Ruby",
    "Shell",
];

impl World {
    fn new(seed: u64, events_per_hour: usize) -> Self {
        let mut rng = Rng(seed ^ 0x0067_6866_6f72_6765);
        let actor_count = (events_per_hour * 2).clamp(200, 200_000);
        let repo_count = (events_per_hour * 3 / 2).clamp(150, 150_000);
        let orgs: Vec<Org> = (0..(repo_count / 20).max(10))
            .map(|i| Org {
                id: 9_000_000 + i as u64,
                login: format!("org-{i:04}"),
            })
            .collect();
        let actors = (0..actor_count)
            .map(|i| {
                // About one actor in eight is a bot; the busiest bots come first, as in real data.
                let login = if i < BOT_LOGINS.len() {
                    BOT_LOGINS[i].to_owned()
                } else if rng.chance(0.08) {
                    format!("auto-{i}[bot]")
                } else {
                    format!("dev-{i:05}")
                };
                Actor {
                    id: 1_000_000 + i as u64,
                    login,
                }
            })
            .collect();
        let repos = (0..repo_count)
            .map(|i| {
                let org = rng.chance(0.2).then(|| rng.below(orgs.len()));
                let owner = org.map_or_else(
                    || format!("dev-{:05}", rng.below(actor_count)),
                    |o| orgs[o].login.clone(),
                );
                Repo {
                    id: 500_000_000 + i as u64,
                    name: format!("{owner}/project-{i:05}"),
                    org,
                    language: LANGUAGES[rng.below(LANGUAGES.len())],
                }
            })
            .collect();
        Self {
            rng,
            actors,
            repos,
            orgs,
            open_prs: VecDeque::new(),
            next_event_id: 40_000_000_000,
            next_object_id: 3_000_000_000,
        }
    }

    fn object_id(&mut self) -> u64 {
        self.next_object_id += 1 + self.rng.below(7) as u64;
        self.next_object_id
    }

    fn pick_type(&mut self) -> &'static str {
        let total: f64 = TYPE_MIX.iter().map(|(_, w)| w).sum();
        let mut point = self.rng.unit() * total;
        for (kind, weight) in TYPE_MIX {
            if point < weight {
                return kind;
            }
            point -= weight;
        }
        "PushEvent"
    }

    fn actor_json(&self, actor: usize) -> Value {
        let a = &self.actors[actor];
        json!({
            "id": a.id,
            "login": a.login,
            "display_login": a.login,
            "gravatar_id": "",
            "url": format!("https://api.github.com/users/{}", a.login),
            "avatar_url": format!("https://avatars.githubusercontent.com/u/{}?", a.id),
        })
    }

    fn user_json(&self, actor: usize) -> Value {
        let a = &self.actors[actor];
        json!({"login": a.login, "id": a.id, "type": if a.login.ends_with("[bot]") { "Bot" } else { "User" }})
    }

    /// One event at `at`, as a JSON line.
    fn event(&mut self, at: DateTime<Utc>, era: Era, huge: bool) -> String {
        let kind = if huge {
            "IssueCommentEvent"
        } else {
            self.pick_type()
        };
        let actor = self.rng.skewed(self.actors.len());
        let mut repo = self.rng.skewed(self.repos.len());
        let full = era == Era::Full;
        let mut payload = match kind {
            "PushEvent" => {
                let size = 1 + self.rng.skewed(30);
                let mut payload = json!({
                    "repository_id": self.repos[repo].id,
                    "push_id": self.object_id() * 10,
                    "ref": "refs/heads/main",
                    "head": self.rng.hex(40),
                    "before": self.rng.hex(40),
                });
                if full {
                    let commits: Vec<Value> = (0..size.min(20))
                        .map(|i| {
                            json!({
                                "sha": self.rng.hex(40),
                                "author": {"email": format!("{}@users.noreply.github.com", self.rng.hex(40)), "name": self.actors[actor].login},
                                "message": format!("Update module {i}"),
                                "distinct": true,
                                "url": format!("https://api.github.com/repos/{}/commits/{}", self.repos[repo].name, self.rng.hex(40)),
                            })
                        })
                        .collect();
                    payload["size"] = json!(size);
                    payload["distinct_size"] = json!(size);
                    payload["commits"] = json!(commits);
                }
                payload
            }
            "PullRequestEvent" => {
                let close = !self.open_prs.is_empty() && self.rng.chance(0.45);
                if close {
                    let pr = self.open_prs.pop_front().unwrap_or(PullRequest {
                        id: 0,
                        number: 0,
                        repo,
                        author: actor,
                        created_at: at,
                    });
                    repo = pr.repo;
                    let merged = self.rng.chance(0.7);
                    if full {
                        json!({
                            "action": "closed",
                            "number": pr.number,
                            "pull_request": {
                                "id": pr.id, "number": pr.number, "state": "closed",
                                "title": format!("Change {}", pr.number),
                                "user": self.user_json(pr.author),
                                "created_at": ts(pr.created_at), "closed_at": ts(at),
                                "merged": merged, "merged_at": if merged { json!(ts(at)) } else { Value::Null },
                                "additions": 1 + self.rng.below(400), "deletions": self.rng.below(200),
                                "changed_files": 1 + self.rng.below(20), "commits": 1 + self.rng.below(8),
                                "draft": false, "author_association": "CONTRIBUTOR",
                                "base": {"repo": {"id": self.repos[repo].id, "language": self.repos[repo].language}},
                            },
                        })
                    } else {
                        json!({
                            "action": if merged { "merged" } else { "closed" },
                            "number": pr.number,
                            "pull_request": self.trimmed_pr(&pr),
                        })
                    }
                } else {
                    let pr = PullRequest {
                        id: self.object_id(),
                        number: 1 + self.rng.below(5000) as u64,
                        repo,
                        author: actor,
                        created_at: at,
                    };
                    let payload = if full {
                        json!({
                            "action": "opened",
                            "number": pr.number,
                            "pull_request": {
                                "id": pr.id, "number": pr.number, "state": "open",
                                "title": format!("Change {}", pr.number), "user": self.user_json(actor),
                                "created_at": ts(at), "closed_at": null, "merged": false, "merged_at": null,
                                "additions": 1 + self.rng.below(400), "deletions": self.rng.below(200),
                                "changed_files": 1 + self.rng.below(20), "commits": 1 + self.rng.below(8),
                                "draft": self.rng.chance(0.1), "author_association": "CONTRIBUTOR",
                                "base": {"repo": {"id": self.repos[repo].id, "language": self.repos[repo].language}},
                            },
                        })
                    } else {
                        json!({"action": "opened", "number": pr.number, "pull_request": self.trimmed_pr(&pr)})
                    };
                    self.open_prs.push_back(pr);
                    payload
                }
            }
            "IssueCommentEvent" => {
                let body = if huge {
                    "This log is long. ".repeat(7_000)
                } else {
                    format!("Thanks! See #{}", self.rng.below(900))
                };
                let mut comment = json!({"id": self.object_id(), "user": self.user_json(actor), "body": body, "created_at": ts(at)});
                if full {
                    comment["author_association"] = json!("MEMBER");
                }
                json!({
                    "action": "created",
                    "issue": {"id": self.object_id(), "number": 1 + self.rng.below(3000), "title": "Crash on start", "state": "open"},
                    "comment": comment,
                })
            }
            "IssuesEvent" => json!({
                "action": if self.rng.chance(0.6) { "opened" } else { "closed" },
                "issue": {"id": self.object_id(), "number": 1 + self.rng.below(3000), "title": "Crash on start",
                          "state": "open", "user": self.user_json(actor), "labels": [], "created_at": ts(at)},
            }),
            "CreateEvent" => {
                let ref_type = ["branch", "branch", "tag", "repository"][self.rng.below(4)];
                json!({
                    "ref": format!("feature-{}", self.rng.below(999)),
                    "ref_type": ref_type,
                    "master_branch": "main", "description": null, "pusher_type": "user",
                })
            }
            "DeleteEvent" => {
                json!({"ref": format!("feature-{}", self.rng.below(999)), "ref_type": "branch", "pusher_type": "user"})
            }
            "WatchEvent" => json!({"action": "started"}),
            "ForkEvent" => {
                json!({"forkee": {"id": self.object_id(), "name": "fork", "full_name": format!("{}/fork", self.actors[actor].login), "owner": self.user_json(actor)}})
            }
            "PullRequestReviewEvent" => json!({
                "action": "created",
                "review": {"id": self.object_id(), "user": self.user_json(actor), "state": "approved", "submitted_at": ts(at)},
                "pull_request": {"id": self.object_id(), "number": 1 + self.rng.below(5000)},
            }),
            "PullRequestReviewCommentEvent" => json!({
                "action": "created",
                "comment": {"id": self.object_id(), "user": self.user_json(actor), "path": "src/lib.rs",
                            "pull_request_review_id": self.object_id(), "created_at": ts(at), "body": "nit"},
                "pull_request": {"id": self.object_id(), "number": 1 + self.rng.below(5000)},
            }),
            "ReleaseEvent" => json!({
                "action": "published",
                "release": {"tag_name": format!("v1.{}.0", self.rng.below(40)), "name": "Release", "draft": false,
                            "prerelease": self.rng.chance(0.1), "published_at": ts(at), "author": self.user_json(actor)},
            }),
            "GollumEvent" => {
                json!({"pages": [{"page_name": "Home", "title": "Home", "action": "edited"}]})
            }
            "MemberEvent" => {
                let member = self.rng.below(self.actors.len());
                json!({"action": "added", "member": self.user_json(member)})
            }
            "CommitCommentEvent" => {
                json!({"comment": {"id": self.object_id(), "body": "Nice", "commit_id": self.rng.hex(40)}})
            }
            "DiscussionEvent" => {
                json!({"action": "created", "discussion": {"id": self.object_id(), "number": 1 + self.rng.below(500), "title": "Ideas"}})
            }
            _ => json!({}),
        };
        if !full && let Some(object) = payload.as_object_mut() {
            object.remove("author_association");
        }
        self.next_event_id += 1 + self.rng.below(3) as u64;
        let mut event = json!({
            "id": self.next_event_id.to_string(),
            "type": kind,
            "actor": self.actor_json(actor),
            "repo": {"id": self.repos[repo].id, "name": self.repos[repo].name,
                     "url": format!("https://api.github.com/repos/{}", self.repos[repo].name)},
            "payload": payload,
            "public": true,
            "created_at": ts(at),
        });
        if let Some(org) = self.repos[repo].org {
            let org = &self.orgs[org];
            event["org"] = json!({"id": org.id, "login": org.login, "gravatar_id": "",
                                  "url": format!("https://api.github.com/orgs/{}", org.login),
                                  "avatar_url": format!("https://avatars.githubusercontent.com/u/{}?", org.id)});
        }
        event.to_string()
    }

    fn trimmed_pr(&mut self, pr: &PullRequest) -> Value {
        json!({
            "url": format!("https://api.github.com/repos/{}/pulls/{}", self.repos[pr.repo].name, pr.number),
            "id": pr.id,
            "number": pr.number,
            "head": {"ref": "feature", "sha": self.rng.hex(40)},
            "base": {"ref": "main", "sha": self.rng.hex(40)},
        })
    }
}

fn ts(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Write hour files from `from` to `to` into `out`; returns what each file holds.
pub fn generate(
    from: Hour,
    to: Hour,
    out: &Path,
    options: &Options,
) -> std::io::Result<Vec<HourFile>> {
    std::fs::create_dir_all(out)?;
    let mut world = World::new(options.seed, options.events_per_hour);
    let dupes = options.faults.contains(&Fault::Dupes);
    let malformed = options.faults.contains(&Fault::Malformed);
    let huge = options.faults.contains(&Fault::HugeLines);
    let mut carried: Option<Vec<u8>> = None;
    let mut files = Vec::new();
    for hour in Hour::range(from, to) {
        let era = options.era.unwrap_or(if hour.is_trimmed_era() {
            Era::Trimmed
        } else {
            Era::Full
        });
        let mut lines: Vec<Vec<u8>> = Vec::with_capacity(options.events_per_hour + 16);
        let mut duplicates = 0;
        // A duplicate of the previous hour's last event, as polling crawlers produce.
        if let Some(line) = carried.take() {
            lines.push(line);
            duplicates += 1;
        }
        let step = 3600.0 / options.events_per_hour.max(1) as f64;
        for index in 0..options.events_per_hour {
            let at = hour.start() + Duration::seconds((index as f64 * step) as i64);
            let is_huge = huge && index % (options.events_per_hour / 2).max(1) == 1;
            let line = world.event(at, era, is_huge).into_bytes();
            if dupes && world.rng.chance(0.01) {
                lines.push(line.clone());
                duplicates += 1;
            }
            lines.push(line);
        }
        if dupes {
            carried = lines.last().cloned();
        }
        let mut bad = 0;
        if malformed && !lines.is_empty() {
            let sample = lines[lines.len() / 2].clone();
            let bad_lines: Vec<Vec<u8>> = vec![
                sample[..sample.len() / 2].to_vec(),
                [b"{\"id\":\"1\",\0\0\"type\":\"PushEvent\"}".as_slice()].concat(),
                [sample.as_slice(), sample.as_slice()].concat(),
                [b"{\"id\":\"2\",\"type\":\"Push\xff\xfeEvent\"}".as_slice()].concat(),
                format!(
                    "{{\"id\":\"{}\",\"type\":\"PushEvent\"}}",
                    world.next_event_id + 7
                )
                .into_bytes(),
            ];
            for (offset, line) in bad_lines.into_iter().enumerate() {
                let position = (lines.len() * (offset + 1)) / 6;
                lines.insert(position, line);
                bad += 1;
            }
        }
        let path = out.join(hour.file_name());
        let temporary = out.join(format!(".{}.part", hour.file_name()));
        let mut encoder = GzEncoder::new(std::fs::File::create(&temporary)?, Compression::fast());
        for line in &lines {
            encoder.write_all(line)?;
            encoder.write_all(b"\n")?;
        }
        encoder.finish()?.sync_all()?;
        std::fs::rename(&temporary, &path)?;
        files.push(HourFile {
            hour,
            bytes: std::fs::metadata(&path)?.len(),
            path,
            events: options.events_per_hour,
            lines: lines.len(),
            duplicates,
            malformed: bad,
        });
    }
    Ok(files)
}
