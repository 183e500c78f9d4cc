//! Parsing request input strictly, keeping the failing path: JSON bodies (one value, structs
//! only from objects, no U+0000 anywhere), and query strings and forms. Every failure is a
//! problem naming where it sits.

use crate::domain::text::{self, NUL_MESSAGE};
use crate::error::{ApiError, FieldError};
use serde::de::{DeserializeOwned, Visitor};
use serde::Deserializer;

/// Turns a serde failure into a problem naming the field: unparseable input is a 400 Bad
/// Request; parseable input with a wrong or missing field is a 422.
pub(super) fn deserialize_problem(path: String, message: String, syntax: bool) -> ApiError {
    let field = if let Some(name) = backticked(&message, "missing field `") {
        join_path(&path, &name)
    } else {
        path
    };
    let message = strip_position(&message);
    if syntax {
        ApiError::BadRequest {
            detail: format!("the body is not valid JSON: {message}"),
            errors: vec![],
        }
    } else {
        ApiError::Validation(vec![FieldError::new(
            if field.is_empty() || field == "." {
                "body".into()
            } else {
                field
            },
            message,
        )])
    }
}

fn backticked(message: &str, prefix: &str) -> Option<String> {
    let start = message.find(prefix)? + prefix.len();
    let end = message[start..].find('`')? + start;
    Some(message[start..end].to_owned())
}

pub(super) fn join_path(parent: &str, name: &str) -> String {
    if parent.is_empty() || parent == "." {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Parses a JSON body strictly: one value and nothing after it, structs only from objects, no
/// U+0000 in any string or key; every failure names where it sits.
pub(super) fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    unstorable_json(body)?;
    let mut de = serde_json::Deserializer::from_slice(body);
    let mut track = serde_path_to_error::Track::new();
    let parsed = T::deserialize(Strict(serde_path_to_error::Deserializer::new(
        &mut de, &mut track,
    )))
    .and_then(|value| de.end().map(|()| value));
    parsed.map_err(|e| {
        // serde_json reports a value of the wrong kind for an enum (`"status": 1`) as a syntax
        // error; the body is only unreadable when it is not JSON at all.
        let syntax = matches!(
            e.classify(),
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof
        ) && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err();
        deserialize_problem(track.path().to_string(), e.to_string(), syntax)
    })
}

/// Parses one part of a JSON body already read (an item of a list, say), every failure a 422
/// naming the field under `at` (`items[3].status`). The body it came from was checked for
/// U+0000 when it was read.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value, at: &str) -> Result<T, ApiError> {
    let mut track = serde_path_to_error::Track::new();
    T::deserialize(serde_path_to_error::Deserializer::new(value, &mut track)).map_err(|e| {
        let message = e.to_string();
        let inner = track.path().to_string();
        let path = match inner.as_str() {
            "" | "." => at.to_owned(),
            _ => join_path(at, &inner),
        };
        deserialize_problem(path, message, false)
    })
}

/// A 422 naming the first string or key of a JSON body holding U+0000. JSON can only carry it
/// escaped, so bodies without `\u0000` are passed over without parsing.
fn unstorable_json(body: &[u8]) -> Result<(), ApiError> {
    if !body.windows(6).any(|w| w == b"\\u0000") {
        return Ok(());
    }
    // Unparseable bodies are answered by the strict parse that follows.
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => match nul_path(&value, String::new()) {
            Some(path) => Err(ApiError::invalid(path, NUL_MESSAGE)),
            None => Ok(()),
        },
        Err(_) => Ok(()),
    }
}

/// The path (as serde_path_to_error writes it: `a.b`, `a[1]`) of the first string or key
/// holding U+0000 in `value`.
fn nul_path(value: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(s) if !text::storable(s) => {
            Some(if path.is_empty() { "body".into() } else { path })
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_path(v, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = join_path(&path, &k.replace('\0', "\\u0000"));
            if text::storable(k) {
                nul_path(v, here)
            } else {
                Some(here)
            }
        }),
        _ => None,
    }
}

/// The top of a JSON body: a struct is read only from a JSON object. serde_json, like every
/// self-describing format, lets a derived struct be filled from an array by position; a client
/// sending `[null, null]` for a PATCH would otherwise change nothing and get a 200.
struct Strict<D>(D);

macro_rules! forward {
    ($($method:ident),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            self.0.$method(visitor)
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<D> {
    type Error = D::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_map(visitor)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_unit_struct(name, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_newtype_struct(name, visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_tuple(len, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_tuple_struct(name, len, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    forward!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any,
    );
}

pub(super) fn from_urlencoded<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let unstorable: Vec<FieldError> = form_urlencoded::parse(bytes)
        .filter(|(k, v)| !text::storable(k) || !text::storable(v))
        .map(|(k, _)| FieldError::new(k.replace('\0', "\\u0000"), NUL_MESSAGE))
        .collect();
    if !unstorable.is_empty() {
        return Err(ApiError::Validation(unstorable));
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(bytes));
    serde_path_to_error::deserialize(de)
        .map_err(|e| deserialize_problem(e.path().to_string(), e.inner().to_string(), false))
}

#[cfg(test)]
mod tests {
    use super::super::PageQuery;
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Changes {
        name: Option<String>,
        aliases: Option<Vec<String>>,
        nested: Option<Vec<Changes>>,
    }

    fn field_of(e: ApiError) -> String {
        match e {
            ApiError::Validation(errs) => errs[0].field.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_struct_is_read_from_an_object_only() {
        assert!(from_json::<Changes>(br#"{"name": "x"}"#).is_ok());
        assert_eq!(
            field_of(from_json::<Changes>(b"[null, null]").unwrap_err()),
            "body"
        );
        assert_eq!(field_of(from_json::<Changes>(b"42").unwrap_err()), "body");
        assert!(from_json::<Vec<i64>>(b"[1, 2]").is_ok());
    }

    #[test]
    fn anything_after_the_body_is_a_bad_request() {
        for body in [
            &br#"{"name": "x"} {"name": "y"}"#[..],
            br#"{"name": "x"}]"#,
            b"{} x",
        ] {
            assert!(
                matches!(from_json::<Changes>(body), Err(ApiError::BadRequest { .. })),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert!(from_json::<Changes>(b" {} \n").is_ok());
    }

    #[test]
    fn nul_is_named_by_its_json_path() {
        let e = from_json::<Changes>(br#"{"aliases": ["a", "b\u0000"]}"#).unwrap_err();
        assert_eq!(field_of(e), "aliases[1]");
        let e = from_json::<Changes>(br#"{"nested": [{"name": "\u0000"}]}"#).unwrap_err();
        assert_eq!(field_of(e), "nested[0].name");
        let e = from_json::<Changes>(br#"{"x\u0000": 1}"#).unwrap_err();
        assert_eq!(field_of(e), "x\\u0000");
        // An escaped backslash before `u0000` is text, not NUL.
        assert!(from_json::<Changes>(br#"{"name": "\\u0000"}"#).is_ok());
    }

    #[test]
    fn nul_in_a_query_or_form_parameter_is_named() {
        let e = from_urlencoded::<PageQuery>(b"limit=5&cursor=a%00b").unwrap_err();
        assert_eq!(field_of(e), "cursor");
    }

    #[test]
    fn a_wrong_kind_of_value_for_an_enum_is_named() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        enum Kind {
            A,
        }
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct WithKind {
            kind: Kind,
        }
        for body in [
            &br#"{"kind": 1}"#[..],
            br#"{"kind": null}"#,
            br#"{"kind": []}"#,
        ] {
            let e = from_json::<WithKind>(body).unwrap_err();
            assert!(matches!(e, ApiError::Validation(_)), "{e:?}");
            assert_eq!(field_of(e), "kind");
        }
    }

    #[test]
    fn a_missing_field_is_named() {
        let e = deserialize_problem(
            ".".into(),
            "missing field `username` at line 1 column 2".into(),
            false,
        );
        match e {
            ApiError::Validation(errs) => {
                assert_eq!(errs[0].field, "username");
                assert_eq!(errs[0].message, "missing field `username`");
            }
            other => panic!("{other:?}"),
        }
    }
}
