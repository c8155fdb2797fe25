//! The OpenAPI 3.2 document of a server, generated from the actions' cached schemas.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::request::stream_values;
use super::settings::Settings;
use crate::{DynAction, ErrorBody, schema_of};

const DEFS_REF: &str = "#/$defs/";
const SCHEMAS_REF: &str = "#/components/schemas/";

/// The document: one `POST` path per served flow, with its envelopes, errors, event stream and
/// security.
pub(crate) fn document(server: &Settings) -> Value {
    let mut components = Components::default();
    let error = components.add("Error", "", schema_of::<ErrorBody>());
    let mut paths = Map::new();
    let mut security_schemes = Map::new();
    for flow in server.flows() {
        let name = flow.meta().name;
        let security = server.provider_for(name).and_then(|provider| {
            let scheme = provider.security_scheme()?;
            let key = if server.flow_auth.contains_key(name) {
                component_name(&format!("{name}Auth"))
            } else {
                "auth".to_owned()
            };
            security_schemes.insert(key.clone(), scheme);
            Some(key)
        });
        let operation = operation(
            flow.as_ref(),
            &mut components,
            &error,
            server.provider_for(name).is_some(),
            security,
        );
        paths.insert(server.path(name), json!({ "post": operation }));
    }
    let mut components_object = json!({
        "schemas": components.schemas,
        "responses": {
            "Error": {
                "description": "A Genkit error: its status name, a message and optional details.",
                "content": { "application/json": { "schema": error } },
            }
        },
    });
    if !security_schemes.is_empty() {
        components_object["securitySchemes"] = Value::Object(security_schemes);
    }
    json!({
        "openapi": "3.2.0",
        "info": {
            "title": "genflow flows",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Genkit-compatible flow endpoints: POST {\"data\": input}, receive {\"result\": output}.",
        },
        "paths": paths,
        "components": components_object,
    })
}

/// The `post` operation of one flow.
fn operation(
    flow: &dyn DynAction,
    components: &mut Components,
    error: &Value,
    authenticated: bool,
    security: Option<String>,
) -> Value {
    let meta = flow.meta();
    let schemas = flow.schemas();
    let base = component_name(meta.name);
    let input = components.add(&format!("{base}Input"), &base, schemas.input().clone());
    let output = components.add(&format!("{base}Output"), &base, schemas.output().clone());
    let error_ref = json!({ "$ref": "#/components/responses/Error" });

    let mut content = Map::new();
    content.insert(
        "application/json".into(),
        json!({ "schema": envelope("result", &output) }),
    );
    let mut parameters = Vec::new();
    if let Some(chunk) = schemas.chunk() {
        let chunk = components.add(&format!("{base}Chunk"), &base, chunk.clone());
        let frame = components.insert(
            &format!("{base}StreamFrame"),
            json!({ "oneOf": [envelope("message", &chunk), envelope("result", &output), envelope("error", error)] }),
        );
        // OpenAPI 3.2 describes each server-sent event with `itemSchema`; the JSON inside its
        // `data` field is the frame.
        content.insert(
            "text/event-stream".into(),
            json!({
                "itemSchema": {
                    "type": "object",
                    "description": "One server-sent event: chunks as `message` frames, then exactly one `result` or `error` frame.",
                    "properties": {
                        "data": {
                            "type": "string",
                            "contentMediaType": "application/json",
                            "contentSchema": frame,
                        },
                    },
                    "required": ["data"],
                },
            }),
        );
        parameters.push(json!({
            "name": "stream",
            "in": "query",
            "required": false,
            "description": "`true` streams server-sent events, as `Accept: text/event-stream` does; read as Go's `strconv.ParseBool` reads it.",
            "schema": { "type": "string", "enum": stream_values().collect::<Vec<_>>() },
        }));
    }

    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({
            "description": "The flow's output (or, when streaming, its events).",
            "headers": {
                "x-genkit-trace-id": { "description": "The trace id (32 hex digits).", "schema": { "type": "string" } },
                "x-genkit-span-id": { "description": "The span id (16 hex digits).", "schema": { "type": "string" } },
            },
            "content": content,
        }),
    );
    let mut codes = vec!["400", "413", "500", "503", "504"];
    if authenticated {
        codes.extend(["401", "403"]);
    }
    for code in codes {
        responses.insert(code.into(), error_ref.clone());
    }

    let (request, required) = request_envelope(flow, &input);
    let mut operation = json!({
        "operationId": meta.name,
        "description": meta.description,
        "requestBody": {
            "required": required,
            "content": { "application/json": { "schema": request } },
        },
        "responses": responses,
    });
    if !parameters.is_empty() {
        operation["parameters"] = Value::Array(parameters);
    }
    if let Some(scheme) = security {
        operation["security"] = json!([{ scheme: [] }]);
    }
    operation
}

/// `{"<key>": schema}`, required unless it is the request's `data`.
fn envelope(key: &str, schema: &Value) -> Value {
    json!({ "type": "object", "properties": { key: schema }, "required": [key] })
}

/// The request envelope: `data` may be left out only when the input accepts `null` (what a
/// missing `data` is read as); the flag says whether the body is required.
fn request_envelope(flow: &dyn DynAction, input: &Value) -> (Value, bool) {
    let required = flow.schemas().validate_input(&Value::Null).is_err();
    let mut object = json!({ "type": "object", "properties": { "data": input } });
    if required {
        object["required"] = json!(["data"]);
    }
    (object, required)
}

/// `components/schemas`, where every root schema and its `$defs` end up, with the `$ref`s
/// pointing there (a `#/$defs/...` ref would resolve against the OpenAPI document).
#[derive(Default)]
struct Components {
    schemas: Map<String, Value>,
}

impl Components {
    /// Adds a schemars root schema as `name`, its definitions beside it (renamed with
    /// `prefix` when another type took the name), and returns a `$ref` to it.
    fn add(&mut self, name: &str, prefix: &str, mut schema: Value) -> Value {
        let defs = match schema.as_object_mut() {
            Some(object) => {
                object.remove("$schema");
                object.remove("$defs")
            }
            None => None,
        };
        let defs = match defs {
            Some(Value::Object(defs)) => defs,
            _ => Map::new(),
        };
        let renames: HashMap<String, String> = defs
            .iter()
            .map(|(def, value)| {
                let plain = component_name(def);
                let target = match self.schemas.get(&plain) {
                    Some(existing) if existing != value => {
                        component_name(&format!("{prefix}{def}"))
                    }
                    _ => plain,
                };
                (def.clone(), target)
            })
            .collect();
        for (def, mut value) in defs {
            rewrite_refs(&mut value, &renames);
            if let Some(target) = renames.get(&def) {
                self.schemas.insert(target.clone(), value);
            }
        }
        rewrite_refs(&mut schema, &renames);
        self.insert(name, schema)
    }

    /// Stores `schema` as `name` and returns a `$ref` to it.
    fn insert(&mut self, name: &str, schema: Value) -> Value {
        let name = component_name(name);
        let reference = json!({ "$ref": format!("{SCHEMAS_REF}{name}") });
        self.schemas.insert(name, schema);
        reference
    }
}

/// Points every `#/$defs/<def>` ref at its component.
fn rewrite_refs(schema: &mut Value, renames: &HashMap<String, String>) {
    match schema {
        Value::Object(object) => {
            for (key, value) in object.iter_mut() {
                if key == "$ref"
                    && let Some(def) = value.as_str().and_then(|r| r.strip_prefix(DEFS_REF))
                {
                    let def = def.replace("~1", "/").replace("~0", "~");
                    if let Some(target) = renames.get(&def) {
                        *value = Value::String(format!("{SCHEMAS_REF}{target}"));
                    }
                } else {
                    rewrite_refs(value, renames);
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| rewrite_refs(item, renames)),
        _ => {}
    }
}

/// A valid component name (`[A-Za-z0-9._-]+`).
fn component_name(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}
