//! `/api/v1/openapi.json`: the API described for clients and tools.

use axum::Json;
use serde_json::{Value, json};

fn error_responses() -> Value {
    json!({
        "401": { "description": "missing or unknown token", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
        "400": { "description": "invalid request", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
        "500": { "description": "the operation failed", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
    })
}

fn list(summary: &str, params: Value) -> Value {
    let mut responses = error_responses();
    responses["200"] = json!({
        "description": "OK",
        "content": { "application/json": { "schema": { "type": "array", "items": { "type": "object" } } } }
    });
    json!({ "get": { "summary": summary, "parameters": params, "responses": responses } })
}

fn query(name: &str, description: &str, kind: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": { "type": kind } })
}

pub async fn document() -> Json<Value> {
    let mut backup_responses = error_responses();
    backup_responses["202"] = json!({
        "description": "the backup was started",
        "content": { "application/json": { "schema": {
            "type": "object",
            "properties": { "accepted": { "type": "array", "items": { "type": "string" } } }
        } } }
    });
    Json(json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Reprise API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Assets, runs, restore points and status of a Reprise server; triggering backups."
        },
        "servers": [{ "url": "/api/v1" }],
        "security": [{ "bearer": [] }],
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": { "code": { "type": "string" }, "message": { "type": "string" } }
                }
            }
        },
        "paths": {
            "/assets": list("Every asset of the inventory", json!([])),
            "/status": list("Per asset: last verified restore point against the RPO, last backup, 3-2-1", json!([])),
            "/runs": list("Recorded runs, newest first", json!([
                query("asset", "only this asset's runs", "string"),
                query("kind", "backup, restore, verify, retention or copy", "string"),
                query("limit", "at most this many (default 100)", "integer")
            ])),
            "/restore-points": list("Restore points with their copies and integrity", json!([
                query("asset", "only this asset's restore points", "string")
            ])),
            "/alerts": list("Supervision alerts, newest first (open ones unless all=true)", json!([
                query("all", "resolved alerts too", "boolean")
            ])),
            "/backups": { "post": {
                "summary": "Start a backup (for example after a change, R000.3)",
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                    "type": "object",
                    "properties": {
                        "assets": { "type": "array", "items": { "type": "string" } },
                        "all": { "type": "boolean" },
                        "reason": { "type": "string" }
                    }
                } } } },
                "responses": backup_responses
            } }
        }
    }))
}
