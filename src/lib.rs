//! duban (督办): a REST API with which a city's coordinating office for the rule of law
//! (依法治市办) assigns each year's tasks to lead and participating units, collects their
//! completion reports, chases overdue work and compiles the summary tables.
//!
//! Layout: [`api`] (thin handlers), [`auth`] (passwords, tokens, policy), [`domain`] (rules
//! without I/O), [`store`] (all SQL), [`db`] (connections over PostgreSQL and SQLite).

pub mod api;
pub mod app;
pub mod auth;
pub mod benchdata;
pub mod bootstrap;
pub mod config;
pub mod db;
pub mod demo;
pub mod documents;
pub mod domain;
pub mod error;
pub mod jobs;
pub mod service;
pub mod storage;
pub mod store;
pub mod tables;
pub mod telemetry;

pub use app::{AppState, Application};
pub use config::Settings;
