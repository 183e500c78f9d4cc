//! Newtype ids, so that an id of one kind cannot be passed where another is expected.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::BigInt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow, utoipa::ToSchema,
        )]
        #[diesel(sql_type = BigInt)]
        #[serde(transparent)]
        #[schema(value_type = i64, example = 42)]
        pub struct $name(pub i64);

        impl<DB: Backend> FromSql<BigInt, DB> for $name
        where
            i64: FromSql<BigInt, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                i64::from_sql(bytes).map($name)
            }
        }

        impl<DB: Backend> ToSql<BigInt, DB> for $name
        where
            i64: ToSql<BigInt, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                <i64 as ToSql<BigInt, DB>>::to_sql(&self.0, out)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// The id of a unit (单位).
    UnitId
);
id_type!(
    /// The id of a user account.
    UserId
);
id_type!(
    /// The id of a unit group.
    GroupId
);
id_type!(
    /// The id of a plan (年度计划).
    PlanId
);
id_type!(
    /// The id of a section, task or measure of a plan's task tree.
    ItemId
);
id_type!(
    /// The id of a source document (任务来源).
    SourceId
);
id_type!(
    /// The id of an assignment.
    AssignmentId
);
id_type!(
    /// The id of a report (完成情况).
    ReportId
);
