//! The OpenAPI 3.1 document of the API, generated from its declarations ([`crate::endpoint::ALL`])
//! and the wire types' JSON Schemas (schemars, JSON Schema 2020-12 as OpenAPI 3.1 takes it).
//! The server publishes it at `/api/openapi.json`; outside tools (schemathesis in
//! `cargo xtask fuzz`) check the server against it.

use schemars::generate::SchemaSettings;
use schemars::{Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

use crate::endpoint::{ALL, Answers, Carries, Operation, parameters};
use crate::error::ApiError;

/// The whole document. `version` is the server's.
pub fn document(version: &str) -> Value {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    let mut components = SchemaGenerator::new(settings.clone());
    // Query strings are listed parameter by parameter, so their schemas are read inline.
    let mut inline = settings;
    inline.inline_subschemas = true;
    let mut queries = SchemaGenerator::new(inline);

    let error = components.subschema_for::<ApiError>();
    let mut paths = Map::new();
    for op in ALL {
        let item = paths.entry(op.path).or_insert_with(|| json!({})).as_object_mut();
        if let Some(item) = item {
            item.insert(op.method.as_str().to_ascii_lowercase(), operation(op, &mut components, &mut queries, &error));
        }
    }
    let schemas: Map<String, Value> = components.take_definitions(true).into_iter().collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "CertDesk",
            "summary": "A certificate authority's self-service portal: accounts, new certificates and their lifecycle, public status services, and the staff console.",
            "version": version,
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "customer": {
                    "type": "apiKey", "in": "cookie", "name": "__Host-certdesk",
                    "description": "The customer session (named certdesk in dev mode). The public services (/api/public, search, verification, progress, remote download) need none."
                },
                "staff": {
                    "type": "apiKey", "in": "cookie", "name": "__Host-certdesk-staff",
                    "description": "The staff session (named certdesk-staff on a server in dev mode, over plain http). Every /api/admin endpoint but sign-in and enrolment needs it."
                },
                "csrf": {
                    "type": "apiKey", "in": "header", "name": "x-csrf-token",
                    "description": "The session's CSRF token (from its SessionInfo or StaffSession), on every request that changes state."
                },
            },
        },
    })
}

fn operation(op: &Operation, components: &mut SchemaGenerator, queries: &mut SchemaGenerator, error: &Schema) -> Value {
    let mut params: Vec<Value> = parameters(op.path)
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string", "minLength": 1 } }))
        .collect();
    let mut out = json!({
        "operationId": op.name,
        "summary": op.summary,
        "tags": [if op.is_staff() { "staff" } else { "customer" }],
    });
    match op.carries {
        Carries::Nothing => {}
        Carries::Json => {
            out["requestBody"] = json!({
                "required": true,
                "content": { "application/json": { "schema": (op.request)(components) } },
            });
        }
        Carries::File => {
            out["requestBody"] = json!({
                "required": true,
                "description": "The file's bytes; its name percent-encoded in X-File-Name.",
                "content": { "application/octet-stream": { "schema": { "type": "string", "contentMediaType": "application/octet-stream" } } },
            });
        }
        Carries::Query => {
            let query = (op.request)(queries).to_value();
            let required: Vec<&str> =
                query["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            if let Some(props) = query["properties"].as_object() {
                for (name, schema) in props {
                    params.push(json!({
                        "name": name, "in": "query", "required": required.contains(&name.as_str()),
                        "schema": schema,
                    }));
                }
            }
        }
    }
    if !params.is_empty() {
        out["parameters"] = Value::Array(params);
    }
    let success = match op.answers {
        Answers::Json => json!({
            "200": { "description": "OK", "content": { "application/json": { "schema": (op.response)(components) } } }
        }),
        Answers::NoContent => json!({ "204": { "description": "Done" } }),
        Answers::File(mimes) => {
            let content: Map<String, Value> = mimes
                .split(' ')
                .map(|mime| (mime.to_owned(), json!({ "schema": { "type": "string", "contentMediaType": mime } })))
                .collect();
            json!({ "200": { "description": "The file", "content": content } })
        }
    };
    let mut responses = success;
    if op.name == "Health" {
        // A database the server cannot reach: the same body, saying so.
        responses["503"] = responses["200"].clone();
        responses["503"]["description"] = json!("Degraded: the database does not answer");
    }
    if op.is_staff() && !op.path.starts_with("/api/admin/sign-in/") && !op.path.starts_with("/api/admin/enrol/") {
        out["security"] = if op.method == crate::endpoint::Method::Get {
            json!([{ "staff": [] }])
        } else {
            json!([{ "staff": [], "csrf": [] }])
        };
    }
    responses["default"] = json!({
        "description": "An error: its code, and its text in the language asked for",
        "content": { "application/json": { "schema": error } },
    });
    out["responses"] = responses;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_is_in_the_document_with_its_schemas() {
        let doc = document("0.0.0");
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().expect("paths");
        let count: usize = paths.values().map(|p| p.as_object().map_or(0, |o| o.len())).sum();
        assert_eq!(count, ALL.len());
        // Every $ref points at a schema the document holds.
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = &part[..part.find('"').expect("end of ref")];
            assert!(schemas.contains_key(name), "dangling $ref {name}");
        }
        let sign_in = &doc["paths"]["/api/sign-in"]["post"];
        assert_eq!(sign_in["operationId"], "SignIn");
        assert_eq!(
            sign_in["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/SignInRequest"
        );
        let search = &doc["paths"]["/api/public/certificates"]["get"]["parameters"];
        assert!(search.as_array().expect("parameters").iter().any(|p| p["name"] == "email" && p["in"] == "query"));
        let remove = &doc["paths"]["/api/account/keys/{id}/remove"]["post"]["parameters"][0];
        assert_eq!((remove["name"].as_str(), remove["in"].as_str()), (Some("id"), Some("path")));
        assert!(doc["paths"]["/api/sign-out"]["post"]["responses"]["204"].is_object());
    }
}
