//! Domain enums stored as text: one macro gives an enum diesel's `ToSql` and `FromSql` for
//! `Text` on PostgreSQL, SQLite and the multi-backend of [`AnyConnection`](super::AnyConnection).
//!
//! To store an enum: give it `as_str(self) -> &'static str` and `parse(&str) -> Option<Self>`
//! (the stored names, which are also its serde names), derive
//! `diesel::AsExpression, diesel::FromSqlRow` with `#[diesel(sql_type = diesel::sql_types::Text)]`,
//! and invoke `crate::stored_as_text!(TheEnum);`. The enum can then be a field of `Queryable`,
//! `Selectable`, `Insertable` and `AsChangeset` structs and a value in `.eq(…)` / `.eq_any(…)`.
//!
//! Reading a stored name the enum does not know is a deserialization error (logged, answered as
//! a 500), never a default.

/// Implements `ToSql<Text, DB>` and `FromSql<Text, DB>` for enums with `as_str` and `parse`, for
/// every backend `DB` whose `str` / `String` do (PostgreSQL, SQLite and the multi-backend).
#[macro_export]
macro_rules! stored_as_text {
    ($($ty:ident),+ $(,)?) => {$(
        impl $crate::db::text::StoredName for $ty {
            fn stored_name(self) -> &'static str {
                self.as_str()
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $ty
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let s = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    DB,
                >>::from_sql(bytes)?;
                $ty::parse(&s).ok_or_else(|| {
                    format!(concat!("unknown ", stringify!($ty), " stored: {:?}"), s).into()
                })
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $ty
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }
    )+};
}

/// The name a value of a domain enum is stored under; implemented by [`stored_as_text!`].
pub trait StoredName: Copy {
    /// The stored name (snake_case ASCII, the same as the serde name).
    fn stored_name(self) -> &'static str;
}

/// A stored name as a SQL string literal, for SQL text built by hand: `'published'`.
pub fn sql_literal(value: impl StoredName) -> String {
    format!("'{}'", value.stored_name())
}

/// Stored names as a parenthesised SQL list, for `IN`: `('completed', 'not_applicable')`.
pub fn sql_list<T: StoredName>(values: &[T]) -> String {
    let names: Vec<String> = values.iter().map(|v| sql_literal(*v)).collect();
    format!("({})", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::AnyConnection;
    use crate::domain::report::Workflow;
    use crate::error::ApiError;
    use diesel::prelude::*;
    use diesel::sql_types::Text;

    fn read(c: &mut AnyConnection, stored: &str) -> QueryResult<Workflow> {
        diesel::select(stored.into_sql::<Text>()).get_result(c)
    }

    fn connections() -> Vec<AnyConnection> {
        let mut all = vec![AnyConnection::Sqlite(
            diesel::SqliteConnection::establish(":memory:").unwrap(),
        )];
        if let Ok(url) = std::env::var("DUBAN_TEST_DATABASE_URL") {
            all.push(AnyConnection::Pg(
                diesel::PgConnection::establish(&url).unwrap(),
            ));
        }
        all
    }

    #[test]
    fn every_stored_name_reads_back_as_its_value() {
        for mut c in connections() {
            for w in Workflow::ALL {
                assert_eq!(read(&mut c, w.as_str()).unwrap(), w);
                let back: String = diesel::select(w.into_sql::<Text>())
                    .get_result(&mut c)
                    .unwrap();
                assert_eq!(back, w.as_str());
            }
        }
    }

    #[test]
    fn an_unknown_stored_name_is_an_error_not_a_default() {
        for mut c in connections() {
            let err = match read(&mut c, "bogus") {
                Err(e @ diesel::result::Error::DeserializationError(_)) => e,
                other => panic!("expected a deserialization error, got {other:?}"),
            };
            // Answered as an opaque 500; the cause is kept for the log.
            match ApiError::from(err) {
                ApiError::Internal(cause) => {
                    assert!(
                        cause.ends_with(r#"unknown Workflow stored: "bogus""#),
                        "{cause}"
                    )
                }
                other => panic!("expected an internal error, got {other:?}"),
            }
        }
    }

    #[test]
    fn sql_lists_quote_stored_names() {
        assert_eq!(
            sql_list(&Workflow::SENT),
            "('submitted', 'resubmitted', 'accepted')"
        );
        assert_eq!(sql_literal(Workflow::Draft), "'draft'");
    }
}

/// The lead role (`'lead'`) written into a diesel statement as a literal rather than bound: a
/// statement that names it keeps one text (and its place in the statement cache), and the plan
/// PostgreSQL keeps for it can use the partial index of lead assignments instead of being
/// planned anew on every call. A type of its own, so that its query id stands for this one
/// literal only.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId, diesel::expression::ValidGrouping)]
pub struct LeadRole;

impl diesel::Expression for LeadRole {
    type SqlType = diesel::sql_types::Text;
}

impl<QS> diesel::AppearsOnTable<QS> for LeadRole {}

impl<QS> diesel::SelectableExpression<QS> for LeadRole {}

impl<DB: diesel::backend::Backend> diesel::query_builder::QueryFragment<DB> for LeadRole {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> diesel::QueryResult<()> {
        out.push_sql(&sql_literal(
            crate::domain::assignment::AssignmentRole::Lead,
        ));
        Ok(())
    }
}
