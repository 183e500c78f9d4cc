//! Typed requests, one per endpoint the tests use often.

use crate::fixtures::{Account, Action, NewReport, Report, RETURN_REASON};
use crate::helpers::*;
use serde_json::{json, Value};

fn report_of(r: &Reply) -> Report {
    let mut report: Report =
        serde_json::from_value(r.body.clone()).unwrap_or_else(|e| panic!("{e}: {}", r.raw));
    report.etag = r.header("etag").unwrap_or_default();
    report
}

/// Typed requests, one per endpoint the tests use often.
impl TestApp {
    /// Sends a request with a bearer token and extra headers (If-Match, Idempotency-Key, Accept).
    pub async fn send_with(
        &self,
        method: &str,
        path: &str,
        token: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        let mut req = self
            .client
            .request(method.parse().unwrap(), self.url(path))
            .insert_header(("Authorization", format!("Bearer {token}")));
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        let res = match body {
            Some(b) => req.send_json(&b).await,
            None => req.send().await,
        };
        read(res.expect("request sent")).await
    }

    /// `POST /units` (a city department); returns its id.
    pub async fn create_unit(&self, token: &str, name: &str) -> i64 {
        let r = self
            .post(
                "/units",
                token,
                json!({"name": name, "kind": "city_department"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.raw);
        r.body["id"].as_i64().unwrap()
    }

    /// `POST /users` for a person with [`PASSWORD`], then signs in.
    pub async fn person(
        &self,
        token: &str,
        username: &str,
        role: &str,
        unit: Option<i64>,
    ) -> Account {
        let r = self
            .post("/users", token, json!({"username": username, "display_name": username, "role": role, "unit_id": unit, "password": PASSWORD}))
            .await;
        assert_eq!(r.status, 201, "{}", r.raw);
        Account {
            id: r.body["id"].as_i64().unwrap(),
            username: username.to_owned(),
            token: self.login(username, PASSWORD).await,
        }
    }

    /// `POST /plans`; returns its id.
    pub async fn create_plan(&self, token: &str, title: &str, year: i32) -> i64 {
        let r = self
            .post("/plans", token, json!({"title": title, "year": year}))
            .await;
        assert_eq!(r.status, 201, "{}", r.raw);
        r.body["id"].as_i64().unwrap()
    }

    /// `POST /plans/{id}/items`; returns the item's id.
    pub async fn create_item(&self, token: &str, plan: i64, item: Value) -> i64 {
        let r = self
            .post(&format!("/plans/{plan}/items"), token, item)
            .await;
        assert_eq!(r.status, 201, "{}", r.raw);
        r.body["id"].as_i64().unwrap()
    }

    /// `POST /measures/{id}/assignments`; returns the assignments created.
    pub async fn assign(&self, token: &str, measure: i64, body: Value) -> Vec<Value> {
        let r = self
            .post(&format!("/measures/{measure}/assignments"), token, body)
            .await;
        assert_eq!(r.status, 201, "{}", r.raw);
        r.body["created"].as_array().unwrap().clone()
    }

    /// `POST /assignments/{id}/reports`, whatever the answer.
    pub async fn try_create_report(
        &self,
        token: &str,
        assignment: i64,
        report: &NewReport<'_>,
    ) -> Reply {
        self.post(
            &format!("/assignments/{assignment}/reports"),
            token,
            report.body(),
        )
        .await
    }

    /// `POST /assignments/{id}/reports`, which must answer 201.
    pub async fn create_report(
        &self,
        token: &str,
        assignment: i64,
        report: &NewReport<'_>,
    ) -> Report {
        let r = self.try_create_report(token, assignment, report).await;
        assert_eq!(r.status, 201, "{}", r.raw);
        report_of(&r)
    }

    /// `GET /reports/{id}`, which must answer 200.
    pub async fn report(&self, token: &str, id: i64) -> Report {
        let r = self.get(&format!("/reports/{id}"), token).await;
        assert_eq!(r.status, 200, "{}", r.raw);
        report_of(&r)
    }

    /// `PATCH /reports/{id}` with the ETag the same caller reads just before.
    pub async fn edit_report(&self, token: &str, id: i64, changes: Value) -> Reply {
        let etag = self.report(token, id).await.etag;
        self.send_with(
            "PATCH",
            &format!("/reports/{id}"),
            token,
            &[("If-Match", &etag)],
            Some(changes),
        )
        .await
    }

    /// `POST /reports/{id}/submit|accept|return` (`return` with [`RETURN_REASON`]).
    pub async fn report_action(&self, token: &str, id: i64, action: Action) -> Reply {
        let body = match action {
            Action::Return => json!({"reason": RETURN_REASON}),
            _ => json!({}),
        };
        self.post(&format!("/reports/{id}/{}", action.path()), token, body)
            .await
    }

    /// Submits; must answer 200.
    pub async fn submit_report(&self, token: &str, id: i64) -> Report {
        let r = self.report_action(token, id, Action::Submit).await;
        assert_eq!(r.status, 200, "{}", r.raw);
        report_of(&r)
    }

    /// Returns with a reason; must answer 200.
    pub async fn return_report(&self, token: &str, id: i64, reason: &str) -> Report {
        let r = self
            .post(
                &format!("/reports/{id}/return"),
                token,
                json!({"reason": reason}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.raw);
        report_of(&r)
    }

    /// Accepts; must answer 200.
    pub async fn accept_report(&self, token: &str, id: i64) -> Report {
        let r = self.report_action(token, id, Action::Accept).await;
        assert_eq!(r.status, 200, "{}", r.raw);
        report_of(&r)
    }
}
