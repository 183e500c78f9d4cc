//! The integration suite: the real app on a random port, a fresh database per test (a temporary
//! SQLite file, or a new PostgreSQL database when `DUBAN_TEST_DATABASE_URL` is set), spoken to
//! over HTTP.

mod fixtures;
mod helpers;

mod attachments;
mod auth;
mod bench_data;
mod calendar;
mod consolidation;
mod desk;
mod disputes;
mod documents;
mod endpoints;
mod errors;
mod extensions;
mod http;
mod hygiene;
mod idempotency;
mod import;
mod matrix;
mod matrix_requests;
mod office_view;
mod openapi;
mod ops;
mod plans;
mod progress;
mod property;
mod property_model;
mod receipts;
mod replica;
mod report_batch;
mod report_versions;
mod report_writers;
mod reports;
mod roles;
mod s3;
mod schema;
mod sessions;
mod standing;
mod statements;
mod timeline;
mod unit_isolation;
mod urges;
mod webhook_tls;
mod webhooks;
