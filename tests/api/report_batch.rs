//! Batch submission (`POST /reports/batch`): each item answered as its single endpoint would,
//! in a transaction of its own; one `Idempotency-Key` for the whole batch; the shape checked
//! before anything runs; the caller allowed per item as for the single operations.

use crate::fixtures::*;
use crate::helpers::*;
use serde_json::{json, Value};

async fn batch(w: &World, token: &str, items: Value) -> Reply {
    w.app
        .post("/reports/batch", token, json!({ "items": items }))
        .await
}

async fn batch_with_key(w: &World, token: &str, key: &str, items: Value) -> Reply {
    w.app
        .send_with(
            "POST",
            "/reports/batch",
            token,
            &[("Idempotency-Key", key)],
            Some(json!({ "items": items })),
        )
        .await
}

/// The number of reports of A's assignment as A's manager sees them (drafts included).
async fn reports_of_a(w: &World) -> usize {
    let r = w
        .app
        .get(
            &format!("/reports?assignment_id={}&limit=200", w.a.assignment()),
            &w.a.manager.token,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    r.body["items"].as_array().unwrap().len()
}

fn create(assignment: i64, period: &str, submit: bool) -> Value {
    json!({"op": "create", "assignment_id": assignment, "period": period,
           "status": "in_progress", "narrative": format!("{period}年度进展。"), "progress": 40,
           "submit": submit})
}

#[actix_rt::test]
async fn a_batch_answers_each_item_as_its_endpoint_and_a_failure_undoes_nothing_else() {
    let w = World::builder().build().await;
    let m = &w.a.manager.token;
    let draft = w
        .app
        .create_report(
            m,
            w.a.assignment(),
            &NewReport::in_progress("起草中。").period("2090"),
        )
        .await;
    let r = batch(
        &w,
        m,
        json!([
            create(w.a.assignment(), "2096", false),
            create(w.b.assignment(), "2096", false),
            {"op": "update", "report_id": draft.id, "if_match": "\"1.999\"", "progress": 90},
            {"op": "update", "report_id": draft.id, "if_match": draft.etag, "progress": 80},
            {"op": "submit", "report_id": draft.id},
            create(w.a.assignment(), "2096", false),
            create(w.a.assignment(), "2097", true),
            {"op": "update", "report_id": draft.id, "progress": 10},
        ]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let items = r.body["items"].as_array().unwrap();
    let statuses: Vec<i64> = items
        .iter()
        .map(|i| i["status"].as_i64().unwrap())
        .collect();
    // Created; another unit's assignment is hidden; a stale ETag; edited; sent; the period
    // exists already; created and sent at once; a sent report no longer changes.
    assert_eq!(
        statuses,
        [201, 404, 412, 200, 200, 409, 201, 409],
        "{}",
        r.raw
    );
    assert_eq!(
        (r.body["succeeded"].as_i64(), r.body["failed"].as_i64()),
        (Some(4), Some(4))
    );
    for (i, item) in items.iter().enumerate() {
        assert_eq!(item["index"], i);
        if item["status"].as_i64().unwrap() < 300 {
            let report = &item["report"];
            let etag = format!("\"{}.{}\"", report["id"], report["version"]);
            assert_eq!(item["etag"], etag, "{item}");
            assert!(item.get("problem").is_none());
        } else {
            let p = &item["problem"];
            assert_eq!(p["status"], item["status"], "{item}");
            assert!(p["type"].as_str().unwrap().starts_with("/problems/"));
            assert!(item.get("report").is_none());
        }
    }
    assert_eq!(items[1]["problem"]["type"], "/problems/not-found");
    assert_eq!(items[2]["problem"]["type"], "/problems/precondition-failed");
    assert_eq!(items[3]["report"]["progress"], 80);
    assert_eq!(items[4]["report"]["workflow"], "submitted");
    assert_eq!(items[6]["report"]["workflow"], "submitted");
    assert_eq!(items[6]["report"]["period"], "2097");
    // What succeeded stands, as each single endpoint leaves it.
    let created = items[0]["report"]["id"].as_i64().unwrap();
    let read = w.app.get(&format!("/reports/{created}"), m).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["workflow"], "draft");
    assert_eq!(
        read.header("etag").unwrap(),
        items[0]["etag"].as_str().unwrap()
    );
    let sent = w
        .app
        .get(&format!("/reports/{}", draft.id), w.coord())
        .await;
    assert_eq!(sent.body["workflow"], "submitted");
    assert_eq!(sent.body["progress"], 80);
    // 2090, 2096 and 2097: nothing of B's was touched.
    assert_eq!(reports_of_a(&w).await, 3);
    let of_b = w
        .app
        .get(
            &format!("/reports?assignment_id={}", w.b.assignment()),
            &w.b.manager.token,
        )
        .await;
    assert_eq!(of_b.body["items"], json!([]));
}

#[actix_rt::test]
async fn a_repeated_idempotency_key_replays_the_answer_and_creates_nothing_twice() {
    let w = World::builder().build().await;
    let m = &w.a.manager.token;
    let items = json!([
        create(w.a.assignment(), "2096", true),
        create(w.a.assignment(), "2097", false),
        create(w.b.assignment(), "2096", false),
    ]);
    let before = reports_of_a(&w).await;
    let first = batch_with_key(&w, m, "batch-0001", items.clone()).await;
    assert_eq!(first.status, 200, "{}", first.raw);
    assert_eq!(first.body["succeeded"], 2);
    assert_eq!(reports_of_a(&w).await, before + 2);
    let again = batch_with_key(&w, m, "batch-0001", items.clone()).await;
    assert_eq!(again.status, 200, "{}", again.raw);
    assert_eq!(
        again.header("idempotency-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(again.body, first.body);
    assert_eq!(reports_of_a(&w).await, before + 2);
    // The same key with another body is refused, and runs nothing.
    let other = batch_with_key(
        &w,
        m,
        "batch-0001",
        json!([create(w.a.assignment(), "2098", false)]),
    )
    .await;
    other.assert_problem(422, "validation");
    assert_eq!(other.fields(), ["Idempotency-Key"]);
    assert_eq!(reports_of_a(&w).await, before + 2);
    // Without the key the same batch runs again: each item answered anew (the periods exist).
    let unkeyed = batch(&w, m, items).await;
    let statuses: Vec<&Value> = unkeyed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["status"])
        .collect();
    assert_eq!(statuses, [&json!(409), &json!(409), &json!(404)]);
    assert_eq!(reports_of_a(&w).await, before + 2);
}

#[actix_rt::test]
async fn a_batch_holds_one_to_five_hundred_items() {
    let w = World::builder().build().await;
    let m = &w.a.manager.token;
    let too_many: Vec<Value> = (0..501)
        .map(|i| json!({"op": "submit", "report_id": i + 1}))
        .collect();
    let r = batch(&w, m, json!(too_many)).await;
    r.assert_problem(422, "validation");
    assert_eq!(r.fields(), ["items"]);
    let r = batch(&w, m, json!([])).await;
    r.assert_problem(422, "validation");
    assert_eq!(r.fields(), ["items"]);
    // Five hundred is allowed: each item answered (none of these reports exists).
    let most: Vec<Value> = (0..500)
        .map(|i| json!({"op": "submit", "report_id": 100_000 + i}))
        .collect();
    let r = batch(&w, m, json!(most)).await;
    assert_eq!(r.status, 200, "{}", &r.raw[..200.min(r.raw.len())]);
    assert_eq!(r.body["failed"], 500);
    assert_eq!(r.body["items"][499]["status"], 404);
}

#[actix_rt::test]
async fn a_malformed_item_refuses_the_whole_batch_naming_the_field() {
    let w = World::builder().build().await;
    let m = &w.a.manager.token;
    let good = create(w.a.assignment(), "2096", false);
    let cases = [
        (json!({"op": "delete", "report_id": 1}), "items[1].op"),
        (json!({"report_id": 1}), "items[1].op"),
        (json!([1, 2]), "items[1]"),
        (
            json!({"op": "create", "status": "in_progress", "narrative": "x"}),
            "items[1].assignment_id",
        ),
        (
            json!({"op": "create", "assignment_id": "7", "status": "in_progress", "narrative": "x"}),
            "items[1].assignment_id",
        ),
        (
            json!({"op": "create", "assignment_id": 7, "status": "finished", "narrative": "x"}),
            "items[1].status",
        ),
        (
            json!({"op": "create", "assignment_id": 7, "narrative": "x"}),
            "items[1].status",
        ),
        (
            json!({"op": "create", "assignment_id": 7, "status": "in_progress", "narrative": "x", "colour": 1}),
            "items[1].colour",
        ),
        (
            json!({"op": "create", "assignment_id": 7, "status": "in_progress", "narrative": "x", "progress": 101}),
            "items[1].progress",
        ),
        (
            json!({"op": "create", "assignment_id": 7, "status": "in_progress", "narrative": "x", "submit": "yes"}),
            "items[1].submit",
        ),
        (
            json!({"op": "update", "report_id": 1, "if_match": 5}),
            "items[1].if_match",
        ),
        (
            json!({"op": "update", "report_id": 1, "narrative": 5}),
            "items[1].narrative",
        ),
        (
            json!({"op": "submit", "report_id": 1, "narrative": "x"}),
            "items[1].narrative",
        ),
        (
            json!({"op": "submit", "report_id": 0}),
            "items[1].report_id",
        ),
    ];
    for (bad, field) in cases {
        let r = batch(&w, m, json!([good.clone(), bad.clone()])).await;
        r.assert_problem(422, "validation");
        assert_eq!(r.fields(), [field], "{bad}: {}", r.raw);
    }
    let r = w
        .app
        .post(
            "/reports/batch",
            m,
            json!({"items": [good.clone()], "all": true}),
        )
        .await;
    r.assert_problem(422, "validation");
    // Nothing ran: not even the well-formed first item.
    assert_eq!(reports_of_a(&w).await, 0);
}

#[actix_rt::test]
async fn who_may_send_a_batch_and_each_item_as_its_single_operation() {
    let w = World::builder()
        .service("a-writes", 'A', Some(vec!["reports:read", "reports:write"]))
        .service(
            "a-reads",
            'A',
            Some(vec!["assignments:read", "reports:read"]),
        )
        .build()
        .await;
    let items = json!([create(w.a.assignment(), "2096", false)]);
    // The office and viewers write no reports: the whole batch is refused.
    for token in [&w.viewer.token, &w.coordinator.token, &w.admin] {
        batch(&w, token, items.clone())
            .await
            .assert_problem(403, "forbidden");
    }
    let reads = w.service_token("a-reads", None).await;
    batch(&w, &reads, items.clone())
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(reports_of_a(&w).await, 0);
    // A reporter drafts but does not send: created and sent is refused as one, nothing made.
    let r = batch(
        &w,
        &w.a.reporter.token,
        json!([
            create(w.a.assignment(), "2096", true),
            create(w.a.assignment(), "2097", false)
        ]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["items"][0]["status"], 403);
    assert_eq!(r.body["items"][1]["status"], 201);
    // So does a system without reports:submit; with reports:write it drafts.
    let writes = w.service_token("a-writes", None).await;
    let r = batch(
        &w,
        &writes,
        json!([
            create(w.a.assignment(), "2098", true),
            create(w.a.assignment(), "2099", false)
        ]),
    )
    .await;
    assert_eq!(r.body["items"][0]["status"], 403, "{}", r.raw);
    assert_eq!(r.body["items"][1]["status"], 201, "{}", r.raw);
    assert_eq!(reports_of_a(&w).await, 2);
    // Anonymous: 401.
    let anon = w
        .app
        .send(
            "POST",
            "/reports/batch",
            None,
            Some(json!({"items": items})),
        )
        .await;
    anon.assert_problem(401, "unauthorized");
}

#[actix_rt::test]
async fn keyed_batches_over_the_same_assignments_in_opposite_orders_all_complete() {
    let w = World::builder().build().await;
    let (c, m) = (w.coord(), &w.a.manager.token);
    let measure = w
        .app
        .create_item(
            c,
            w.plan,
            json!({"level": "measure", "parent_id": w.task, "number": "2", "title": "优化营商环境。",
                   "lead_units": LEAD_NAME, "participant_units": A_NAME}),
        )
        .await;
    let created = w
        .app
        .assign(
            c,
            measure,
            json!({"lead": {"unit_ids": [w.l.id]}, "participants": {"unit_ids": [w.a.id]},
                   "due_date": "2099-12-31", "cycle": "yearly"}),
        )
        .await;
    let (x, y) = (
        w.a.assignment(),
        created.iter().find(|a| a["unit_id"] == w.a.id).unwrap()["id"]
            .as_i64()
            .unwrap(),
    );
    // Each round: two batches at once, each creating and submitting a report on both
    // assignments, in opposite orders (each takes both assignments before changing either).
    for round in 0..6 {
        let (p, q) = (
            (2030 + 2 * round).to_string(),
            (2031 + 2 * round).to_string(),
        );
        let (one, other) = futures_util::future::join(
            batch_with_key(
                &w,
                m,
                &format!("xy-{round}"),
                json!([create(x, &p, true), create(y, &p, true)]),
            ),
            batch_with_key(
                &w,
                m,
                &format!("yx-{round}"),
                json!([create(y, &q, true), create(x, &q, true)]),
            ),
        )
        .await;
        for r in [&one, &other] {
            assert_eq!(r.status, 200, "{}", r.raw);
            assert_eq!(r.body["succeeded"], 2, "round {round}: {}", r.raw);
        }
    }
}
