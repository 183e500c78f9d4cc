//! The load generator of `bench/run.sh`: signs in like the real clients do, then drives one hot
//! path of the API at a fixed concurrency for a fixed time (after a warm-up) and prints JSON:
//! operations, throughput, p50 / p90 / p99 / max latency, errors by status and the 5xx count.
//!
//! ```text
//! cargo run --release --example load -- --url http://127.0.0.1:8080 --scenario submit \
//!     --concurrency 16 --duration 10 --warmup 2
//! ```
//!
//! Scenarios (one operation each):
//! - `submit`: a department system creates a draft for one of its unit's assignments, for a
//!   period that has none, then submits it (`POST /assignments/{id}/reports`, then
//!   `POST /reports/{id}/submit` with the draft's ETag): two requests;
//! - `assignments`: the first page of the unit's assignments (`GET /assignments?limit=50`);
//! - `report`: one of the unit's reports by id, picked at random (`GET /reports/{id}`);
//! - `overdue`: the office's overdue page (`GET /overdue?limit=50`);
//! - `stats`: the office's per-unit statistics (`GET /stats/units`);
//! - `login`: password sign-ins at full rate by `--concurrency` clients while `--me-clients`
//!   clients time `GET /me`; first `GET /me` alone, for comparison. With `--pid` the server's
//!   RSS is read from /proc every 100 ms (idle before, max during, 5 s after).
//!
//! Department systems are the service accounts `<unit-prefix>1` … `<unit-prefix>N` (client
//! credentials), the office is a coordinator signing in with a password; both secrets come from
//! the environment variable named by `--password-env`. Client `i` acts for account `i mod N`.
//! Submitted periods are monthly periods from `--period-year` on (far from any generated
//! history, so none has a report): each client walks its own sequence, so no two collide.
//!
//! Each of `--threads` OS threads runs its own actix runtime with its share of the clients, each
//! client its own keep-alive connection, so that the generator is not the bottleneck.
//!
//! `--capture LOG` makes a few operations untimed, then one more request by request, waiting
//! for PostgreSQL's log (`LOG`) to settle around each, and prints each request's byte range in
//! that log with the ids it used: `bench/loadbench.py` turns them into pgbench scripts.

use awc::http::header;
use clap::{Parser, ValueEnum};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Submit,
    Assignments,
    Report,
    Overdue,
    Stats,
    Login,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Submit => "submit",
            Scenario::Assignments => "assignments",
            Scenario::Report => "report",
            Scenario::Overdue => "overdue",
            Scenario::Stats => "stats",
            Scenario::Login => "login",
        }
    }

    fn by_unit(self) -> bool {
        matches!(
            self,
            Scenario::Submit | Scenario::Assignments | Scenario::Report
        )
    }
}

/// Load generator for duban's hot paths (see the module documentation).
#[derive(Parser, Clone, Debug)]
struct Args {
    /// The server's base URL (loopback).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// What to drive.
    #[arg(long, value_enum)]
    scenario: Scenario,
    /// Concurrent clients (for `login`: clients signing in).
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Seconds measured, after the warm-up.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of warm-up, not measured.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// OS threads, each with its own runtime.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// The office's coordinator account (password sign-in).
    #[arg(long, default_value = "bench-office")]
    office: String,
    /// Service accounts are named this followed by 1, 2, …
    #[arg(long, default_value = "bench-unit-")]
    unit_prefix: String,
    /// How many service accounts to use (at most one per client).
    #[arg(long, default_value_t = 64)]
    units: usize,
    /// The environment variable holding the accounts' password / client secret.
    #[arg(long, default_value = "DUBAN_BENCH_PASSWORD")]
    password_env: String,
    /// First year of the periods `submit` writes.
    #[arg(long, default_value_t = 2100)]
    period_year: i32,
    /// Restrict `overdue` and `stats` to this plan.
    #[arg(long)]
    plan: Option<i64>,
    /// The server's process id, to sample its RSS (`login`).
    #[arg(long)]
    pid: Option<u32>,
    /// Clients timing `GET /me` during `login`.
    #[arg(long, default_value_t = 2)]
    me_clients: usize,
    /// PostgreSQL's log file: capture one operation's requests instead of timing.
    #[arg(long)]
    capture: Option<PathBuf>,
    /// Untimed operations before the captured one.
    #[arg(long, default_value_t = 3)]
    capture_warm: usize,
}

/// What a client acts as.
#[derive(Clone, Debug)]
struct Account {
    name: String,
    token: String,
    unit_id: Option<i64>,
    assignments: Vec<i64>,
    reports: Vec<i64>,
}

/// The outcome of one HTTP request.
struct Reply {
    status: u16,
    etag: Option<String>,
    body: Vec<u8>,
}

type Http = awc::Client;

fn client() -> Http {
    awc::Client::builder()
        .timeout(Duration::from_secs(120))
        .finish()
}

async fn send(
    http: &Http,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
    if_match: Option<&str>,
) -> Result<Reply, String> {
    let mut req = http.request(method.parse().expect("method"), url);
    if let Some(t) = token {
        req = req.insert_header((header::AUTHORIZATION, format!("Bearer {t}")));
    }
    if let Some(m) = if_match {
        req = req.insert_header((header::IF_MATCH, m.to_owned()));
    }
    let res = match body {
        Some(b) => req.send_json(b).await,
        None => req.send().await,
    };
    let mut res = res.map_err(|e| format!("{method} {url}: {e}"))?;
    let status = res.status().as_u16();
    let etag = res
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = res
        .body()
        .limit(64 << 20)
        .await
        .map_err(|e| format!("{method} {url}: reading the body: {e}"))?
        .to_vec();
    Ok(Reply { status, etag, body })
}

fn json_of(r: &Reply) -> Value {
    serde_json::from_slice(&r.body).unwrap_or(Value::Null)
}

fn fail(what: &str, r: &Reply) -> String {
    format!(
        "{what}: HTTP {}: {}",
        r.status,
        String::from_utf8_lossy(&r.body[..r.body.len().min(400)])
    )
}

async fn password_login(http: &Http, base: &str, user: &str, pw: &str) -> Result<String, String> {
    let body = json!({"username": user, "password": pw});
    let r = send(
        http,
        "POST",
        &format!("{base}/api/v1/auth/login"),
        None,
        Some(&body),
        None,
    )
    .await?;
    if r.status != 200 {
        return Err(fail(&format!("sign-in of {user}"), &r));
    }
    token_of(&r)
}

fn token_of(r: &Reply) -> Result<String, String> {
    json_of(r)["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "no access_token in the token response".to_owned())
}

async fn client_credentials(
    http: &Http,
    base: &str,
    user: &str,
    secret: &str,
) -> Result<String, String> {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", user),
        ("client_secret", secret),
    ];
    let mut res = http
        .post(format!("{base}/api/v1/auth/token"))
        .send_form(&form)
        .await
        .map_err(|e| format!("token of {user}: {e}"))?;
    let status = res.status().as_u16();
    let body = res
        .body()
        .await
        .map_err(|e| format!("token of {user}: {e}"))?
        .to_vec();
    let r = Reply {
        status,
        etag: None,
        body,
    };
    if status != 200 {
        return Err(fail(&format!("client credentials of {user}"), &r));
    }
    token_of(&r)
}

/// Every id of a keyset-paged list, up to `pages` pages of 200.
async fn ids(
    http: &Http,
    base: &str,
    path: &str,
    token: &str,
    pages: usize,
) -> Result<Vec<i64>, String> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..pages {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut url = format!("{base}{path}{sep}limit=200");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let r = send(http, "GET", &url, Some(token), None, None).await?;
        if r.status != 200 {
            return Err(fail(path, &r));
        }
        let v = json_of(&r);
        out.extend(
            v["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i["id"].as_i64()),
        );
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    Ok(out)
}

/// Signs in the accounts the scenario needs and reads what they will ask for.
async fn setup(args: &Args, pw: &str) -> Result<(Option<Account>, Vec<Account>), String> {
    let http = client();
    let base = args.url.as_str();
    if !args.scenario.by_unit() {
        let token = password_login(&http, base, &args.office, pw).await?;
        let office = Account {
            name: args.office.clone(),
            token,
            unit_id: None,
            assignments: vec![],
            reports: vec![],
        };
        return Ok((Some(office), vec![]));
    }
    let n = args.units.min(args.concurrency).max(1);
    let mut units = Vec::with_capacity(n);
    for k in 1..=n {
        let name = format!("{}{k}", args.unit_prefix);
        let token = client_credentials(&http, base, &name, pw).await?;
        let me = send(
            &http,
            "GET",
            &format!("{base}/api/v1/me"),
            Some(&token),
            None,
            None,
        )
        .await?;
        if me.status != 200 {
            return Err(fail("GET /me", &me));
        }
        let unit_id = json_of(&me)["unit_id"].as_i64();
        let assignments = match args.scenario {
            Scenario::Submit => ids(&http, base, "/api/v1/assignments", &token, 5).await?,
            _ => vec![],
        };
        let reports = match args.scenario {
            Scenario::Report => ids(&http, base, "/api/v1/reports", &token, 5).await?,
            _ => vec![],
        };
        if args.scenario == Scenario::Submit && assignments.is_empty() {
            return Err(format!("{name} sees no assignment to report on"));
        }
        if args.scenario == Scenario::Report && reports.is_empty() {
            return Err(format!("{name} has no report to read (run submit first)"));
        }
        units.push(Account {
            name,
            token,
            unit_id,
            assignments,
            reports,
        });
    }
    Ok((None, units))
}

/// One client's state: who it is and where it is in its sequence.
struct Client {
    http: Http,
    base: String,
    scenario: Scenario,
    account: Arc<Account>,
    /// The `submit` sequence: this client's rank among the clients sharing its account, and how
    /// many share one at most.
    rank: u64,
    stride: u64,
    next: u64,
    period_year: i32,
    plan: Option<i64>,
    office_password: String,
    rng: StdRng,
}

/// What an operation used, for the capture.
#[derive(Default, Debug)]
struct Used {
    assignment: Option<i64>,
    report: Option<i64>,
    period: Option<String>,
}

/// A request of an operation, as the capture sees it.
#[derive(Debug)]
struct Step {
    method: &'static str,
    path: String,
    body: Option<Value>,
    if_match: Option<String>,
}

impl Client {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The next (assignment, period) of this client's own sequence.
    fn next_slot(&mut self) -> (i64, String) {
        let list = &self.account.assignments;
        let s = self.next;
        self.next += 1;
        let a = list[(s % list.len() as u64) as usize];
        let p = (s / list.len() as u64) * self.stride + self.rank;
        let year = self.period_year as u64 + p / 12;
        assert!(year <= 9999, "ran out of periods: lower --period-year");
        (a, format!("{year:04}-{:02}", p % 12 + 1))
    }

    /// The first request of an operation (and, for `submit`, what the second depends on).
    fn first(&mut self, used: &mut Used) -> Step {
        let limit_plan = self.plan.map(|p| format!("&plan={p}")).unwrap_or_default();
        match self.scenario {
            Scenario::Submit => {
                let (a, period) = self.next_slot();
                used.assignment = Some(a);
                used.period = Some(period.clone());
                Step {
                    method: "POST",
                    path: format!("/api/v1/assignments/{a}/reports"),
                    body: Some(json!({
                        "period": period,
                        "status": "in_progress",
                        "narrative": "按计划推进，已组织专项检查并完善制度台账，相关材料已归档。",
                        "problems": "基层执法力量不足。",
                        "next_steps": "持续推进并按时报送进展。",
                    })),
                    if_match: None,
                }
            }
            Scenario::Assignments => Step {
                method: "GET",
                path: "/api/v1/assignments?limit=50".into(),
                body: None,
                if_match: None,
            },
            Scenario::Report => {
                let list = &self.account.reports;
                let r = list[self.rng.gen_range(0..list.len())];
                used.report = Some(r);
                Step {
                    method: "GET",
                    path: format!("/api/v1/reports/{r}"),
                    body: None,
                    if_match: None,
                }
            }
            Scenario::Overdue => Step {
                method: "GET",
                path: format!("/api/v1/overdue?limit=50{limit_plan}"),
                body: None,
                if_match: None,
            },
            Scenario::Stats => Step {
                method: "GET",
                path: match self.plan {
                    Some(p) => format!("/api/v1/stats/units?plan={p}"),
                    None => "/api/v1/stats/units".into(),
                },
                body: None,
                if_match: None,
            },
            Scenario::Login => Step {
                method: "POST",
                path: "/api/v1/auth/login".into(),
                body: Some(
                    json!({"username": self.account.name, "password": self.office_password}),
                ),
                if_match: None,
            },
        }
    }

    async fn send_step(&self, step: &Step) -> Result<Reply, String> {
        let token = match self.scenario {
            Scenario::Login => None,
            _ => Some(self.account.token.as_str()),
        };
        send(
            &self.http,
            step.method,
            &self.url(&step.path),
            token,
            step.body.as_ref(),
            step.if_match.as_deref(),
        )
        .await
    }

    /// The second request of `submit`, after the draft was created.
    fn second(created: &Reply, used: &mut Used) -> Option<Step> {
        let id = json_of(created)["id"].as_i64()?;
        used.report = Some(id);
        Some(Step {
            method: "POST",
            path: format!("/api/v1/reports/{id}/submit"),
            body: None,
            if_match: created.etag.clone(),
        })
    }

    /// One operation; the statuses of its requests (a transport error is status 0).
    async fn op(&mut self) -> Vec<u16> {
        let mut used = Used::default();
        let step = self.first(&mut used);
        let first = match self.send_step(&step).await {
            Ok(r) => r,
            Err(_) => return vec![0],
        };
        if self.scenario != Scenario::Submit || first.status != 201 {
            return vec![first.status];
        }
        match Self::second(&first, &mut used) {
            Some(next) => match self.send_step(&next).await {
                Ok(r) => vec![first.status, r.status],
                Err(_) => vec![first.status, 0],
            },
            None => vec![first.status, 0],
        }
    }
}

/// Latencies and statuses of one client over one run.
#[derive(Default)]
struct Tally {
    micros: Vec<u64>,
    requests: u64,
    errors: BTreeMap<String, u64>,
    ok_ops: u64,
}

impl Tally {
    fn merge(&mut self, o: Tally) {
        self.micros.extend(o.micros);
        self.requests += o.requests;
        self.ok_ops += o.ok_ops;
        for (k, v) in o.errors {
            *self.errors.entry(k).or_default() += v;
        }
    }
}

fn ok(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Runs `client` until `end`, counting the operations that start in `[from, end)`.
async fn drive(mut client: Client, from: Instant, end: Instant) -> Tally {
    let mut t = Tally::default();
    loop {
        let start = Instant::now();
        if start >= end {
            break;
        }
        let statuses = client.op().await;
        if start < from {
            continue;
        }
        let elapsed = start.elapsed().as_micros() as u64;
        t.micros.push(elapsed);
        t.requests += statuses.len() as u64;
        let mut all_ok = true;
        for s in statuses {
            if !ok(s) {
                all_ok = false;
                let key = if s == 0 {
                    "io".to_owned()
                } else {
                    s.to_string()
                };
                *t.errors.entry(key).or_default() += 1;
            }
        }
        if all_ok {
            t.ok_ops += 1;
        }
    }
    t
}

fn pct(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)] as f64 / 1000.0
}

fn summary(mut t: Tally, seconds: f64) -> Value {
    t.micros.sort_unstable();
    let five_xx: u64 = t
        .errors
        .iter()
        .filter(|(k, _)| k.starts_with('5'))
        .map(|(_, v)| v)
        .sum();
    let ops = t.micros.len() as u64;
    let round = |x: f64| (x * 1000.0).round() / 1000.0;
    json!({
        "ops": ops,
        "ok_ops": t.ok_ops,
        "requests": t.requests,
        "seconds": seconds,
        "throughput": round(ops as f64 / seconds),
        "requests_per_s": round(t.requests as f64 / seconds),
        "p50_ms": round(pct(&t.micros, 50.0)),
        "p90_ms": round(pct(&t.micros, 90.0)),
        "p99_ms": round(pct(&t.micros, 99.0)),
        "max_ms": round(t.micros.last().copied().unwrap_or(0) as f64 / 1000.0),
        "errors": t.errors,
        "error_count": t.errors.values().sum::<u64>(),
        "five_xx": five_xx,
    })
}

/// A recipe for a client, built on its thread (an awc client is not `Send`).
#[derive(Clone)]
struct Spec {
    scenario: Scenario,
    account: Arc<Account>,
    rank: u64,
    stride: u64,
    seed: u64,
}

fn build(args: &Args, pw: &str, s: &Spec) -> Client {
    Client {
        http: client(),
        base: args.url.clone(),
        scenario: s.scenario,
        account: s.account.clone(),
        rank: s.rank,
        stride: s.stride,
        next: 0,
        period_year: args.period_year,
        plan: args.plan,
        office_password: pw.to_owned(),
        rng: StdRng::seed_from_u64(s.seed),
    }
}

/// Runs the clients over `threads` OS threads; one tally per group (by the spec's scenario).
fn run_clients(
    args: &Args,
    pw: &str,
    specs: Vec<Spec>,
    warmup: f64,
    duration: f64,
) -> BTreeMap<&'static str, Tally> {
    let threads = args.threads.max(1).min(specs.len().max(1));
    let start = Instant::now() + Duration::from_millis(200);
    let from = start + Duration::from_secs_f64(warmup);
    let end = from + Duration::from_secs_f64(duration);
    let mut handles = Vec::new();
    for t in 0..threads {
        let mine: Vec<Spec> = specs.iter().skip(t).step_by(threads).cloned().collect();
        let args = args.clone();
        let pw = pw.to_owned();
        handles.push(std::thread::spawn(move || {
            actix_rt::System::new().block_on(async move {
                let mut joins = Vec::new();
                for s in mine {
                    let c = build(&args, &pw, &s);
                    let name = s.scenario.name();
                    joins.push((
                        name,
                        actix_rt::spawn(async move {
                            actix_rt::time::sleep_until(start.into()).await;
                            drive(c, from, end).await
                        }),
                    ));
                }
                let mut out: Vec<(&'static str, Tally)> = Vec::new();
                for (name, j) in joins {
                    out.push((name, j.await.expect("client task")));
                }
                out
            })
        }));
    }
    let mut merged: BTreeMap<&'static str, Tally> = BTreeMap::new();
    for h in handles {
        for (name, t) in h.join().expect("client thread") {
            merged.entry(name).or_default().merge(t);
        }
    }
    merged
}

fn rss_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// Samples the RSS every 100 ms until told to stop; returns the maximum.
fn sampler(pid: u32, stop: Arc<AtomicBool>, max: Arc<AtomicU64>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            if let Some(kb) = rss_kb(pid) {
                max.fetch_max(kb, Ordering::Relaxed);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    })
}

fn unit_specs(args: &Args, units: &[Account]) -> Vec<Spec> {
    let n = units.len();
    let stride = args.concurrency.div_ceil(n) as u64;
    let accounts: Vec<Arc<Account>> = units.iter().cloned().map(Arc::new).collect();
    (0..args.concurrency)
        .map(|i| Spec {
            scenario: args.scenario,
            account: accounts[i % n].clone(),
            rank: (i / n) as u64,
            stride,
            seed: 0x5eed ^ i as u64,
        })
        .collect()
}

fn timed(args: &Args, pw: &str, office: Option<Account>, units: Vec<Account>) -> Value {
    let base = json!({
        "scenario": args.scenario.name(),
        "concurrency": args.concurrency,
        "threads": args.threads,
        "warmup_s": args.warmup,
        "duration_s": args.duration,
    });
    let mut out = base.as_object().cloned().expect("object");
    match args.scenario {
        Scenario::Login => {
            let office = Arc::new(office.expect("office account"));
            let me = |i: usize| Spec {
                scenario: Scenario::Login,
                account: office.clone(),
                rank: 0,
                stride: 1,
                seed: i as u64,
            };
            let me_specs: Vec<Spec> = (0..args.me_clients.max(1)).map(me).collect();
            let idle = args.pid.and_then(rss_kb);
            // Phase 1: GET /me alone.
            let alone = run_me(
                args,
                pw,
                me_specs.clone(),
                vec![],
                args.warmup,
                args.duration / 2.0,
            );
            // Phase 2: sign-ins at full rate beside GET /me, RSS sampled.
            let stop = Arc::new(AtomicBool::new(false));
            let max = Arc::new(AtomicU64::new(0));
            let sampling = args.pid.map(|pid| sampler(pid, stop.clone(), max.clone()));
            let logins: Vec<Spec> = (0..args.concurrency)
                .map(|i| Spec {
                    scenario: Scenario::Login,
                    account: office.clone(),
                    rank: 0,
                    stride: 1,
                    seed: 1000 + i as u64,
                })
                .collect();
            let during = run_me(args, pw, me_specs, logins, args.warmup, args.duration);
            stop.store(true, Ordering::Relaxed);
            if let Some(h) = sampling {
                h.join().expect("sampler");
            }
            std::thread::sleep(Duration::from_secs(5));
            let after = args.pid.and_then(rss_kb);
            let mut during = during;
            out.insert("me_clients".into(), json!(args.me_clients.max(1)));
            out.insert(
                "me_alone".into(),
                summary(
                    alone.into_values().next().unwrap_or_default(),
                    args.duration / 2.0,
                ),
            );
            out.insert(
                "logins".into(),
                summary(during.remove("login").unwrap_or_default(), args.duration),
            );
            out.insert(
                "me_during".into(),
                summary(during.remove("me").unwrap_or_default(), args.duration),
            );
            out.insert(
                "rss_kb".into(),
                json!({"idle_before": idle, "max_during": args.pid.map(|_| max.load(Ordering::Relaxed)), "after_5s": after}),
            );
        }
        _ => {
            let specs = match office {
                Some(o) => {
                    let o = Arc::new(o);
                    (0..args.concurrency)
                        .map(|i| Spec {
                            scenario: args.scenario,
                            account: o.clone(),
                            rank: 0,
                            stride: 1,
                            seed: i as u64,
                        })
                        .collect()
                }
                None => unit_specs(args, &units),
            };
            let mut t = run_clients(args, pw, specs, args.warmup, args.duration);
            let s = summary(
                t.remove(args.scenario.name()).unwrap_or_default(),
                args.duration,
            );
            for (k, v) in s.as_object().expect("object") {
                out.insert(k.clone(), v.clone());
            }
            out.insert("accounts".into(), json!(units.len().max(1)));
        }
    }
    Value::Object(out)
}

/// `GET /me` clients (and, when given, sign-in clients) over the threads.
fn run_me(
    args: &Args,
    pw: &str,
    me: Vec<Spec>,
    logins: Vec<Spec>,
    warmup: f64,
    duration: f64,
) -> BTreeMap<&'static str, Tally> {
    let threads = args.threads.max(1);
    let start = Instant::now() + Duration::from_millis(200);
    let from = start + Duration::from_secs_f64(warmup);
    let end = from + Duration::from_secs_f64(duration);
    let mut handles = Vec::new();
    for t in 0..threads {
        let my_me: Vec<Spec> = me.iter().skip(t).step_by(threads).cloned().collect();
        let my_login: Vec<Spec> = logins.iter().skip(t).step_by(threads).cloned().collect();
        let args = args.clone();
        let pw = pw.to_owned();
        handles.push(std::thread::spawn(move || {
            actix_rt::System::new().block_on(async move {
                let mut joins = Vec::new();
                for s in my_me {
                    let http = client();
                    let url = format!("{}/api/v1/me", args.url);
                    let token = s.account.token.clone();
                    joins.push((
                        "me",
                        actix_rt::spawn(async move {
                            actix_rt::time::sleep_until(start.into()).await;
                            drive_me(&http, &url, &token, from, end).await
                        }),
                    ));
                }
                for s in my_login {
                    let c = build(&args, &pw, &s);
                    joins.push((
                        "login",
                        actix_rt::spawn(async move {
                            actix_rt::time::sleep_until(start.into()).await;
                            drive(c, from, end).await
                        }),
                    ));
                }
                let mut out = Vec::new();
                for (name, j) in joins {
                    out.push((name, j.await.expect("client task")));
                }
                out
            })
        }));
    }
    let mut merged: BTreeMap<&'static str, Tally> = BTreeMap::new();
    for h in handles {
        for (name, t) in h.join().expect("client thread") {
            merged.entry(name).or_default().merge(t);
        }
    }
    merged
}

async fn drive_me(http: &Http, url: &str, token: &str, from: Instant, end: Instant) -> Tally {
    let mut t = Tally::default();
    loop {
        let start = Instant::now();
        if start >= end {
            break;
        }
        let status = match send(http, "GET", url, Some(token), None, None).await {
            Ok(r) => r.status,
            Err(_) => 0,
        };
        if start < from {
            continue;
        }
        t.micros.push(start.elapsed().as_micros() as u64);
        t.requests += 1;
        if ok(status) {
            t.ok_ops += 1;
        } else {
            let key = if status == 0 {
                "io".to_owned()
            } else {
                status.to_string()
            };
            *t.errors.entry(key).or_default() += 1;
        }
    }
    t
}

fn log_size(path: &PathBuf) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Waits until the log has not grown for 400 ms (at most 10 s); its size then.
fn settle(path: &PathBuf) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut size = log_size(path);
    let mut since = Instant::now();
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        let now = log_size(path);
        if now != size {
            size = now;
            since = Instant::now();
        } else if since.elapsed() >= Duration::from_millis(400) {
            break;
        }
    }
    size
}

async fn capture(
    args: &Args,
    pw: &str,
    office: Option<Account>,
    units: Vec<Account>,
    log: &PathBuf,
) -> Result<Value, String> {
    let spec = match office {
        Some(o) => Spec {
            scenario: args.scenario,
            account: Arc::new(o),
            rank: 0,
            stride: 1,
            seed: 7,
        },
        None => unit_specs(args, &units).remove(0),
    };
    let mut c = build(args, pw, &spec);
    for _ in 0..args.capture_warm {
        let statuses = c.op().await;
        if let Some(s) = statuses.iter().find(|s| !ok(**s)) {
            return Err(format!("a warm-up operation answered {s}"));
        }
    }
    let mut used = Used::default();
    let mut steps = Vec::new();
    let mut step = Some(c.first(&mut used));
    while let Some(s) = step.take() {
        let from = settle(log);
        let r = c.send_step(&s).await?;
        let to = settle(log);
        if !ok(r.status) {
            return Err(fail(&s.path, &r));
        }
        steps.push(json!({"method": s.method, "path": s.path, "status": r.status, "log_from": from, "log_to": to}));
        if args.scenario == Scenario::Submit && steps.len() == 1 {
            step = Client::second(&r, &mut used);
        }
    }
    Ok(json!({
        "scenario": args.scenario.name(),
        "requests": steps,
        "account": spec.account.name,
        "vars": {
            "unit": spec.account.unit_id,
            "assignment": used.assignment,
            "report": used.report,
            "period": used.period,
        },
    }))
}

fn main() {
    let args = Args::parse();
    let pw = match std::env::var(&args.password_env) {
        Ok(p) if !p.is_empty() => p,
        _ => {
            eprintln!("set {} to the bench accounts' password", args.password_env);
            std::process::exit(2);
        }
    };
    let setup_args = args.clone();
    let setup_pw = pw.clone();
    let started = Instant::now();
    let (office, units) = match actix_rt::System::new()
        .block_on(async move { setup(&setup_args, &setup_pw).await })
    {
        Ok(x) => x,
        Err(e) => {
            eprintln!("setup failed: {e}");
            std::process::exit(1);
        }
    };
    let setup_s = started.elapsed().as_secs_f64();
    let out = match &args.capture {
        Some(log) => {
            let (a, p, l) = (args.clone(), pw.clone(), log.clone());
            match actix_rt::System::new()
                .block_on(async move { capture(&a, &p, office, units, &l).await })
            {
                Ok(v) => v,
                Err(e) => {
                    eprintln!("capture failed: {e}");
                    std::process::exit(1);
                }
            }
        }
        None => {
            let mut v = timed(&args, &pw, office, units);
            v["setup_s"] = json!((setup_s * 10.0).round() / 10.0);
            v
        }
    };
    println!("{}", serde_json::to_string_pretty(&out).expect("json"));
}
