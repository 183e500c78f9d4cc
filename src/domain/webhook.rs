//! Webhooks (事件推送): which events there are, whom a subscription covers, how a delivery is
//! signed, when a failed one is tried again and when a subscription is given up. No I/O here.

use diesel::deserialize::FromSqlRow;
use diesel::expression::AsExpression;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;

/// What happened, as sent in `type` and `Duban-Event`.
#[derive(AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
pub enum EventType {
    /// A measure was assigned to the unit (交办), visible to it: on a published plan at once,
    /// else when the plan is published.
    #[serde(rename = "assignment.created")]
    AssignmentCreated,
    /// The assignment's due date, cycle, unit or role changed.
    #[serde(rename = "assignment.changed")]
    AssignmentChanged,
    /// The assignment was withdrawn.
    #[serde(rename = "assignment.withdrawn")]
    AssignmentWithdrawn,
    /// The unit signed for the assignment (签收).
    #[serde(rename = "assignment.received")]
    AssignmentReceived,
    /// The assignment passed its deadline without its report (超期), seen by the reminder pass.
    #[serde(rename = "assignment.overdue")]
    AssignmentOverdue,
    /// The unit sent a report (报送).
    #[serde(rename = "report.submitted")]
    ReportSubmitted,
    /// The office accepted a report (审核通过).
    #[serde(rename = "report.accepted")]
    ReportAccepted,
    /// The office returned a report for rework (退回).
    #[serde(rename = "report.returned")]
    ReportReturned,
    /// A reminder, urge or supervision notice went to the unit (提醒 / 催办 / 督办).
    #[serde(rename = "urge.issued")]
    UrgeIssued,
    /// The unit acknowledged or replied to an urge.
    #[serde(rename = "urge.answered")]
    UrgeAnswered,
    /// The unit asked for more time (延期申请).
    #[serde(rename = "extension.requested")]
    ExtensionRequested,
    /// The office approved or rejected a request for more time.
    #[serde(rename = "extension.decided")]
    ExtensionDecided,
    /// The unit disputed an assignment (异议).
    #[serde(rename = "dispute.raised")]
    DisputeRaised,
    /// The office resolved a dispute.
    #[serde(rename = "dispute.resolved")]
    DisputeResolved,
    /// A subscription was disabled after deliveries kept failing (sent to the unit's other
    /// subscriptions; the disabled one is told in its own record and the audit trail).
    #[serde(rename = "webhook.disabled")]
    WebhookDisabled,
    /// A test event, sent on request to one subscription.
    #[serde(rename = "ping")]
    Ping,
}

crate::stored_as_text!(EventType);

impl EventType {
    /// Every event type, in the documented order.
    pub const ALL: [EventType; 16] = [
        EventType::AssignmentCreated,
        EventType::AssignmentChanged,
        EventType::AssignmentWithdrawn,
        EventType::AssignmentReceived,
        EventType::AssignmentOverdue,
        EventType::ReportSubmitted,
        EventType::ReportAccepted,
        EventType::ReportReturned,
        EventType::UrgeIssued,
        EventType::UrgeAnswered,
        EventType::ExtensionRequested,
        EventType::ExtensionDecided,
        EventType::DisputeRaised,
        EventType::DisputeResolved,
        EventType::WebhookDisabled,
        EventType::Ping,
    ];

    /// The name sent and stored.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::AssignmentCreated => "assignment.created",
            EventType::AssignmentChanged => "assignment.changed",
            EventType::AssignmentWithdrawn => "assignment.withdrawn",
            EventType::AssignmentReceived => "assignment.received",
            EventType::AssignmentOverdue => "assignment.overdue",
            EventType::ReportSubmitted => "report.submitted",
            EventType::ReportAccepted => "report.accepted",
            EventType::ReportReturned => "report.returned",
            EventType::UrgeIssued => "urge.issued",
            EventType::UrgeAnswered => "urge.answered",
            EventType::ExtensionRequested => "extension.requested",
            EventType::ExtensionDecided => "extension.decided",
            EventType::DisputeRaised => "dispute.raised",
            EventType::DisputeResolved => "dispute.resolved",
            EventType::WebhookDisabled => "webhook.disabled",
            EventType::Ping => "ping",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// Whether a subscription may name it (a ping goes to whoever asks for it).
    pub fn subscribable(self) -> bool {
        self != EventType::Ping
    }
}

/// The event types a subscription wants: stored space-separated, in canonical order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventSet(std::collections::BTreeSet<EventType>);

impl EventSet {
    /// From the names a caller gave: at least one, each known and subscribable, `*` for all;
    /// `Err` names the first bad one.
    pub fn from_names(names: &[String]) -> Result<Self, String> {
        if names.is_empty() {
            return Err("name at least one event type".into());
        }
        let mut set = std::collections::BTreeSet::new();
        for n in names {
            if n == "*" {
                set.extend(EventType::ALL.into_iter().filter(|e| e.subscribable()));
                continue;
            }
            match EventType::parse(n).filter(|e| e.subscribable()) {
                Some(e) => {
                    set.insert(e);
                }
                None => return Err(format!("'{n}' is not an event type")),
            }
        }
        Ok(EventSet(set))
    }

    /// Parses the stored form (unknown names, from a later version, are skipped).
    pub fn from_stored(s: &str) -> Self {
        EventSet(s.split_whitespace().filter_map(EventType::parse).collect())
    }

    /// The stored form.
    pub fn to_stored(&self) -> String {
        self.names().join(" ")
    }

    /// The names, in canonical order.
    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|e| e.as_str()).collect()
    }

    /// The types, in canonical order.
    pub fn types(&self) -> Vec<EventType> {
        self.0.iter().copied().collect()
    }

    /// Whether the set holds `e`.
    pub fn contains(&self, e: EventType) -> bool {
        self.0.contains(&e)
    }
}

/// Whose events a subscription receives.
#[derive(AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Covers {
    /// Events about the subscribing unit's own assignments (a department's subscription).
    Unit,
    /// Events about every unit's work (the coordinating office's subscription).
    All,
}

crate::stored_as_text!(Covers);

impl Covers {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Covers::Unit => "unit",
            Covers::All => "all",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [Covers::Unit, Covers::All]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// Where a delivery stands.
#[derive(AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its (next) attempt.
    Pending,
    /// Claimed by a worker; if the worker dies, it is pending again when the lease ends.
    Delivering,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed; only a manual redelivery sends it again.
    Failed,
}

crate::stored_as_text!(DeliveryState);

impl DeliveryState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivering => "delivering",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            DeliveryState::Pending,
            DeliveryState::Delivering,
            DeliveryState::Delivered,
            DeliveryState::Failed,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// Whether an event about `unit`'s work goes to a subscription of `owner` covering `covers`:
/// the office's ('all') gets every unit's, a unit's only its own. This is the visibility
/// policy of assignments applied to events: what a unit may read of another unit's work it
/// reads through the API, never through another unit's events.
pub fn reaches(covers: Covers, owner: Option<i64>, unit: i64) -> bool {
    match covers {
        Covers::All => true,
        Covers::Unit => owner == Some(unit),
    }
}

/// The `Duban-Signature` header of a body sent at `t` (Unix seconds):
/// `t=<t>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the secret>`.
pub fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", sign_hex(secret, t, body))
}

fn sign_hex(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How long a receiver should accept a signature's timestamp, seconds (the documented replay
/// window).
pub const REPLAY_WINDOW_SECS: i64 = 300;

/// The receiver's check, as documented: the header parses, `t` is within the replay window of
/// `now`, and one `v1` equals the HMAC (compared in constant time).
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64) -> bool {
    let mut t = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => candidates.push(v.to_owned()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if (now - t).abs() > REPLAY_WINDOW_SECS {
        return false;
    }
    let expected = sign_hex(secret, t, body);
    candidates.iter().any(|c| {
        c.len() == expected.len()
            && c.bytes()
                .zip(expected.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    })
}

/// When to try again and when to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failed attempt, seconds; it doubles after each.
    pub base_secs: i64,
    /// The longest wait, seconds.
    pub max_secs: i64,
    /// Attempts before a delivery is given up (failed).
    pub max_attempts: i32,
}

impl Default for RetryPolicy {
    /// 10 s, 20 s, 40 s … up to an hour between attempts, 12 attempts (about 3.5 hours).
    fn default() -> Self {
        RetryPolicy {
            base_secs: 10,
            max_secs: 3600,
            max_attempts: 12,
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt number `attempts` (1-based), with "full jitter" from
    /// `jitter` in [0, 1): between half and all of the exponential wait, so that receivers
    /// coming back are not hit by every retry at once.
    pub fn wait_secs(&self, attempts: i32, jitter: f64) -> i64 {
        let exp = attempts.clamp(1, 31) - 1;
        let full = self
            .base_secs
            .saturating_mul(1i64 << exp.min(30))
            .min(self.max_secs)
            .max(1);
        let jitter = jitter.clamp(0.0, 1.0);
        let half = full / 2;
        (half + ((full - half) as f64 * jitter) as i64).max(1)
    }

    /// Whether a delivery that has failed `attempts` times is given up.
    pub fn gives_up(&self, attempts: i32) -> bool {
        attempts >= self.max_attempts
    }
}

/// Checks a subscriber URL: `http` or `https`, a host, no credentials, no fragment, at most
/// 2000 characters. Returns its host (an IPv6 address without its brackets), or the message
/// for the `url` field.
pub fn check_url(url: &str) -> Result<&str, String> {
    if url.len() > 2000 {
        return Err("must be at most 2000 characters".into());
    }
    let rest = if let Some(r) = url.strip_prefix("https://") {
        r
    } else if let Some(r) = url.strip_prefix("http://") {
        r
    } else {
        return Err("must be an http:// or https:// URL".into());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() {
        return Err("must name a host".into());
    }
    if authority.contains('@') {
        return Err("must not carry credentials (use the signing secret)".into());
    }
    if url.contains('#') {
        return Err("must not have a fragment".into());
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters".into());
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((h, "")) => (h, None),
            Some((h, p)) => (h, Some(p.strip_prefix(':').unwrap_or("x"))),
            None => return Err("has a host name that is not valid".into()),
        },
        None => match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    if host.is_empty()
        || host
            .chars()
            .any(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':')))
    {
        return Err("has a host name that is not valid".into());
    }
    if let Some(p) = port {
        if !matches!(p.parse::<u16>(), Ok(n) if n > 0) {
            return Err("has a port that is not a number from 1 to 65535".into());
        }
    }
    Ok(host)
}

/// The most subscriptions one keeper holds: a unit its own, the office those covering every
/// unit. Each is a stream of deliveries the workers serve; the cap keeps one keeper from
/// multiplying them.
pub const MAX_SUBSCRIPTIONS: i64 = 20;

/// A new signing secret: `whsec_` and 32 random bytes in hex.
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("whsec_{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_signature_verifies_within_the_window_only() {
        let body = br#"{"id":1,"type":"ping"}"#;
        let h = signature("whsec_k", 1_700_000_000, body);
        assert!(h.starts_with("t=1700000000,v1="));
        assert!(verify("whsec_k", &h, body, 1_700_000_100));
        assert!(!verify("whsec_k", &h, body, 1_700_000_301));
        assert!(!verify("whsec_other", &h, body, 1_700_000_000));
        assert!(!verify("whsec_k", &h, b"{}", 1_700_000_000));
        assert!(!verify("whsec_k", "v1=00", body, 1_700_000_000));
    }

    #[test]
    fn the_hmac_is_the_documented_one() {
        // python3 -c 'import hmac,hashlib;print(hmac.new(b"key",b"1.abc",hashlib.sha256).hexdigest())'
        assert_eq!(
            signature("key", 1, b"abc"),
            "t=1,v1=90ebc65a2174297bcabd31e7cdb290734ffd97b67d17c09a380b0d4828d3d90c"
        );
    }

    #[test]
    fn urls_are_checked() {
        assert!(check_url("https://dept.example.gov.cn/hooks/duban").is_ok());
        assert!(check_url("http://127.0.0.1:9000/x?y=1").is_ok());
        assert_eq!(check_url("http://[::1]:9000/x"), Ok("::1"));
        assert_eq!(check_url("https://Dept.example:8443/h"), Ok("Dept.example"));
        assert!(check_url("ftp://x").is_err());
        assert!(check_url("http://").is_err());
        assert!(check_url("http://u:p@host/").is_err());
        assert!(check_url("http://host:0/").is_err());
        assert!(check_url("http://host:99999/").is_err());
        assert!(check_url("http://host/a b").is_err());
        assert!(check_url("http://host/#f").is_err());
        assert!(check_url("http://ho st/").is_err());
    }

    #[test]
    fn event_sets_name_known_types() {
        let s = EventSet::from_names(&["report.submitted".into(), "urge.issued".into()]).unwrap();
        assert_eq!(s.to_stored(), "report.submitted urge.issued");
        assert_eq!(EventSet::from_stored(&s.to_stored()), s);
        assert!(EventSet::from_names(&[]).is_err());
        assert!(EventSet::from_names(&["report.eaten".into()]).is_err());
        assert!(EventSet::from_names(&["ping".into()]).is_err());
        let all = EventSet::from_names(&["*".into()]).unwrap();
        assert_eq!(all.names().len(), EventType::ALL.len() - 1);
    }

    #[test]
    fn a_unit_subscription_reaches_its_own_unit_only() {
        assert!(reaches(Covers::Unit, Some(3), 3));
        assert!(!reaches(Covers::Unit, Some(3), 4));
        assert!(!reaches(Covers::Unit, None, 4));
        assert!(reaches(Covers::All, None, 4));
    }

    proptest! {
        #[test]
        fn waits_grow_are_bounded_and_never_zero(attempts in 1i32..40, jitter in 0.0f64..1.0) {
            let p = RetryPolicy::default();
            let w = p.wait_secs(attempts, jitter);
            prop_assert!(w >= 1 && w <= p.max_secs);
            let full = (p.base_secs << (attempts.min(31) - 1).min(30)).min(p.max_secs);
            prop_assert!(w >= full / 2 && w <= full);
        }
    }
}
