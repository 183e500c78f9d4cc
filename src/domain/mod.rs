//! Types and rules of the domain, with no I/O: ids, roles, unit kinds, account rules, the
//! login-throttling rule.

pub mod account;
pub mod ids;
pub mod role;
pub mod throttle;
pub mod unit;
