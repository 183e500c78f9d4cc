//! Embedded migrations, one set per backend (`migrations/postgres`, `migrations/sqlite`).

use super::AnyConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Applies every pending migration; returns the versions applied.
pub fn run_pending(conn: &mut AnyConnection) -> Result<Vec<String>, BoxError> {
    let applied = match conn {
        AnyConnection::Pg(c) => c.run_pending_migrations(POSTGRES)?,
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE)?,
    };
    Ok(applied.into_iter().map(|v| v.to_string()).collect())
}

/// True when every migration has been applied (for `/readyz`).
pub fn is_current(conn: &mut AnyConnection) -> Result<bool, BoxError> {
    let pending = match conn {
        AnyConnection::Pg(c) => c.has_pending_migration(POSTGRES)?,
        AnyConnection::Sqlite(c) => c.has_pending_migration(SQLITE)?,
    };
    Ok(!pending)
}
