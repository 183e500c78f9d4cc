//! Both backends' migrations produce the same schema shape.

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use std::collections::BTreeMap;

type Shape = BTreeMap<String, Vec<(String, String, bool)>>;

fn normalize(t: &str) -> String {
    let t = t.to_lowercase();
    if t.contains("int") {
        "int".into()
    } else if t.contains("timestamp") {
        "timestamp".into()
    } else if t.starts_with("bool") {
        "bool".into()
    } else {
        t
    }
}

#[derive(QueryableByName)]
struct TableName {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text, column_name = "type")]
    ty: String,
    #[diesel(sql_type = Integer)]
    notnull: i32,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

fn sqlite_shape() -> Shape {
    let dir = std::env::temp_dir().join(format!("duban-shape-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let url = duban::config::DatabaseUrl::Sqlite(dir.join("shape.db"));
    let db = duban::db::Db::connect(&url, 1).unwrap();
    let mut c = db.get().unwrap();
    duban::db::migrations::run_pending(&mut c).unwrap();
    let tables: Vec<TableName> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations'",
    )
    .load(&mut *c)
    .unwrap();
    let mut shape = Shape::new();
    for t in tables {
        let cols: Vec<SqliteColumn> = diesel::sql_query(format!("PRAGMA table_info({})", t.name))
            .load(&mut *c)
            .unwrap();
        let mut v: Vec<_> = cols
            .into_iter()
            .map(|c| (c.name, normalize(&c.ty), c.notnull == 0 && c.pk == 0))
            .collect();
        v.sort();
        shape.insert(t.name, v);
    }
    let _ = std::fs::remove_dir_all(&dir);
    shape
}

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

fn postgres_shape(admin_url: &str) -> Shape {
    let name = format!("duban_shape_{}", std::process::id());
    let mut admin = PgConnection::establish(admin_url).unwrap();
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .unwrap();
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .unwrap();
    let base = admin_url.rsplit_once('/').unwrap().0;
    let url = duban::config::DatabaseUrl::Postgres(format!("{base}/{name}"));
    let shape = {
        let db = duban::db::Db::connect(&url, 1).unwrap();
        let mut c = db.get().unwrap();
        duban::db::migrations::run_pending(&mut c).unwrap();
        let cols: Vec<PgColumn> = diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name, data_type::text AS data_type, is_nullable::text AS is_nullable \
             FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
        )
        .load(&mut *c)
        .unwrap();
        let mut shape = Shape::new();
        for col in cols {
            shape.entry(col.table_name).or_default().push((
                col.column_name,
                normalize(&col.data_type),
                col.is_nullable == "YES",
            ));
        }
        for v in shape.values_mut() {
            v.sort();
        }
        shape
    };
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .unwrap();
    shape
}

/// The shape the PostgreSQL migration files declare, read from their text (each column on its own
/// line inside `CREATE TABLE … ( … );`, or `ALTER TABLE … ADD COLUMN …;` on one line; a later
/// `DROP TABLE …;` on one line removes the table, so that a table made again is read afresh).
fn declared_postgres_shape() -> Shape {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path().join("up.sql"))
        .collect();
    files.sort();
    let mut shape = Shape::new();
    for f in files {
        let sql = std::fs::read_to_string(f).unwrap();
        let mut table: Option<String> = None;
        for line in sql.lines().map(str::trim) {
            if let Some((t, column)) = line
                .strip_prefix("ALTER TABLE ")
                .and_then(|rest| rest.split_once(" ADD COLUMN "))
            {
                let mut words = column.split_whitespace();
                if let (Some(col), Some(ty)) = (words.next(), words.next()) {
                    shape.entry(t.trim().to_owned()).or_default().push((
                        col.to_owned(),
                        normalize(ty.trim_end_matches(';')),
                        !column.contains("NOT NULL"),
                    ));
                }
            } else if let Some(t) = line.strip_prefix("DROP TABLE ") {
                shape.remove(t.trim_end_matches(';').trim());
            } else if let Some(rest) = line.strip_prefix("CREATE TABLE ") {
                table = Some(rest.trim_end_matches(" (").trim().to_owned());
            } else if line.starts_with(");") {
                table = None;
            } else if let Some(t) = &table {
                let mut words = line.split_whitespace();
                let (Some(col), Some(ty)) = (words.next(), words.next()) else {
                    continue;
                };
                if ["CHECK", "PRIMARY", "UNIQUE", "FOREIGN", "CONSTRAINT"].contains(&col) {
                    continue;
                }
                let nullable = !line.contains("NOT NULL") && !line.contains("PRIMARY KEY");
                shape.entry(t.clone()).or_default().push((
                    col.to_owned(),
                    normalize(ty.trim_end_matches(',')),
                    nullable,
                ));
            }
        }
    }
    for v in shape.values_mut() {
        v.sort();
    }
    shape
}

#[test]
fn both_backends_migrate_to_the_same_schema_shape() {
    let sqlite = sqlite_shape();
    assert!(sqlite.contains_key("users") && sqlite.contains_key("audit_log"));
    assert_eq!(
        sqlite,
        declared_postgres_shape(),
        "SQLite's migrated schema differs from the PostgreSQL migrations"
    );
    if let Ok(url) = std::env::var("DUBAN_TEST_DATABASE_URL") {
        assert_eq!(
            sqlite,
            postgres_shape(&url),
            "SQLite's and PostgreSQL's migrated schemas differ"
        );
    }
}
