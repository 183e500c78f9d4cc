//! Who may do what: every rule checks the role *and* the caller's unit, in this one module.

use super::Principal;
use crate::domain::ids::UnitId;
use crate::domain::plan::PlanState;
use crate::domain::role::Role;
use crate::domain::scope::Scope;
use crate::error::{ApiError, ApiResult};

fn deny(what: &str) -> ApiError {
    ApiError::Forbidden(format!("your role may not {what}"))
}

/// Which users a caller may list and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserVisibility {
    /// Every account (admin, coordinator, viewer).
    All,
    /// Accounts of one unit (unit manager).
    Unit(UnitId),
}

/// The working-day calendar is kept by admins and the coordinating office; anyone signed in
/// reads it (it is public: the State Council's schedules and the office's own days off).
pub fn keep_calendar(p: &Principal) -> ApiResult<()> {
    match p.role {
        Role::Admin | Role::Coordinator => Ok(()),
        _ => Err(deny("change the working-day calendar")),
    }
}

/// Anyone signed in may read the unit directory (plans name units); service accounts need
/// `assignments:read`.
pub fn read_units(p: &Principal) -> ApiResult<()> {
    if p.has_scope(Scope::AssignmentsRead) {
        Ok(())
    } else {
        Err(deny("read units without the assignments:read scope"))
    }
}

/// Admins and the coordinating office maintain the unit directory.
pub fn write_units(p: &Principal) -> ApiResult<()> {
    match p.role {
        Role::Admin | Role::Coordinator => Ok(()),
        _ => Err(deny("change units")),
    }
}

/// Which accounts the caller may see.
pub fn read_users(p: &Principal) -> ApiResult<UserVisibility> {
    match (p.role, p.unit_id) {
        (Role::Admin | Role::Coordinator | Role::Viewer, _) => Ok(UserVisibility::All),
        (Role::UnitManager, Some(unit)) => Ok(UserVisibility::Unit(unit)),
        _ => Err(deny("read user accounts")),
    }
}

/// True when `visibility` covers an account of `unit`.
pub fn can_see_user(visibility: UserVisibility, unit: Option<UnitId>) -> bool {
    match visibility {
        UserVisibility::All => true,
        UserVisibility::Unit(own) => unit == Some(own),
    }
}

/// May the caller create, change or reset an account with this role in this unit?
/// Admins: any. Unit managers: reporters, managers and service accounts of their own unit.
pub fn manage_user(p: &Principal, role: Role, unit: Option<UnitId>) -> ApiResult<()> {
    match p.role {
        Role::Admin => Ok(()),
        Role::UnitManager
            if p.unit_id.is_some()
                && unit == p.unit_id
                && matches!(role, Role::UnitReporter | Role::UnitManager | Role::Service) =>
        {
            Ok(())
        }
        Role::UnitManager => Err(ApiError::Forbidden(
            "a unit manager manages only reporters, managers and service accounts of its own unit"
                .into(),
        )),
        _ => Err(deny("manage user accounts")),
    }
}

/// The audit trail is for admins, the coordinating office and auditors.
pub fn read_audit(p: &Principal) -> ApiResult<()> {
    match p.role {
        Role::Admin | Role::Coordinator | Role::Viewer => Ok(()),
        _ => Err(deny("read the audit log")),
    }
}

/// The office's roles: they see every unit's sent work.
pub fn is_office(p: &Principal) -> bool {
    matches!(p.role, Role::Admin | Role::Coordinator | Role::Viewer)
}

/// Plans, their task tree, groups, sources and assignments are built by admins and the office.
pub fn manage_plans(p: &Principal) -> ApiResult<()> {
    match p.role {
        Role::Admin | Role::Coordinator => Ok(()),
        _ => Err(deny("change plans, groups, sources or assignments")),
    }
}

/// Only the office reviews (accepts or returns) reports.
pub fn review_reports(p: &Principal) -> ApiResult<()> {
    match p.role {
        Role::Admin | Role::Coordinator => Ok(()),
        _ => Err(deny("review reports")),
    }
}

/// Who keeps webhook subscriptions, and whose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookKeeper {
    /// The coordinating office (admins, coordinators): every subscription; theirs may cover
    /// every unit's events. The unit is the caller's own, if it has one.
    Office(Option<UnitId>),
    /// A unit's manager, or its department system with `webhooks:manage`: the unit's own
    /// subscriptions, covering the unit's own events only.
    Unit(UnitId),
}

/// May the caller keep webhooks, and whose? Viewers and reporters may not; a department
/// system needs `webhooks:manage`.
pub fn keep_webhooks(p: &Principal) -> ApiResult<WebhookKeeper> {
    match (p.role, p.unit_id) {
        (Role::Admin | Role::Coordinator, unit) => Ok(WebhookKeeper::Office(unit)),
        (Role::UnitManager, Some(unit)) => Ok(WebhookKeeper::Unit(unit)),
        (Role::Service, Some(unit)) if p.has_scope(Scope::WebhooksManage) => {
            Ok(WebhookKeeper::Unit(unit))
        }
        (Role::Service, _) => Err(ApiError::Forbidden(
            "this token lacks the webhooks:manage scope".into(),
        )),
        _ => Err(deny("keep webhooks")),
    }
}

/// The unit a unit-bound caller acts for; the office gets `None` (no unit limit).
pub fn unit_scope(p: &Principal) -> ApiResult<Option<UnitId>> {
    if is_office(p) {
        return Ok(None);
    }
    if !p.has_scope(Scope::AssignmentsRead) && !p.has_scope(Scope::ReportsRead) {
        return Err(deny("read assignments without the assignments:read scope"));
    }
    p.unit_id
        .map(Some)
        .ok_or_else(|| ApiError::Forbidden("the account belongs to no unit".into()))
}

/// The unit whose assignments, deadlines and figures the caller reads (`None`: the office, no
/// limit). A department system needs `assignments:read`; `reports:read` alone does not open
/// them.
pub fn assignment_scope(p: &Principal) -> ApiResult<Option<UnitId>> {
    if is_office(p) {
        return Ok(None);
    }
    if !p.has_scope(crate::domain::scope::Scope::AssignmentsRead) {
        return Err(deny("read assignments without the assignments:read scope"));
    }
    p.unit_id
        .map(Some)
        .ok_or_else(|| ApiError::Forbidden("the account belongs to no unit".into()))
}

/// May the caller draft or edit reports of an assignment of `unit`?
/// Its own unit's reporters and managers, and service accounts with `reports:write`.
pub fn write_report(p: &Principal, unit: UnitId) -> ApiResult<()> {
    let own = p.unit_id == Some(unit);
    match p.role {
        Role::UnitReporter | Role::UnitManager if own => Ok(()),
        Role::Service if own && p.has_scope(Scope::ReportsWrite) => Ok(()),
        Role::Service if own => Err(ApiError::Forbidden(
            "this token lacks the reports:write scope".into(),
        )),
        _ => Err(ApiError::Forbidden(
            "only the assigned unit's reporters and managers write its reports".into(),
        )),
    }
}

/// May the caller submit reports of `unit`? Its unit managers, and service accounts with
/// `reports:submit`.
pub fn submit_report(p: &Principal, unit: UnitId) -> ApiResult<()> {
    let own = p.unit_id == Some(unit);
    match p.role {
        Role::UnitManager if own => Ok(()),
        Role::Service if own && p.has_scope(Scope::ReportsSubmit) => Ok(()),
        Role::Service if own => Err(ApiError::Forbidden(
            "this token lacks the reports:submit scope".into(),
        )),
        Role::UnitReporter if own => Err(ApiError::Forbidden(
            "a reporter drafts; the unit manager submits".into(),
        )),
        _ => Err(ApiError::Forbidden(
            "only the assigned unit's manager submits its reports".into(),
        )),
    }
}

/// May the caller send a batch of report writes at all? Only who writes or submits some
/// unit's reports: a unit's reporters and managers, and its systems with `reports:write` or
/// `reports:submit`. Each item is then checked as its single operation is
/// ([`write_report`], [`submit_report`]).
pub fn write_reports_in_batch(p: &Principal) -> ApiResult<()> {
    match p.role {
        Role::UnitReporter | Role::UnitManager if p.unit_id.is_some() => Ok(()),
        Role::Service
            if p.unit_id.is_some()
                && (p.has_scope(Scope::ReportsWrite) || p.has_scope(Scope::ReportsSubmit)) =>
        {
            Ok(())
        }
        Role::Service => Err(ApiError::Forbidden(
            "this token lacks the reports:write and reports:submit scopes".into(),
        )),
        _ => Err(ApiError::Forbidden(
            "only a unit's reporters, managers and systems write reports".into(),
        )),
    }
}

/// How the caller reads reports ([`crate::store::reports::Reader`]): the office, viewers and
/// admins every sent report; a unit's people, and its systems with `reports:read`, their own
/// unit's reports (drafts included) and the sent reports on measures their unit leads.
pub fn report_reader(p: &Principal) -> ApiResult<crate::store::reports::Reader> {
    use crate::store::reports::Reader;
    if is_office(p) {
        return Ok(Reader::Office);
    }
    if !p.has_scope(crate::domain::scope::Scope::ReportsRead) {
        return Err(ApiError::Forbidden(
            "this token lacks the reports:read scope".into(),
        ));
    }
    p.unit_id
        .map(Reader::Unit)
        .ok_or_else(|| ApiError::Forbidden("the account belongs to no unit".into()))
}

/// May the caller see an urge to `unit`? The office any, a unit its own.
pub fn read_urge(p: &Principal, unit: UnitId) -> bool {
    is_office(p) || p.unit_id == Some(unit)
}

/// Whose urges the caller lists, given the unit it asked for: the office any (or all), a unit
/// only its own.
pub fn urge_units(p: &Principal, asked: Option<UnitId>) -> ApiResult<Option<UnitId>> {
    match (unit_scope(p)?, asked) {
        (None, u) => Ok(u),
        (Some(own), None) => Ok(Some(own)),
        (Some(own), Some(u)) if u == own => Ok(Some(own)),
        (Some(_), Some(_)) => Err(ApiError::Forbidden("a unit sees only its own urges".into())),
    }
}

/// May the caller answer an urge to `unit`? Its people, or its system with `urges:reply`.
pub fn answer_urge(p: &Principal, unit: UnitId) -> ApiResult<()> {
    let own = p.unit_id == Some(unit);
    match p.role {
        Role::UnitManager | Role::UnitReporter if own => Ok(()),
        Role::Service if own && p.has_scope(Scope::UrgesReply) => Ok(()),
        _ => Err(ApiError::Forbidden(
            "only the urged unit answers an urge".into(),
        )),
    }
}

/// May the caller answer for an assignment of `unit` as that unit: sign for it (签收), ask
/// for more time (延期申请), dispute it (异议)? Its people sign; asking and disputing commit the
/// unit, so its manager does; its system with `assignments:respond` does both.
pub fn respond_for_unit(p: &Principal, unit: UnitId, commits_the_unit: bool) -> ApiResult<()> {
    let own = p.unit_id == Some(unit);
    match p.role {
        Role::UnitManager if own => Ok(()),
        Role::UnitReporter if own && !commits_the_unit => Ok(()),
        Role::UnitReporter if own => Err(ApiError::Forbidden(
            "a reporter drafts; the unit manager asks the office".into(),
        )),
        Role::Service if own && p.has_scope(Scope::AssignmentsRespond) => Ok(()),
        Role::Service if own => Err(ApiError::Forbidden(
            "this token lacks the assignments:respond scope".into(),
        )),
        _ => Err(ApiError::Forbidden(
            "only the assigned unit answers for its assignments".into(),
        )),
    }
}

/// Only the office decides a unit's requests (extensions, disputes).
pub fn decide_requests(p: &Principal) -> ApiResult<()> {
    match p.role {
        Role::Admin | Role::Coordinator => Ok(()),
        _ => Err(deny("decide units' requests")),
    }
}

/// Whose requests (extensions, disputes) the caller lists, given the unit it asked for: the
/// office any (or all); a unit only its own (a system needs `assignments:read`).
pub fn request_units(p: &Principal, asked: Option<UnitId>) -> ApiResult<Option<UnitId>> {
    match (assignment_scope(p)?, asked) {
        (None, u) => Ok(u),
        (Some(own), None) => Ok(Some(own)),
        (Some(own), Some(u)) if u == own => Ok(Some(own)),
        (Some(_), Some(_)) => Err(ApiError::Forbidden(
            "a unit sees only its own requests".into(),
        )),
    }
}

/// May the caller see a request (extension, dispute) of `unit`? The office any, a unit its own.
pub fn read_request(p: &Principal, unit: UnitId) -> ApiResult<bool> {
    Ok(match assignment_scope(p)? {
        None => true,
        Some(own) => own == unit,
    })
}

/// May the caller see a plan in this state? Units never see drafts.
pub fn read_plan(p: &Principal, state: PlanState) -> bool {
    is_office(p) || units_see_plan(state)
}

/// Whether units see a plan in this state, and so its assignments, in any response or event:
/// once it is published (a draft is the office's alone).
pub fn units_see_plan(state: PlanState) -> bool {
    state != PlanState::Draft
}

/// The plan states the caller may list: the office all, units published and closed plans.
pub fn plan_states(p: &Principal) -> Vec<PlanState> {
    if is_office(p) {
        PlanState::ALL.to_vec()
    } else {
        vec![PlanState::Published, PlanState::Closed]
    }
}

/// Whose answers the caller may put in a summary table or annual report, given the unit it
/// asked for: the office any unit's sent answers, or every sent answer; a unit only its own, as
/// it sees them (drafts included). The answers are report text: read as reports are read.
pub fn answers_for(
    p: &Principal,
    unit: Option<UnitId>,
) -> ApiResult<(crate::tables::Answers, crate::store::reports::Reader)> {
    use crate::store::reports::Reader;
    use crate::tables::Answers;
    let reader = report_reader(p)?;
    let answers = match (reader, unit) {
        (Reader::Unit(own), Some(u)) if own == u => Answers::Unit(u),
        (Reader::Unit(own), None) => Answers::Unit(own),
        (Reader::Unit(_), Some(_)) => {
            return Err(ApiError::Forbidden(
                "a unit reads only its own answers".into(),
            ))
        }
        (_, Some(u)) => Answers::Unit(u),
        (_, None) => Answers::Consolidated,
    };
    Ok((answers, reader))
}

/// Whose assignments a caller limited to `scope` lists, given the unit it asked for and whether
/// its unit leads the measure asked for: the office any; a unit its own, or every assignment of
/// a measure it leads.
pub fn assignment_units(
    scope: Option<UnitId>,
    asked: Option<UnitId>,
    leads_measure: bool,
) -> ApiResult<Option<UnitId>> {
    match (scope, asked) {
        (None, u) => Ok(u),
        (Some(own), Some(u)) if u != own && !leads_measure => Err(ApiError::Forbidden(
            "a unit sees only its own assignments".into(),
        )),
        (Some(own), None) if !leads_measure => Ok(Some(own)),
        (Some(_), u) => Ok(u),
    }
}

/// Whose accounts the caller lists, given the unit it asked for: all (or the one asked for), or
/// only its own unit's.
pub fn user_units(vis: UserVisibility, asked: Option<UnitId>) -> ApiResult<Option<UnitId>> {
    match vis {
        UserVisibility::All => Ok(asked),
        UserVisibility::Unit(own) if asked.is_none() || asked == Some(own) => Ok(Some(own)),
        UserVisibility::Unit(_) => Err(ApiError::Forbidden(
            "you may list only your own unit's accounts".into(),
        )),
    }
}

/// The unit whose desk (overdue, due soon, figures, inbox) the caller reads, given the unit it
/// asked for: the office any (or none), a unit only its own.
pub fn desk_unit(p: &Principal, asked: Option<i64>) -> ApiResult<Option<i64>> {
    match (assignment_scope(p)?, asked) {
        (None, asked) => Ok(asked),
        (Some(own), None) => Ok(Some(own.0)),
        (Some(own), Some(u)) if u == own.0 => Ok(Some(u)),
        (Some(_), Some(_)) => Err(ApiError::Forbidden("a unit sees only its own work".into())),
    }
}

/// People change their own password; a service account's secret is rotated by an administrator.
pub fn change_own_password(p: &Principal) -> ApiResult<()> {
    if p.role == Role::Service {
        return Err(ApiError::Forbidden(
            "a service account rotates its secret through an administrator".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::UserId;
    use crate::domain::scope::ScopeSet;

    fn who(role: Role, unit: Option<i64>) -> Principal {
        Principal {
            user_id: UserId(1),
            username: "x".into(),
            role,
            unit_id: unit.map(UnitId),
            scopes: ScopeSet::empty(),
        }
    }

    #[test]
    fn unit_managers_manage_only_their_own_unit() {
        let m = who(Role::UnitManager, Some(5));
        assert!(manage_user(&m, Role::UnitReporter, Some(UnitId(5))).is_ok());
        assert!(manage_user(&m, Role::Service, Some(UnitId(5))).is_ok());
        assert!(manage_user(&m, Role::UnitReporter, Some(UnitId(6))).is_err());
        assert!(manage_user(&m, Role::Admin, Some(UnitId(5))).is_err());
        assert!(manage_user(&m, Role::Coordinator, None).is_err());
    }

    #[test]
    fn only_admins_and_the_office_change_units() {
        assert!(write_units(&who(Role::Admin, None)).is_ok());
        assert!(write_units(&who(Role::Coordinator, Some(1))).is_ok());
        for r in [
            Role::UnitManager,
            Role::UnitReporter,
            Role::Viewer,
            Role::Service,
        ] {
            assert!(write_units(&who(r, Some(1))).is_err());
        }
    }

    #[test]
    fn reporters_and_services_see_no_accounts() {
        assert!(read_users(&who(Role::UnitReporter, Some(1))).is_err());
        assert!(read_users(&who(Role::Service, Some(1))).is_err());
        assert_eq!(
            read_users(&who(Role::UnitManager, Some(1))).unwrap(),
            UserVisibility::Unit(UnitId(1))
        );
    }

    #[test]
    fn a_service_without_scope_cannot_read_units() {
        let mut s = who(Role::Service, Some(1));
        assert!(read_units(&s).is_err());
        s.scopes = ScopeSet::from_iter([Scope::AssignmentsRead]);
        assert!(read_units(&s).is_ok());
    }
}
