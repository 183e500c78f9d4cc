//! Webhooks: a unit's subscription receives each event about its own work once, signed; the
//! office's receives every unit's; drafts emit nothing; a failing receiver is retried, then
//! the subscription is disabled and the unit told; a worker killed mid-delivery leaves the
//! delivery to another; two workers on one database deliver each event once.

use crate::fixtures::*;
use crate::helpers::*;
use duban::db::Db;
use duban::domain::webhook::{verify, EventType};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A delivery as a receiver saw it.
#[derive(Clone, Debug)]
pub struct Received {
    pub event: String,
    pub delivery: String,
    pub signature: String,
    pub body: Vec<u8>,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a delivery's body is JSON")
    }

    /// Whether the signature verifies under `secret` now.
    pub fn signed_with(&self, secret: &str) -> bool {
        verify(
            secret,
            &self.signature,
            &self.body,
            chrono::Utc::now().timestamp(),
        )
    }
}

/// How the receiver answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Status(u16),
    /// Takes the request and never answers (a receiver stuck, or a worker killed meanwhile).
    Hang,
    /// Answers 204 after this long (a slow receiver).
    After(Duration),
}

#[derive(Default)]
struct Log {
    /// Every request that arrived.
    arrived: Vec<Received>,
    /// Those answered 2xx.
    acknowledged: Vec<Received>,
    /// Requests being answered now, and the most there ever were at once.
    in_flight: usize,
    most_in_flight: usize,
}

/// An HTTP receiver on 127.0.0.1.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    log: Arc<Mutex<Log>>,
    answer: Arc<Mutex<Answer>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        Receiver::start_on("127.0.0.1").await
    }

    /// A receiver listening on `ip` (`::1` for IPv6).
    pub async fn start_on(ip: &str) -> Receiver {
        use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
        let ip: std::net::IpAddr = ip.parse().unwrap();
        let listener = TcpListener::bind((ip, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let r = Receiver {
            url: format!("http://{addr}/duban-events"),
            log: Arc::default(),
            answer: Arc::new(Mutex::new(Answer::Status(204))),
        };
        let shared = r.clone();
        let server = HttpServer::new(move || {
            let shared = shared.clone();
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let shared = shared.clone();
                async move {
                    let h = |n: &str| {
                        req.headers()
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    let got = Received {
                        event: h("Duban-Event"),
                        delivery: h("Duban-Delivery"),
                        signature: h("Duban-Signature"),
                        body: body.to_vec(),
                    };
                    let answer = *shared.answer.lock().unwrap();
                    {
                        let mut log = shared.log.lock().unwrap();
                        log.arrived.push(got.clone());
                        log.in_flight += 1;
                        log.most_in_flight = log.most_in_flight.max(log.in_flight);
                    }
                    let answer = match answer {
                        Answer::After(wait) => {
                            actix_rt::time::sleep(wait).await;
                            Answer::Status(204)
                        }
                        other => other,
                    };
                    shared.log.lock().unwrap().in_flight -= 1;
                    match answer {
                        Answer::Hang => {
                            actix_rt::time::sleep(Duration::from_secs(3600)).await;
                            HttpResponse::Ok().finish()
                        }
                        Answer::Status(s) => {
                            if s < 300 {
                                shared.log.lock().unwrap().acknowledged.push(got);
                            }
                            let status = actix_web::http::StatusCode::from_u16(s).unwrap();
                            HttpResponse::build(status).finish()
                        }
                        Answer::After(_) => unreachable!("answered above"),
                    }
                }
            }))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        actix_rt::spawn(server);
        r
    }

    pub fn answer(&self, a: Answer) {
        *self.answer.lock().unwrap() = a;
    }

    pub fn acknowledged(&self) -> Vec<Received> {
        self.log.lock().unwrap().acknowledged.clone()
    }

    pub fn arrived(&self) -> usize {
        self.log.lock().unwrap().arrived.len()
    }

    /// The most requests it was answering at once.
    pub fn most_in_flight(&self) -> usize {
        self.log.lock().unwrap().most_in_flight
    }

    /// The types acknowledged, in order.
    pub fn types(&self) -> Vec<String> {
        self.acknowledged()
            .iter()
            .map(|r| r.event.clone())
            .collect()
    }

    /// Waits until `n` deliveries were acknowledged (fails after 20 s).
    pub async fn until_acknowledged(&self, n: usize) -> Vec<Received> {
        until(|| self.acknowledged().len() >= n, "deliveries acknowledged").await;
        self.acknowledged()
    }
}

/// Polls `cond` every 20 ms for up to 20 s.
async fn until(mut cond: impl FnMut() -> bool, what: &str) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Reads a delivery log (`path`) as `token` every 20 ms until `done` holds of it; returns that
/// reading (fails after 20 s, showing the last).
async fn log_until(app: &TestApp, path: &str, token: &str, done: impl Fn(&Reply) -> bool) -> Reply {
    let start = Instant::now();
    loop {
        let log = app.get(path, token).await;
        if done(&log) {
            return log;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out reading {path}: {}",
            log.raw
        );
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Subscribes `url` as `token`'s unit (or the office); returns the id and the secret.
async fn subscribe(app: &TestApp, token: &str, url: &str, events: Value) -> (i64, String) {
    let r = app
        .post("/webhooks", token, json!({"url": url, "events": events}))
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    (r.body["id"].as_i64().unwrap(), secret)
}

/// A world whose server delivers webhooks, quickly.
async fn delivering_world() -> World {
    World::builder()
        .setting("DUBAN_WEBHOOK_WORKER", "true")
        .setting("DUBAN_WEBHOOK_POLL_MS", "50")
        .setting("DUBAN_WEBHOOK_RETRY_BASE", "1")
        .build()
        .await
}

/// Settles: gives a worker time to send anything more it (wrongly) would.
async fn settle() {
    actix_rt::time::sleep(Duration::from_millis(400)).await;
}

#[actix_rt::test]
async fn a_unit_receives_each_event_about_its_work_once_signed_and_the_office_every_units() {
    let w = delivering_world().await;
    let (app, c, m) = (&w.app, w.coord(), &w.a.manager.token);
    let (unit_hook, office_hook, other_hook) = (
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
    );
    let (_, a_secret) = subscribe(app, m, &unit_hook.url, json!(["*"])).await;
    let (_, office_secret) = subscribe(app, c, &office_hook.url, json!(["*"])).await;
    let (_, _) = subscribe(app, &w.b.manager.token, &other_hook.url, json!(["*"])).await;

    // A drafts (nothing goes out), sends, the office returns it; then urges A.
    let r = app
        .create_report(m, w.a.assignment(), &NewReport::in_progress(DRAFT_MARKER))
        .await;
    app.edit_report(m, r.id, json!({"narrative": DRAFT_MARKER}))
        .await;
    settle().await;
    assert!(unit_hook.acknowledged().is_empty(), "a draft emits nothing");
    app.submit_report(m, r.id).await;
    app.return_report(c, r.id, RETURN_REASON).await;
    let urge = app
        .post(
            "/urges",
            c,
            json!({"unit_id": w.a.id, "assignment_ids": [w.a.assignment()],
                                 "severity": "urge", "message": "请于本周内补报。"}),
        )
        .await;
    assert_eq!(urge.status, 201, "{}", urge.raw);

    let got = unit_hook.until_acknowledged(3).await;
    settle().await;
    assert_eq!(
        unit_hook.types(),
        ["report.submitted", "report.returned", "urge.issued"],
        "each event once, in order"
    );
    for d in &got {
        assert!(d.signed_with(&a_secret), "{} verifies", d.event);
        assert!(!d.signed_with(&office_secret), "only under its own secret");
        let body = d.json();
        assert_eq!(body["type"], d.event.as_str());
        assert!(body["id"].is_i64() && body["occurred_at"].is_string());
        assert_eq!(body["data"]["unit_id"], w.a.id);
        assert!(!d.delivery.is_empty());
        let text = String::from_utf8_lossy(&d.body);
        assert!(!text.contains(DRAFT_MARKER), "no report text: {text}");
    }
    assert_eq!(got[0].json()["data"]["report_id"], r.id);
    assert_eq!(got[0].json()["data"]["workflow"], "submitted");
    assert_eq!(got[1].json()["data"]["return_reason"], RETURN_REASON);
    assert_eq!(got[2].json()["data"]["urge_id"], urge.body["id"]);

    // The office received the same three; B nothing of A's.
    let office = office_hook.until_acknowledged(3).await;
    assert!(office.iter().all(|d| d.signed_with(&office_secret)));
    assert_eq!(office_hook.types(), unit_hook.types());
    assert!(
        other_hook.acknowledged().is_empty(),
        "B never gets A's events"
    );
}

#[actix_rt::test]
async fn assignments_are_announced_once_their_plan_is_published_and_not_before() {
    let w = delivering_world().await;
    let (app, c) = (&w.app, w.coord());
    let hook = Receiver::start().await;
    let (_, secret) = subscribe(
        app,
        &w.a.manager.token,
        &hook.url,
        json!(["assignment.created", "assignment.changed"]),
    )
    .await;
    let plan = app.create_plan(c, "未发布的计划", 2031).await;
    let s = app
        .create_item(
            c,
            plan,
            json!({"level": "section", "number": "一", "title": "板块"}),
        )
        .await;
    let t = app
        .create_item(
            c,
            plan,
            json!({"level": "task", "parent_id": s, "number": "1", "title": "任务。"}),
        )
        .await;
    let measure = app
        .create_item(
            c,
            plan,
            json!({"level": "measure", "parent_id": t, "number": "1", "title": "措施。"}),
        )
        .await;
    app.assign(
        c,
        measure,
        json!({"participants": {"unit_ids": [w.a.id, w.b.id]}, "due_date": "2031-12-31"}),
    )
    .await;
    settle().await;
    assert!(
        hook.acknowledged().is_empty(),
        "a draft plan's assignment is the office's alone"
    );
    let p = app
        .post(&format!("/plans/{plan}/publish"), c, json!({}))
        .await;
    assert_eq!(p.status, 200, "{}", p.raw);
    let got = hook.until_acknowledged(1).await;
    assert_eq!(got[0].event, "assignment.created");
    assert!(got[0].signed_with(&secret));
    assert_eq!(got[0].json()["data"]["plan_id"], plan);
    assert_eq!(got[0].json()["data"]["unit_id"], w.a.id);
    // A due date moved on a published plan: changed, with what it was.
    let asg = got[0].json()["data"]["assignment_id"].as_i64().unwrap();
    let r = app
        .patch(
            &format!("/assignments/{asg}"),
            c,
            json!({"due_date": "2031-11-30"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let got = hook.until_acknowledged(2).await;
    settle().await;
    assert_eq!(hook.types(), ["assignment.created", "assignment.changed"]);
    assert_eq!(got[1].json()["data"]["due_date"], "2031-11-30");
    assert_eq!(got[1].json()["data"]["before"]["due_date"], "2031-12-31");
}

#[actix_rt::test]
async fn subscriptions_are_checked_kept_by_their_unit_and_their_secret_shown_once() {
    let w = World::builder().build().await;
    let (app, m) = (&w.app, &w.a.manager.token);
    for (body, field) in [
        (
            json!({"url": "ftp://example.org/x", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "http://user:pw@example.org/x", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "https://example.org/x", "events": []}),
            "events",
        ),
        (
            json!({"url": "https://example.org/x", "events": ["report.deleted"]}),
            "events",
        ),
        (
            json!({"url": "https://example.org/x", "events": ["ping"]}),
            "events",
        ),
    ] {
        let r = app.post("/webhooks", m, body.clone()).await;
        r.assert_problem(422, "validation");
        assert_eq!(r.fields(), [field], "{body}");
    }
    // A unit subscribes to its own work only.
    let r = app
        .post(
            "/webhooks",
            m,
            json!({"url": "https://example.org/x", "events": ["*"], "covers": "all"}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.raw);
    let r = app
        .post("/webhooks", m, json!({"url": "https://ipo.example.org/duban", "events": ["*"], "description": "业务系统"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["covers"], "unit");
    assert_eq!(
        r.header("Location").unwrap(),
        format!("/api/v1/webhooks/{id}")
    );
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        r.body["events"].as_array().unwrap().len(),
        EventType::ALL.len() - 1
    );
    let read = app.get(&format!("/webhooks/{id}"), m).await;
    assert_eq!(read.status, 200);
    assert!(read.body.get("secret").is_none(), "shown once");
    assert!(!read.raw.contains(&secret));
    // Nor in the audit trail.
    let audit = app.get("/audit?limit=200", &w.admin).await;
    assert!(!audit.raw.contains(&secret), "no secret in the audit trail");
    // Another unit's manager does not see it; the office does.
    let other = app
        .get(&format!("/webhooks/{id}"), &w.b.manager.token)
        .await;
    assert_eq!(other.status, 404);
    let listed = app.get("/webhooks?count=true", &w.b.manager.token).await;
    assert_eq!(listed.body["items"], json!([]));
    assert_eq!(listed.body["total"], 0);
    assert_eq!(
        app.get(&format!("/webhooks/{id}"), w.coord()).await.status,
        200
    );
    // A new secret replaces the old.
    let rotated = app
        .post(&format!("/webhooks/{id}/secret"), m, json!({}))
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.raw);
    assert_ne!(rotated.body["secret"].as_str().unwrap(), secret);
    // Changes, then removal.
    let changed = app
        .patch(
            &format!("/webhooks/{id}"),
            m,
            json!({"events": ["report.returned"], "description": ""}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.raw);
    assert_eq!(changed.body["events"], json!(["report.returned"]));
    assert_eq!(changed.body["description"], Value::Null);
    let gone = app
        .send("DELETE", &format!("/webhooks/{id}"), Some(m), None)
        .await;
    assert_eq!(gone.status, 204, "{}", gone.raw);
    assert_eq!(app.get(&format!("/webhooks/{id}"), m).await.status, 404);
}

#[actix_rt::test]
async fn a_failing_receiver_is_retried_then_disabled_the_unit_told_and_redelivery_recovers() {
    let w = World::builder()
        .setting("DUBAN_WEBHOOK_WORKER", "true")
        .setting("DUBAN_WEBHOOK_POLL_MS", "50")
        .setting("DUBAN_WEBHOOK_RETRY_BASE", "1")
        .setting("DUBAN_WEBHOOK_MAX_ATTEMPTS", "2")
        .build()
        .await;
    let (app, m) = (&w.app, &w.a.manager.token);
    let (broken, watcher) = (Receiver::start().await, Receiver::start().await);
    broken.answer(Answer::Status(500));
    let (id, secret) = subscribe(app, m, &broken.url, json!(["*"])).await;
    let (_, watcher_secret) = subscribe(app, m, &watcher.url, json!(["webhook.disabled"])).await;
    let ping = app
        .post(&format!("/webhooks/{id}/ping"), m, json!({}))
        .await;
    assert_eq!(ping.status, 202, "{}", ping.raw);
    assert_eq!(ping.body["event_type"], "ping");
    let delivery = ping.body["id"].as_i64().unwrap();

    // Two attempts, then it gives up and disables the subscription.
    let told = watcher.until_acknowledged(1).await;
    assert_eq!(told[0].event, "webhook.disabled");
    assert!(told[0].signed_with(&watcher_secret));
    assert_eq!(told[0].json()["data"]["webhook_id"], id);
    assert_eq!(broken.arrived(), 2, "as many attempts as allowed");
    let hook = app.get(&format!("/webhooks/{id}"), m).await;
    assert_eq!(hook.body["active"], false);
    assert!(hook.body["disabled_reason"].is_string(), "{}", hook.raw);
    let log = app
        .get(&format!("/webhooks/{id}/deliveries?state=failed"), m)
        .await;
    assert_eq!(ids(&log), [delivery]);
    assert_eq!(log.body["items"][0]["attempts"], 2);
    assert_eq!(log.body["items"][0]["last_status"], 500);
    let inbox = app.get(&format!("/inbox?unit={}", w.a.id), m).await;
    assert_eq!(
        inbox.body["disabled_webhooks"][0]["id"], id,
        "{}",
        inbox.raw
    );

    // Events while disabled are not queued for it.
    let r = app
        .create_report(m, w.a.assignment(), &NewReport::in_progress("已完成。"))
        .await;
    app.submit_report(m, r.id).await;
    // Fixed: resumed, and the failed ping sent again.
    broken.answer(Answer::Status(200));
    let on = app
        .patch(&format!("/webhooks/{id}"), m, json!({"active": true}))
        .await;
    assert_eq!(on.body["active"], true);
    assert_eq!(on.body["disabled_reason"], Value::Null);
    let again = app
        .post(
            &format!("/webhooks/{id}/deliveries/{delivery}/redeliver"),
            m,
            json!({}),
        )
        .await;
    assert_eq!(again.status, 202, "{}", again.raw);
    assert_eq!(again.body["redelivery_of"], delivery);
    let got = broken.until_acknowledged(1).await;
    settle().await;
    assert_eq!(
        broken.types(),
        ["ping"],
        "only the redelivery, nothing queued while disabled"
    );
    assert!(got[0].signed_with(&secret));
    assert_eq!(got[0].json()["id"], ping.body["event_id"], "the same event");
    let inbox = app.get(&format!("/inbox?unit={}", w.a.id), m).await;
    assert_eq!(inbox.body["disabled_webhooks"], json!([]));
    // A redelivery of another subscription's delivery is not found.
    let (other, _) = subscribe(app, m, &watcher.url, json!(["*"])).await;
    let r = app
        .post(
            &format!("/webhooks/{other}/deliveries/{delivery}/redeliver"),
            m,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.raw);
}

/// Sends `n` urges to A (one `urge.issued` each).
async fn urge_a(w: &World, n: usize) {
    for i in 0..n {
        let r = w
            .app
            .post("/urges", w.coord(), json!({"unit_id": w.a.id, "assignment_ids": [w.a.assignment()],
                                              "severity": "reminder", "message": format!("第{i}次提醒。")}))
            .await;
        assert_eq!(r.status, 201, "{}", r.raw);
    }
}

/// A's manager subscribes a receiver answering as `answer`, and the office a healthy one, both
/// to `urge.issued`; returns A's receiver, its subscription's id, and the office's receiver.
async fn beside_a_healthy_one(w: &World, answer: Answer) -> (Receiver, i64, Receiver) {
    let (troubled, healthy) = (Receiver::start().await, Receiver::start().await);
    troubled.answer(answer);
    let events = json!(["urge.issued"]);
    let (id, _) = subscribe(&w.app, &w.a.manager.token, &troubled.url, events.clone()).await;
    subscribe(&w.app, w.coord(), &healthy.url, events).await;
    (troubled, id, healthy)
}

/// The event ids acknowledged, with how often each.
fn counts(r: &Receiver) -> BTreeMap<i64, usize> {
    let mut seen = BTreeMap::new();
    for d in r.acknowledged() {
        *seen.entry(d.json()["id"].as_i64().unwrap()).or_default() += 1;
    }
    seen
}

#[actix_rt::test]
async fn a_worker_killed_mid_delivery_leaves_it_to_the_next_once_its_lease_ends() {
    // The server's own worker is off: this test runs the workers.
    let w = World::builder()
        .setting("DUBAN_WEBHOOK_TIMEOUT", "1")
        .setting("DUBAN_WEBHOOK_POLL_MS", "50")
        .build()
        .await;
    let hook = Receiver::start().await;
    let (id, secret) = subscribe(
        &w.app,
        &w.a.manager.token,
        &hook.url,
        json!(["urge.issued"]),
    )
    .await;
    urge_a(&w, 1).await;
    let (db, settings) = (
        w.app.state.db.clone(),
        w.app.state.settings.webhooks.clone(),
    );
    hook.answer(Answer::Hang);
    let first = duban::jobs::webhooks::spawn(db.clone(), settings.clone(), Default::default());
    until(|| hook.arrived() == 1, "the first attempt").await;
    first.abort();
    let _ = first.await;
    hook.answer(Answer::Status(200));
    let log = w
        .app
        .get(&format!("/webhooks/{id}/deliveries"), &w.a.manager.token)
        .await;
    assert_eq!(log.body["items"][0]["state"], "delivering", "{}", log.raw);
    let second = duban::jobs::webhooks::spawn(db, settings, Default::default());
    let got = hook.until_acknowledged(1).await;
    assert!(got[0].signed_with(&secret));
    // The second worker records the answer (stopped before that, it would deliver again).
    let path = format!("/webhooks/{id}/deliveries?state=delivered");
    let log = log_until(&w.app, &path, &w.a.manager.token, |l| ids(l).len() == 1).await;
    assert_eq!(log.body["items"][0]["attempts"], 2, "{}", log.raw);
    second.abort();
    settle().await;
    assert_eq!(counts(&hook).into_values().collect::<Vec<_>>(), [1]);
}

#[actix_rt::test]
async fn two_workers_on_one_database_deliver_each_event_once_per_subscription() {
    let w = World::builder().build().await;
    let (unit_hook, office_hook) = (Receiver::start().await, Receiver::start().await);
    subscribe(
        &w.app,
        &w.a.manager.token,
        &unit_hook.url,
        json!(["urge.issued"]),
    )
    .await;
    subscribe(&w.app, w.coord(), &office_hook.url, json!(["urge.issued"])).await;
    const N: usize = 60;
    urge_a(&w, N).await;
    // Two instances: each its own connection pool to the same database, and its own worker.
    let settings = w.app.state.settings.clone();
    let other = Db::connect(&settings.database_url, 4).unwrap();
    let workers = [
        duban::jobs::webhooks::spawn(
            w.app.state.db.clone(),
            settings.webhooks.clone(),
            Default::default(),
        ),
        duban::jobs::webhooks::spawn(other, settings.webhooks.clone(), Default::default()),
    ];
    unit_hook.until_acknowledged(N).await;
    office_hook.until_acknowledged(N).await;
    settle().await;
    for w in &workers {
        w.abort();
    }
    for hook in [&unit_hook, &office_hook] {
        let seen = counts(hook);
        assert_eq!(seen.len(), N, "every event");
        assert!(seen.values().all(|n| *n == 1), "each once: {seen:?}");
        assert_eq!(
            hook.most_in_flight(),
            1,
            "one delivery at a time, by either"
        );
    }
}

#[actix_rt::test]
async fn a_receiver_that_does_not_answer_holds_up_no_other_subscription() {
    let w = World::builder()
        .setting("DUBAN_WEBHOOK_WORKER", "true")
        .setting("DUBAN_WEBHOOK_POLL_MS", "50")
        .setting("DUBAN_WEBHOOK_TIMEOUT", "1")
        .setting("DUBAN_WEBHOOK_RETRY_BASE", "60")
        .build()
        .await;
    let (stuck, stuck_id, healthy) = beside_a_healthy_one(&w, Answer::Hang).await;
    urge_a(&w, 6).await;
    healthy.until_acknowledged(6).await;
    // One attempt reached the receiver that does not answer; the rest of what the worker held
    // for it were not sent, and wait for the next try (here a minute away).
    let path = format!("/webhooks/{stuck_id}/deliveries");
    log_until(&w.app, &path, &w.a.manager.token, |log| {
        log.body["items"].as_array().unwrap().iter().any(|d| {
            d["last_error"]
                .as_str()
                .is_some_and(|e| e.starts_with("not sent"))
        })
    })
    .await;
    assert!(
        stuck.arrived() <= 3,
        "{} attempts reached it",
        stuck.arrived()
    );
}

#[actix_rt::test]
async fn a_slow_receiver_delays_only_its_own_subscription_which_gets_its_events_in_order_one_at_a_time(
) {
    let w = delivering_world().await;
    let (slow, slow_id, fast) =
        beside_a_healthy_one(&w, Answer::After(Duration::from_secs(3))).await;
    urge_a(&w, 1).await;
    fast.until_acknowledged(1).await;
    until(|| slow.arrived() == 1, "the slow receiver's first delivery").await;
    // While the slow receiver still holds the first event, the fast one gets the next ones.
    urge_a(&w, 2).await;
    fast.until_acknowledged(3).await;
    assert!(
        slow.acknowledged().is_empty(),
        "the fast receiver waited for the slow one"
    );
    assert_eq!(
        slow.arrived(),
        1,
        "a second delivery while the first is unanswered"
    );
    let got = slow.until_acknowledged(3).await;
    settle().await;
    let order: Vec<i64> = got
        .iter()
        .map(|r| r.json()["id"].as_i64().unwrap())
        .collect();
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(order, sorted, "in the order of the events");
    assert_eq!(slow.most_in_flight(), 1, "one delivery at a time");
    for hook in [&slow, &fast] {
        let seen = counts(hook);
        assert_eq!(seen.len(), 3, "every event: {seen:?}");
        assert!(seen.values().all(|n| *n == 1), "each once: {seen:?}");
    }
    let log = w
        .app
        .get(
            &format!("/webhooks/{slow_id}/deliveries?state=delivered"),
            &w.a.manager.token,
        )
        .await;
    assert_eq!(ids(&log).len(), 3, "{}", log.raw);
}

#[actix_rt::test]
async fn nothing_is_sent_to_the_servers_own_or_link_local_addresses_unless_listed() {
    // The production default: any host but the server's own and its link's.
    let w = World::builder()
        .setting("DUBAN_WEBHOOK_ALLOWED_HOSTS", "*")
        .build()
        .await;
    let m = &w.a.manager.token;
    for (url, why) in [
        ("http://127.0.0.1:5432/", "loopback"),
        ("http://127.1.2.3/", "loopback"),
        ("http://[::1]:8080/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://0.0.0.0:8080/", "this host"),
        ("http://localhost:8080/", "own name"),
    ] {
        let r = w
            .app
            .post("/webhooks", m, json!({"url": url, "events": ["*"]}))
            .await;
        assert_eq!(r.status, 422, "{url}: {}", r.raw);
        assert_eq!(r.fields(), ["url"], "{}", r.raw);
        assert!(r.raw.contains(why), "{url}: {}", r.raw);
    }
    let (id, _) = subscribe(&w.app, m, "http://10.20.0.7/hooks", json!(["*"])).await;
    let r = w
        .app
        .patch(
            &format!("/webhooks/{id}"),
            m,
            json!({"url": "http://169.254.169.254/"}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.raw);
    assert_eq!(r.fields(), ["url"], "{}", r.raw);
    let kept = w.app.get(&format!("/webhooks/{id}"), m).await;
    assert_eq!(kept.body["url"], "http://10.20.0.7/hooks", "{}", kept.raw);
}

#[actix_rt::test]
async fn a_receiver_at_a_listed_ipv6_address_gets_its_events() {
    let w = World::builder()
        .setting("DUBAN_WEBHOOK_ALLOWED_HOSTS", "*,::1")
        .setting("DUBAN_WEBHOOK_WORKER", "true")
        .setting("DUBAN_WEBHOOK_POLL_MS", "50")
        .build()
        .await;
    let hook = Receiver::start_on("::1").await;
    assert!(hook.url.starts_with("http://[::1]:"), "{}", hook.url);
    let (_, secret) = subscribe(
        &w.app,
        &w.a.manager.token,
        &hook.url,
        json!(["urge.issued"]),
    )
    .await;
    urge_a(&w, 1).await;
    let got = hook.until_acknowledged(1).await;
    assert!(got[0].signed_with(&secret));
}

#[actix_rt::test]
async fn a_listed_name_that_resolves_to_the_server_itself_gets_nothing() {
    let w = World::builder()
        .setting("DUBAN_WEBHOOK_ALLOWED_HOSTS", "localhost")
        .setting("DUBAN_WEBHOOK_WORKER", "true")
        .setting("DUBAN_WEBHOOK_POLL_MS", "50")
        .setting("DUBAN_WEBHOOK_RETRY_BASE", "60")
        .build()
        .await;
    let m = &w.a.manager.token;
    let hook = Receiver::start().await;
    let r = w
        .app
        .post(
            "/webhooks",
            m,
            json!({"url": hook.url.replace("127.0.0.1", "other.example"), "events": ["*"]}),
        )
        .await;
    assert_eq!(r.status, 422, "a name not listed: {}", r.raw);
    let by_name = hook.url.replace("127.0.0.1", "localhost");
    let (id, _) = subscribe(&w.app, m, &by_name, json!(["urge.issued"])).await;
    urge_a(&w, 1).await;
    let path = format!("/webhooks/{id}/deliveries");
    let log = log_until(&w.app, &path, m, |l| {
        l.body["items"][0]["last_error"].is_string()
    })
    .await;
    let error = &log.body["items"][0]["last_error"];
    assert!(
        error.as_str().unwrap().contains("loopback address"),
        "{error}"
    );
    settle().await;
    assert_eq!(hook.arrived(), 0, "the receiver on loopback was called");
}

#[actix_rt::test]
async fn a_unit_keeps_at_most_twenty_subscriptions() {
    let w = World::builder().build().await;
    let m = &w.a.manager.token;
    let url = |i: usize| format!("https://ipo.example.gov.cn/duban/{i}");
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(subscribe(&w.app, m, &url(i), json!(["*"])).await.0);
    }
    let over = w
        .app
        .post("/webhooks", m, json!({"url": url(20), "events": ["*"]}))
        .await;
    assert_eq!(over.status, 409, "{}", over.raw);
    over.assert_problem(409, "conflict");
    // Another unit's count and the office's are their own.
    subscribe(&w.app, &w.l.manager.token, &url(0), json!(["*"])).await;
    subscribe(&w.app, w.coord(), &url(0), json!(["*"])).await;
    let r = w
        .app
        .send("DELETE", &format!("/webhooks/{}", ids[0]), Some(m), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.raw);
    subscribe(&w.app, m, &url(20), json!(["*"])).await;
    let listed = w.app.get("/webhooks?count=true", m).await;
    assert_eq!(listed.body["total"], 20, "{}", listed.raw);
}

#[actix_rt::test]
async fn subscriptions_made_at_once_stop_at_the_limit() {
    let w = World::builder().build().await;
    let m = &w.a.manager.token;
    let url = |i: usize| format!("https://ipo.example.gov.cn/duban/{i}");
    for i in 0..15 {
        subscribe(&w.app, m, &url(i), json!(["*"])).await;
    }
    let answers = futures_util::future::join_all((15..25).map(|i| {
        w.app
            .post("/webhooks", m, json!({"url": url(i), "events": ["*"]}))
    }))
    .await;
    let created = answers.iter().filter(|r| r.status == 201).count();
    let refused = answers.iter().filter(|r| r.status == 409).count();
    assert_eq!(
        (created, refused),
        (5, 5),
        "{:?}",
        answers.iter().map(|r| &r.raw).collect::<Vec<_>>()
    );
    let listed = w.app.get("/webhooks?count=true", m).await;
    assert_eq!(listed.body["total"], 20, "{}", listed.raw);
}

#[actix_rt::test]
async fn a_paused_subscription_gets_nothing_until_it_is_resumed() {
    // The server's own worker is off until the subscription is paused.
    let w = World::builder()
        .setting("DUBAN_WEBHOOK_POLL_MS", "50")
        .build()
        .await;
    let (app, m) = (&w.app, &w.a.manager.token);
    let hook = Receiver::start().await;
    let (id, _) = subscribe(app, m, &hook.url, json!(["urge.issued"])).await;
    urge_a(&w, 1).await;
    let paused = app
        .patch(&format!("/webhooks/{id}"), m, json!({"active": false}))
        .await;
    assert_eq!(paused.body["active"], false, "{}", paused.raw);
    let ping = app
        .post(&format!("/webhooks/{id}/ping"), m, json!({}))
        .await;
    assert_eq!(ping.status, 202, "{}", ping.raw);
    let worker = duban::jobs::webhooks::spawn(
        app.state.db.clone(),
        app.state.settings.webhooks.clone(),
        Default::default(),
    );
    settle().await;
    settle().await;
    assert_eq!(hook.arrived(), 0, "a paused subscription was sent to");
    let pending = app
        .get(&format!("/webhooks/{id}/deliveries?state=pending"), m)
        .await;
    assert_eq!(ids(&pending).len(), 2, "{}", pending.raw);
    app.patch(&format!("/webhooks/{id}"), m, json!({"active": true}))
        .await;
    hook.until_acknowledged(2).await;
    assert_eq!(hook.types(), ["urge.issued", "ping"], "in the order queued");
    worker.abort();
}

#[actix_rt::test]
async fn the_reminder_pass_announces_a_late_assignment_once_and_its_urge() {
    let w = delivering_world().await;
    let (app, c, m) = (&w.app, w.coord(), &w.a.manager.token);
    let hook = Receiver::start().await;
    let (_, secret) = subscribe(
        app,
        m,
        &hook.url,
        json!(["assignment.overdue", "urge.issued"]),
    )
    .await;
    let asg = w.a.assignment();
    let r = app
        .patch(
            &format!("/assignments/{asg}"),
            c,
            json!({"due_date": "2026-12-01", "cycle": "once"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let schedule = duban::jobs::reminders::Schedule {
        days_before: 7,
        receipt_after: 0,
    };
    let db = app.state.db.clone();
    let day = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
    let pass = duban::jobs::reminders::run_once(&db, day("2026-12-03"), schedule).unwrap();
    assert!(pass.urged >= 1, "{pass:?}");
    // Only the pass's own wake-up is the poll here (it runs outside any request).
    let got = hook.until_acknowledged(2).await;
    let overdue: Vec<_> = got
        .iter()
        .filter(|d| d.event == "assignment.overdue")
        .collect();
    assert_eq!(overdue.len(), 1, "{:?}", hook.types());
    let data = overdue[0].json()["data"].clone();
    assert_eq!(
        (data["assignment_id"].as_i64(), data["deadline"].as_str()),
        (Some(asg), Some("2026-12-01"))
    );
    assert!(got.iter().all(|d| d.signed_with(&secret)));
    let urge = got
        .iter()
        .find(|d| d.event == "urge.issued")
        .unwrap()
        .json();
    assert_eq!(urge["data"]["automatic"], true);
    assert_eq!(urge["data"]["unit_id"], w.a.id);
    // The next day's pass finds the same lapse: nothing more.
    duban::jobs::reminders::run_once(&db, day("2026-12-04"), schedule).unwrap();
    settle().await;
    settle().await;
    assert_eq!(hook.acknowledged().len(), 2, "{:?}", hook.types());
}

#[actix_rt::test]
async fn ids_of_subscriptions_events_and_deliveries_are_never_reused() {
    let w = World::builder().build().await;
    let (app, m) = (&w.app, &w.a.manager.token);
    let (first, _) = subscribe(app, m, "http://127.0.0.1:9/a", json!(["*"])).await;
    let ping = app
        .post(&format!("/webhooks/{first}/ping"), m, json!({}))
        .await;
    let (event, delivery) = (
        ping.body["event_id"].as_i64().unwrap(),
        ping.body["id"].as_i64().unwrap(),
    );
    let gone = app
        .send("DELETE", &format!("/webhooks/{first}"), Some(m), None)
        .await;
    assert_eq!(gone.status, 204);
    // The event, left without a delivery, is pruned.
    duban::jobs::webhooks::prune(&app.state.db, 1).unwrap();
    let (second, _) = subscribe(app, m, "http://127.0.0.1:9/b", json!(["*"])).await;
    let ping = app
        .post(&format!("/webhooks/{second}/ping"), m, json!({}))
        .await;
    assert!(second > first);
    assert!(
        ping.body["event_id"].as_i64().unwrap() > event,
        "a receiver that saw event {event} must not see that id again"
    );
    assert!(ping.body["id"].as_i64().unwrap() > delivery);
}
