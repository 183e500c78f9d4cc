//! Response views that several resources answer with: a plan, a report, an account, an urge.

use crate::domain::desk::Severity;
use crate::domain::ids::{AssignmentId, PlanId, ReportId, UnitId, UserId};
use crate::domain::plan::PlanState;
use crate::domain::report::{ReportStatus, Workflow};
use crate::domain::role::Role;
use crate::store::{plans, reports, urges, users};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// A plan (年度计划).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanView {
    /// The plan's id.
    pub id: PlanId,
    /// Its title.
    #[schema(example = "2019年法治政府建设任务")]
    pub title: String,
    /// The year it covers.
    #[schema(example = 2019)]
    pub year: i32,
    /// The unit that issued it (normally the coordinating office).
    pub issuing_unit_id: Option<UnitId>,
    /// draft, published or closed.
    pub state: PlanState,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was published.
    pub published_at: Option<DateTime<Utc>>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
}

impl From<plans::Plan> for PlanView {
    fn from(p: plans::Plan) -> Self {
        PlanView {
            id: p.id,
            title: p.title,
            year: p.year,
            issuing_unit_id: p.issuing_unit_id,
            state: p.state,
            created_at: p.created_at.and_utc(),
            published_at: p.published_at.map(|t| t.and_utc()),
            closed_at: p.closed_at.map(|t| t.and_utc()),
        }
    }
}

/// A report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportView {
    /// The report's id.
    pub id: ReportId,
    /// The assignment it reports on.
    pub assignment_id: AssignmentId,
    /// The reporting unit.
    pub unit_id: UnitId,
    /// The period: `2019`, `2019-H2`, `2019-Q4`, `2019-11` or `once`.
    #[schema(example = "2019")]
    pub period: String,
    /// How far the work is.
    pub status: ReportStatus,
    /// 工作措施及完成情况: what was done.
    #[schema(
        example = "机构改革后，对我局行政权力进行了清理，目前保留2项行政权力，16项公共服务事项。"
    )]
    pub narrative: String,
    /// 存在的问题: problems met.
    pub problems: String,
    /// 下一步打算: next steps.
    pub next_steps: String,
    /// The share of the work done, in percent (序时进度), if the unit says.
    #[schema(example = 60)]
    pub progress: Option<i32>,
    /// Where it is in review.
    pub workflow: Workflow,
    /// Why the office returned it.
    pub return_reason: Option<String>,
    /// The version, as in the `ETag`.
    pub version: i32,
    /// When it was last submitted.
    pub submitted_at: Option<DateTime<Utc>>,
    /// When the office last reviewed it.
    pub reviewed_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<reports::Report> for ReportView {
    fn from(r: reports::Report) -> Self {
        ReportView {
            id: r.id,
            assignment_id: r.assignment_id,
            unit_id: r.unit_id,
            period: r.period,
            status: r.status,
            narrative: r.narrative,
            problems: r.problems,
            next_steps: r.next_steps,
            progress: r.progress,
            workflow: r.workflow,
            return_reason: r.return_reason,
            version: r.version,
            submitted_at: r.submitted_at.map(|t| t.and_utc()),
            reviewed_at: r.reviewed_at.map(|t| t.and_utc()),
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// An account, without its credentials.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    /// The account's id.
    pub id: UserId,
    /// The login name (the `client_id` of a service account).
    #[schema(example = "ipo-reporter")]
    pub username: String,
    /// The name shown to people.
    #[schema(example = "熊钦松")]
    pub display_name: String,
    /// What the account may do.
    pub role: Role,
    /// The unit it acts for.
    pub unit_id: Option<UnitId>,
    /// Scopes of a service account (empty for people).
    #[schema(example = json!([]))]
    pub scopes: Vec<String>,
    /// Inactive accounts cannot sign in.
    pub active: bool,
    /// Failed sign-ins since the last success.
    pub failed_logins: i32,
    /// The last successful sign-in.
    pub last_login_at: Option<DateTime<Utc>>,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<users::User> for UserView {
    fn from(u: users::User) -> Self {
        UserView {
            id: u.id,
            role: u.role(),
            scopes: u.scopes.names(),
            username: u.username,
            display_name: u.display_name,
            unit_id: u.unit_id,
            active: u.active,
            failed_logins: u.failed_logins,
            last_login_at: u.last_login_at.map(|t| t.and_utc()),
            created_at: u.created_at.and_utc(),
            updated_at: u.updated_at.and_utc(),
        }
    }
}

/// An urge.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UrgeView {
    /// The urge's id.
    pub id: i64,
    /// The unit urged.
    pub unit_id: UnitId,
    /// 提醒, 催办 or 督办.
    pub severity: Severity,
    /// The message.
    #[schema(example = "请于1月20日前报送第（11）项措施的完成情况。")]
    pub message: String,
    /// The date a reply is expected by.
    pub reply_by: Option<NaiveDate>,
    /// True for automatic reminders.
    pub automatic: bool,
    /// Who issued it (`null`: the system).
    pub issued_by: Option<UserId>,
    /// When.
    pub issued_at: DateTime<Utc>,
    /// The assignments it is about.
    pub assignment_ids: Vec<AssignmentId>,
    /// When the unit acknowledged it.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// The unit's reply.
    pub reply: Option<String>,
    /// When it replied.
    pub replied_at: Option<DateTime<Utc>>,
}

impl From<(urges::Urge, Vec<AssignmentId>)> for UrgeView {
    fn from((u, assignment_ids): (urges::Urge, Vec<AssignmentId>)) -> Self {
        UrgeView {
            id: u.id,
            unit_id: u.unit_id,
            severity: u.severity,
            message: u.message,
            reply_by: u.reply_by,
            automatic: u.automatic,
            issued_by: u.issued_by,
            issued_at: u.issued_at.and_utc(),
            assignment_ids,
            acknowledged_at: u.acknowledged_at.map(|t| t.and_utc()),
            reply: u.reply,
            replied_at: u.replied_at.map(|t| t.and_utc()),
        }
    }
}
