//! JSON request bodies hold to the types the document states, checked in one place.
//!
//! poem-openapi parses a `String` field from a JSON number or boolean as well (its
//! `ParseFromJSON for String` turns `0.0` into `"0"`), so `{"name": 0.0}` was accepted although
//! the document says `name` is a string: a client generated from the document, or a fuzzer
//! reading it, rightly calls that a broken contract. Rather than a wrapper type on every field,
//! this middleware checks each JSON request body against its operation's request schema, read
//! from the served document itself, so a field added tomorrow is covered the day it is added.
//!
//! It checks JSON types only — string, integer, number, boolean, array, object, through `$ref`
//! and `allOf` — and leaves ranges, formats and required fields to poem-openapi and the domain
//! types. A `null` is refused unless the schema says `nullable`: poem-openapi would read it as
//! an absent optional field, but the document promises a string (or whatever the type is), and
//! an optional field is left out, not sent as `null`.

use std::sync::Arc;

use poem::http::{Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use serde_json::{Map, Value};

use crate::problem::problem_response;

/// The request schemas of every operation with a JSON body, taken from the OpenAPI document.
#[derive(Debug, Clone)]
pub struct StrictJson {
    inner: Arc<Schemas>,
}

#[derive(Debug)]
struct Schemas {
    operations: Vec<Operation>,
    components: Map<String, Value>,
}

#[derive(Debug)]
struct Operation {
    method: Method,
    /// The path's segments; `None` stands for a `{parameter}`.
    segments: Vec<Option<String>>,
    schema: Value,
}

impl StrictJson {
    /// Reads the operations' JSON request schemas from the document `spec` (as served).
    pub fn from_document(spec: &str) -> Self {
        let doc: Value = serde_json::from_str(spec).unwrap_or_default();
        let mut operations = Vec::new();
        for (path, methods) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in methods.as_object().into_iter().flatten() {
                let Ok(method) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
                    continue;
                };
                let json = op["requestBody"]["content"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .find(|(media, _)| media.starts_with("application/json"));
                if let Some((_, content)) = json {
                    operations.push(Operation {
                        method,
                        segments: split(path)
                            .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                            .collect(),
                        schema: content["schema"].clone(),
                    });
                }
            }
        }
        let components = doc["components"]["schemas"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        Self {
            inner: Arc::new(Schemas {
                operations,
                components,
            }),
        }
    }

    fn schema_for(&self, method: &Method, path: &str) -> Option<&Value> {
        let segments: Vec<&str> = split(path).collect();
        self.inner
            .operations
            .iter()
            .find(|op| {
                op.method == *method
                    && op.segments.len() == segments.len()
                    && op
                        .segments
                        .iter()
                        .zip(&segments)
                        .all(|(want, got)| want.as_deref().is_none_or(|w| w == *got))
            })
            .map(|op| &op.schema)
    }

    /// `Ok` when `value` has the JSON types `schema` states; otherwise the first field that
    /// does not, and what it should be.
    fn check(&self, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
        if value.is_null() {
            return if self.admits_null(schema) {
                Ok(())
            } else {
                let at = if at.is_empty() { "the body" } else { at };
                Err(format!(
                    "`{at}` must not be null; leave an optional field out instead"
                ))
            };
        }
        if let Some(name) = schema["$ref"].as_str() {
            let name = name.rsplit('/').next().unwrap_or(name);
            if let Some(target) = self.inner.components.get(name) {
                self.check(target, value, at)?;
            }
        }
        for part in schema["allOf"].as_array().into_iter().flatten() {
            self.check(part, value, at)?;
        }
        if let Some(choices) = schema["oneOf"].as_array().or(schema["anyOf"].as_array())
            && !choices.is_empty()
            && !choices.iter().any(|c| self.check(c, value, at).is_ok())
        {
            return Err(format!("`{at}` matches none of the allowed shapes"));
        }
        let Some(kind) = schema["type"].as_str() else {
            return Ok(());
        };
        let fits = match kind {
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => true,
        };
        if !fits {
            let at = if at.is_empty() { "the body" } else { at };
            return Err(format!("`{at}` must be of type {kind}"));
        }
        match value {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.check(&schema["items"], item, &format!("{at}[{i}]"))?;
                }
            }
            Value::Object(fields) => {
                for (key, field) in fields {
                    let sub = schema["properties"].get(key).or_else(|| {
                        schema["additionalProperties"]
                            .as_object()
                            .map(|_| &schema["additionalProperties"])
                    });
                    if let Some(sub) = sub {
                        let at = if at.is_empty() {
                            key.clone()
                        } else {
                            format!("{at}.{key}")
                        };
                        self.check(sub, field, &at)?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl StrictJson {
    /// Whether `schema` lets a value be `null`: it says `nullable`, or states no type at all.
    fn admits_null(&self, schema: &Value) -> bool {
        if schema["nullable"] == true {
            return true;
        }
        if let Some(name) = schema["$ref"].as_str() {
            let name = name.rsplit('/').next().unwrap_or(name);
            return self
                .inner
                .components
                .get(name)
                .is_none_or(|target| self.admits_null(target));
        }
        if let Some(parts) = schema["allOf"].as_array() {
            return parts.iter().all(|p| self.admits_null(p));
        }
        if let Some(choices) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
            return choices.iter().any(|c| self.admits_null(c));
        }
        schema["type"].is_null()
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

impl<E: Endpoint> Middleware<E> for StrictJson {
    type Output = StrictJsonEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        StrictJsonEndpoint {
            strict: self.clone(),
            next: ep,
        }
    }
}

/// An endpoint behind [`StrictJson`].
#[derive(Debug)]
pub struct StrictJsonEndpoint<E> {
    strict: StrictJson,
    next: E,
}

impl<E: Endpoint> Endpoint for StrictJsonEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let is_json = req.header(header::CONTENT_TYPE).is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
        if is_json && let Some(schema) = self.strict.schema_for(req.method(), req.uri().path()) {
            let body = req.take_body().into_bytes().await?;
            // Malformed JSON is poem-openapi's to refuse, with its own message.
            if let Ok(value) = serde_json::from_slice::<Value>(&body)
                && let Err(detail) = self.strict.check(schema, &value, "")
            {
                return Ok(problem_response(
                    StatusCode::BAD_REQUEST,
                    "bad-request",
                    detail,
                ));
            }
            req.set_body(body);
        }
        self.next.call(req).await.map(IntoResponse::into_response)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::StrictJson;

    fn strict() -> StrictJson {
        StrictJson::from_document(
            &json!({
                "paths": {"/api/v1/things/{id}": {"patch": {"requestBody": {"content": {
                    "application/json; charset=utf-8": {"schema": {"$ref": "#/components/schemas/Patch"}}
                }}}}},
                "components": {"schemas": {
                    "Patch": {"type": "object", "properties": {
                        "name": {"type": "string"},
                        "days": {"type": "integer"},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "note": {"type": "string", "nullable": true},
                        "price": {"allOf": [{"$ref": "#/components/schemas/Money"}, {"description": "x"}]}
                    }},
                    "Money": {"type": "object", "properties": {"amount": {"type": "integer"}, "currency": {"type": "string"}}}
                }}
            })
            .to_string(),
        )
    }

    fn check(body: serde_json::Value) -> Result<(), String> {
        let strict = strict();
        let schema = strict
            .schema_for(&poem::http::Method::PATCH, "/api/v1/things/abc")
            .unwrap()
            .clone();
        strict.check(&schema, &body, "")
    }

    #[test]
    fn finds_the_operation_by_method_and_path_template() {
        let strict = strict();
        assert!(
            strict
                .schema_for(&poem::http::Method::PATCH, "/api/v1/things/x")
                .is_some()
        );
        assert!(
            strict
                .schema_for(&poem::http::Method::POST, "/api/v1/things/x")
                .is_none()
        );
        assert!(
            strict
                .schema_for(&poem::http::Method::PATCH, "/api/v1/things")
                .is_none()
        );
        assert!(
            strict
                .schema_for(&poem::http::Method::PATCH, "/api/v2/things/x")
                .is_none()
        );
    }

    #[test]
    fn a_number_or_boolean_is_not_a_string() {
        assert_eq!(
            check(json!({"name": 0.0})).unwrap_err(),
            "`name` must be of type string"
        );
        assert!(check(json!({"name": true})).is_err());
        assert!(
            check(json!({"tags": ["a", 1]}))
                .unwrap_err()
                .contains("`tags[1]`")
        );
        assert!(
            check(json!({"price": {"amount": 1, "currency": 978}}))
                .unwrap_err()
                .contains("`price.currency`")
        );
    }

    #[test]
    fn well_typed_bodies_and_unknown_fields_pass() {
        assert!(check(json!({"name": "n", "days": 3, "tags": ["a"], "price": {"amount": 1, "currency": "EUR"}})).is_ok());
        assert!(check(json!({"other": 1})).is_ok());
        assert!(check(json!({"days": "3"})).is_err());
        assert!(check(json!([1])).unwrap_err().contains("the body"));
    }

    #[test]
    fn null_only_where_the_schema_says_nullable() {
        assert!(check(json!({"note": null})).is_ok());
        assert!(
            check(json!({"name": null}))
                .unwrap_err()
                .contains("`name` must not be null")
        );
        assert!(check(json!({"price": null})).is_err());
        assert!(check(json!({"tags": [null]})).is_err());
        assert!(check(json!(null)).is_err());
    }
}
