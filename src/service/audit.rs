//! Reading the audit trail: admins, the coordinating office and auditors, newest first.

use super::Ctx;
use crate::auth::policy;
use crate::db::AnyConnection;
use crate::error::ApiResult;
use crate::store::audit;

/// One page of audit entries matching the filter, newest first.
pub fn list(
    c: &mut AnyConnection,
    ctx: &Ctx,
    filter: audit::AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> ApiResult<Vec<audit::AuditEntry>> {
    policy::read_audit(&ctx.principal)?;
    Ok(audit::list(c, &filter, before, limit)?)
}
