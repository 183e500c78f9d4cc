//! Types and rules of the domain, with no I/O: ids, roles, unit kinds, account rules, the
//! login-throttling rule.

pub mod account;
pub mod assignment;
pub mod calendar;
pub mod desk;
pub mod destination;
pub mod dispute;
pub mod evidence;
pub mod extension;
pub mod ids;
pub mod plan;
pub mod progress;
pub mod report;
pub mod resolve;
pub mod role;
pub mod scope;
pub mod standing;
pub mod table;
pub mod text;
pub mod throttle;
pub mod timeline;
pub mod unit;
pub mod webhook;
