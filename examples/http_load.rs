//! A small HTTP load generator for `benches/serve_vs_fastapi.sh`: N concurrent clients, each
//! with its own keep-alive connection, request one URL back to back for a fixed time; prints
//! requests/s, p50 and p99 latency and the failures.
//!
//! `cargo run --example http_load -- URL [--clients 32] [--seconds 10]`

use std::time::{Duration, Instant};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args
        .first()
        .ok_or("usage: http_load URL [--clients N] [--seconds S]")?
        .clone();
    let flag = |name: &str, default: u64| -> Result<u64, Box<dyn std::error::Error>> {
        match args.iter().position(|a| a == name) {
            Some(i) => Ok(args.get(i + 1).ok_or("missing value")?.parse()?),
            None => Ok(default),
        }
    };
    let clients = flag("--clients", 32)?;
    let seconds = flag("--seconds", 10)?;
    // Warm up: the first answers of either server include lazy work.
    let warm = reqwest::Client::new();
    for _ in 0..20 {
        warm.get(&url).send().await?.bytes().await?;
    }
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()?;
            let mut latencies = Vec::new();
            let mut failures = 0_u64;
            while Instant::now() < deadline {
                let started = Instant::now();
                match client.get(&url).send().await {
                    Ok(response) if response.status().is_success() => {
                        response.bytes().await?;
                        latencies.push(started.elapsed());
                    }
                    _ => failures += 1,
                }
            }
            Ok::<_, reqwest::Error>((latencies, failures))
        }));
    }
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut failures = 0;
    for task in tasks {
        let (mine, failed) = task.await??;
        latencies.extend(mine);
        failures += failed;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{:>10.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  requests {}  failures {failures}",
        latencies.len() as f64 / elapsed,
        at(0.50),
        at(0.99),
        latencies.len()
    );
    Ok(())
}
