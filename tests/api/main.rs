//! The integration suite: the real app on a random port, a fresh database per test (a temporary
//! SQLite file, or a new PostgreSQL database when `DUBAN_TEST_DATABASE_URL` is set), spoken to
//! over HTTP.

mod helpers;

mod access;
mod auth;
mod desk;
mod documents;
mod errors;
mod hygiene;
mod import;
mod isolation;
mod openapi;
mod ops;
mod review;
mod roles;
mod schema;
mod workflow;
