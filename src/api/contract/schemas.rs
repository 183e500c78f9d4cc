//! Schema work on the finished document: which fields a response always carries, and example
//! values built from the schemas (their own examples first).

use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// Which way a body travels: a request's example holds the fields a caller must send (and those
/// with an example of their own); a response's every field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Request,
    Response,
}

fn referenced<'a>(schema: &Value, schemas: &'a Value) -> Option<&'a Value> {
    let name = schema["$ref"].as_str()?.rsplit('/').next()?;
    schemas.get(name)
}

/// The schema itself, or what it refers to; a nullable `oneOf` resolved to its other branch.
pub fn resolve<'a>(schema: &'a Value, schemas: &'a Value) -> &'a Value {
    if let Some(target) = referenced(schema, schemas) {
        return resolve(target, schemas);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(branches) = schema[key].as_array() {
            let real: Vec<&Value> = branches.iter().filter(|b| b["type"] != "null").collect();
            if real.len() == 1 && real.len() < branches.len() {
                return resolve(real[0], schemas);
            }
        }
    }
    schema
}

/// True when `null` is one of the values the schema allows.
pub fn nullable(schema: &Value) -> bool {
    schema["type"] == "null"
        || schema["type"]
            .as_array()
            .is_some_and(|t| t.contains(&json!("null")))
        || ["oneOf", "anyOf"].iter().any(|k| {
            schema[*k]
                .as_array()
                .is_some_and(|b| b.iter().any(|x| x["type"] == "null"))
        })
}

/// An example of a value of `schema`, or `None` when none can be made (binary content).
pub fn example(schema: &Value, schemas: &Value, side: Side) -> Option<Value> {
    build(schema, schemas, side, 0)
}

fn build(schema: &Value, schemas: &Value, side: Side, depth: usize) -> Option<Value> {
    if depth > 8 {
        return None;
    }
    if let Some(target) = referenced(schema, schemas) {
        return build(target, schemas, side, depth + 1);
    }
    if let Some(ex) = schema.get("example") {
        return Some(ex.clone());
    }
    if let Some(ex) = schema["examples"].as_array().and_then(|e| e.first()) {
        return Some(ex.clone());
    }
    if let Some(v) = schema.get("const") {
        return Some(v.clone());
    }
    if let Some(v) = schema["enum"]
        .as_array()
        .and_then(|e| e.iter().find(|v| !v.is_null()))
    {
        return Some(v.clone());
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(branches) = schema[key].as_array() {
            return branches
                .iter()
                .filter(|b| b["type"] != "null")
                .find_map(|b| build(b, schemas, side, depth + 1))
                .or_else(|| nullable(schema).then_some(Value::Null));
        }
    }
    if let Some(parts) = schema["allOf"].as_array() {
        let mut merged = Map::new();
        for part in parts {
            if let Some(Value::Object(o)) = build(part, schemas, side, depth + 1) {
                merged.extend(o);
            }
        }
        return Some(Value::Object(merged));
    }
    let kind = match &schema["type"] {
        Value::String(s) => s.as_str(),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => return Some(json!({})),
    };
    Some(match kind {
        "object" => {
            let required: BTreeSet<&str> = schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let mut out = Map::new();
            for (name, property) in schema["properties"].as_object().into_iter().flatten() {
                let wanted = side == Side::Response
                    || required.contains(name.as_str())
                    || property.get("example").is_some();
                if !wanted {
                    continue;
                }
                let value = if side == Side::Response
                    && nullable(property)
                    && !has_own_example(property, schemas)
                {
                    Some(Value::Null)
                } else {
                    build(property, schemas, side, depth + 1)
                };
                if let Some(v) = value {
                    out.insert(name.clone(), v);
                }
            }
            Value::Object(out)
        }
        "array" => match build(&schema["items"], schemas, side, depth + 1) {
            Some(item) if depth < 4 => json!([item]),
            _ => json!([]),
        },
        "string" => match schema["format"].as_str() {
            Some("date-time") => json!("2019-10-12T08:30:00Z"),
            Some("date") => json!("2019-10-12"),
            Some("binary") | Some("byte") => return None,
            _ => json!("示例"),
        },
        "integer" | "number" => json!(schema["minimum"].as_i64().unwrap_or(1).max(1)),
        "boolean" => json!(true),
        _ => Value::Null,
    })
}

fn has_own_example(property: &Value, schemas: &Value) -> bool {
    property.get("example").is_some()
        || ["oneOf", "anyOf"].iter().any(|k| {
            property[*k].as_array().is_some_and(|b| {
                b.iter().any(|x| {
                    x.get("example").is_some()
                        || referenced(x, schemas).is_some_and(|t| t.get("example").is_some())
                })
            })
        })
}

fn refs(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v.as_str()) {
                    ("$ref", Some(r)) => {
                        out.insert(r.rsplit('/').next().unwrap_or_default().to_owned());
                    }
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// The component schemas reachable from `roots`.
fn closure(roots: BTreeSet<String>, schemas: &Value) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = roots.into_iter().collect();
    while let Some(name) = todo.pop() {
        if seen.insert(name.clone()) {
            let mut next = BTreeSet::new();
            refs(&schemas[&name], &mut next);
            todo.extend(next);
        }
    }
    seen
}

/// The component schemas a request can carry (bodies and parameters).
pub fn request_schemas(doc: &Value) -> BTreeSet<String> {
    let mut roots = BTreeSet::new();
    for item in doc["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(_, i)| i)
    {
        for op in item.as_object().into_iter().flatten().map(|(_, o)| o) {
            refs(&op["requestBody"], &mut roots);
            refs(&op["parameters"], &mut roots);
        }
    }
    closure(roots, &doc["components"]["schemas"])
}

/// Marks required every nullable field of the schemas only responses use: the server always
/// sends those fields, `null` when empty. (A field it leaves out when empty is declared with
/// `skip_serializing_if` and `nullable = false`, so it stays optional.) Request schemas keep
/// their optional fields optional.
pub fn mark_required(doc: &mut Value) {
    let requests = request_schemas(doc);
    let Some(schemas) = doc["components"]["schemas"].as_object_mut() else {
        return;
    };
    for (name, schema) in schemas.iter_mut() {
        if !requests.contains(name) {
            mark_required_in(schema);
        }
    }
}

/// Marks required the nullable fields of one response schema and of every object written out
/// inside it (the items of a page, a nested part).
fn mark_required_in(schema: &mut Value) {
    let always: Vec<String> = schema["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, p)| nullable(p))
        .map(|(k, _)| k.clone())
        .collect();
    if !always.is_empty() {
        let mut required: Vec<Value> = schema["required"].as_array().cloned().unwrap_or_default();
        for field in always {
            if !required.contains(&json!(field)) {
                required.push(json!(field));
            }
        }
        // Keep the order of the properties.
        let order: Vec<&String> = schema["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
            .collect();
        required.sort_by_key(|r| order.iter().position(|k| Some(k.as_str()) == r.as_str()));
        schema["required"] = Value::Array(required);
    }
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for property in properties.values_mut() {
            mark_required_in(property);
        }
    }
    if let Some(items) = schema.get_mut("items") {
        mark_required_in(items);
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(parts) = schema.get_mut(key).and_then(Value::as_array_mut) {
            for part in parts {
                mark_required_in(part);
            }
        }
    }
}

/// Drops component schemas nothing refers to (the generic item types of pages are written out
/// inline by the generator, leaving their named twin unused).
pub fn drop_unused(doc: &mut Value) {
    let mut roots = BTreeSet::new();
    refs(&doc["paths"], &mut roots);
    let used = closure(roots, &doc["components"]["schemas"]);
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        schemas.retain(|name, _| used.contains(name));
    }
}

/// Merges an `allOf` of objects (what `#[serde(flatten)]` and tagged enums produce) into one
/// object: its properties and required fields together, closed (`additionalProperties: false`)
/// when a part was. A closed part inside an `allOf` would refuse the other parts' fields, which
/// is not what the server does; the merged object says what it does.
pub fn merge_all_of(doc: &mut Value) {
    for _ in 0..8 {
        let schemas = doc["components"]["schemas"].clone();
        if !merge_in(doc, &schemas) {
            return;
        }
    }
}

fn merge_in(value: &mut Value, schemas: &Value) -> bool {
    let mut changed = false;
    if let Some(parts) = value.get("allOf").and_then(Value::as_array) {
        let resolved: Vec<&Value> = parts.iter().map(|p| resolve(p, schemas)).collect();
        let mergeable = resolved.iter().all(|p| {
            p.get("allOf").is_none()
                && p.get("oneOf").is_none()
                && p.get("anyOf").is_none()
                && (p.get("properties").is_some() || p["type"] == "object")
        });
        if mergeable {
            let mut properties = serde_json::Map::new();
            let mut required: Vec<Value> = Vec::new();
            let mut closed = false;
            for p in &resolved {
                for (k, v) in p["properties"].as_object().into_iter().flatten() {
                    properties.insert(k.clone(), v.clone());
                }
                for r in p["required"].as_array().into_iter().flatten() {
                    if !required.contains(r) {
                        required.push(r.clone());
                    }
                }
                closed |= p["additionalProperties"] == Value::Bool(false);
            }
            let obj = value
                .as_object_mut()
                .expect("a schema with allOf is an object");
            obj.remove("allOf");
            obj.insert("type".into(), Value::String("object".into()));
            obj.insert("properties".into(), Value::Object(properties));
            if !required.is_empty() {
                obj.insert("required".into(), Value::Array(required));
            }
            if closed {
                obj.insert("additionalProperties".into(), Value::Bool(false));
            }
            changed = true;
        }
    }
    match value {
        Value::Object(map) => {
            for v in map.values_mut() {
                changed |= merge_in(v, schemas);
            }
        }
        Value::Array(items) => {
            for v in items {
                changed |= merge_in(v, schemas);
            }
        }
        _ => {}
    }
    changed
}
