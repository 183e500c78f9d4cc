//! Table definitions shared by both backends (kept in step with `migrations/`).
//!
//! Timestamps are `Timestamp` (UTC, no zone) because that is the type PostgreSQL and SQLite share
//! through diesel's multi-backend.

diesel::table! {
    /// 单位: a department, district government or other body that receives assignments.
    units (id) {
        id -> BigInt,
        name -> Text,
        short_name -> Nullable<Text>,
        kind -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Other names of a unit (市城管局 for 市城市管理局).
    unit_aliases (id) {
        id -> BigInt,
        unit_id -> BigInt,
        alias -> Text,
    }
}

diesel::table! {
    /// Accounts of people and of department systems (role `service`).
    users (id) {
        id -> BigInt,
        username -> Text,
        display_name -> Text,
        unit_id -> Nullable<BigInt>,
        role -> Text,
        scopes -> Text,
        active -> Bool,
        password_hash -> Text,
        password_changed_at -> Timestamp,
        failed_logins -> Integer,
        last_failed_login_at -> Nullable<Timestamp>,
        last_login_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Refresh tokens, stored as SHA-256 hashes, grouped in rotation families.
    refresh_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        family -> Text,
        token_hash -> Text,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Failed-login counters per account name and per client address.
    login_throttles (key) {
        key -> Text,
        failures -> Integer,
        window_started_at -> Timestamp,
        blocked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Append-only record of every write.
    audit_log (id) {
        id -> BigInt,
        occurred_at -> Timestamp,
        actor_user_id -> Nullable<BigInt>,
        actor_unit_id -> Nullable<BigInt>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Nullable<BigInt>,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
        request_id -> Nullable<Text>,
    }
}

diesel::joinable!(unit_aliases -> units (unit_id));
diesel::joinable!(users -> units (unit_id));
diesel::joinable!(refresh_tokens -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    units,
    unit_aliases,
    users,
    refresh_tokens,
    login_throttles,
    audit_log,
);
