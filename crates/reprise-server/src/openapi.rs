//! `/api/v1/openapi.json`: the API described for clients and tools.

use axum::Json;
use serde_json::{Value, json};

fn error_responses() -> Value {
    json!({
        "401": { "description": "missing, unknown, revoked or expired token", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
        "403": { "description": "the account's role or scope does not allow it (code forbidden or out_of_scope)", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
        "400": { "description": "invalid request", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
        "404": { "description": "what the request names does not exist (code not_found)", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
        "409": { "description": "changed by someone else meanwhile, in a state that does not allow this (code conflict), or something running that this must not run beside (code busy)", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
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

fn accepted(description: &str, properties: Value) -> Value {
    let mut responses = error_responses();
    responses["202"] = json!({
        "description": description,
        "content": { "application/json": { "schema": { "type": "object", "properties": properties } } }
    });
    responses
}

fn path(name: &str, kind: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "schema": { "type": kind } })
}

fn list_responses() -> Value {
    let mut responses = error_responses();
    responses["200"] = json!({
        "description": "OK",
        "content": { "application/json": { "schema": { "type": "array", "items": { "type": "object" } } } }
    });
    responses
}

fn object_responses(code: &str, description: &str) -> Value {
    let mut responses = error_responses();
    responses[code] = json!({
        "description": description,
        "content": { "application/json": { "schema": { "type": "object" } } }
    });
    responses
}

fn refused_responses() -> Value {
    let mut responses = object_responses("201", "the request, with its feasibility");
    responses["422"] = json!({
        "description": "refused: every missing or wrong field, nothing recorded",
        "content": { "application/json": { "schema": { "type": "object", "properties": {
            "code": { "type": "string" },
            "message": { "type": "string" },
            "missing": { "type": "array", "items": { "type": "object", "properties": {
                "field": { "type": "string" }, "message": { "type": "string" }
            } } }
        } } } }
    });
    responses
}

fn session_responses() -> Value {
    let mut responses = object_responses("201", "the session token and when it expires");
    responses["429"] = json!({
        "description": "locked after repeated failures; the message says until when",
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    });
    responses
}

fn no_content_responses() -> Value {
    let mut responses = error_responses();
    responses["204"] = json!({ "description": "done" });
    responses["404"] = json!({
        "description": "no such live token",
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    });
    responses
}

fn file_responses(media: &str, description: &str) -> Value {
    let mut responses = error_responses();
    responses["200"] = json!({
        "description": description,
        "content": { media: { "schema": { "type": "string", "format": "binary" } } }
    });
    responses["404"] = json!({
        "description": "nothing matches: the message says why (period, site, type)",
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    });
    responses
}

fn text_responses() -> Value {
    let mut responses = error_responses();
    responses["200"] = json!({
        "description": "OK",
        "content": { "text/plain": { "schema": { "type": "string" } } }
    });
    responses
}

/// The properties of a restore request's body.
fn request_draft() -> Value {
    let strings = json!({ "type": "array", "items": { "type": "string" } });
    json!({
        "requester": { "type": "string" },
        "lang": { "type": "string", "enum": ["en", "fr"] },
        "environment": { "type": "string", "description": "production, staging or tenant:NAME" },
        "scope": { "type": "object", "additionalProperties": false, "properties": {
            "assets": strings, "datasets": strings, "sites": strings, "categories": strings
        } },
        "target": { "type": "object", "additionalProperties": false, "properties": {
            "at": { "type": "string" }, "from": { "type": "string" }, "to": { "type": "string" }, "snapshot": { "type": "string" }
        } },
        "context": { "type": "object", "additionalProperties": false, "properties": {
            "kind": { "type": "string", "enum": ["incident", "faulty-import", "change", "other"] },
            "description": { "type": "string" },
            "incident": { "type": "integer" }
        } },
        "urgency": { "type": "string", "enum": ["low", "normal", "high", "critical"] },
        "impact": { "type": "string" },
        "downtime": { "type": "object", "additionalProperties": false, "properties": {
            "approved": { "type": "boolean" },
            "window": { "type": "string", "description": "FROM/TO" }
        } },
        "destination": { "type": "string", "description": "an absolute directory on the server" }
    })
}

fn body(properties: Value, required: &[&str]) -> Value {
    let mut schema =
        json!({ "type": "object", "properties": properties, "additionalProperties": false });
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    json!({ "required": true, "content": { "application/json": { "schema": schema } } })
}

pub async fn document() -> Json<Value> {
    let strings = json!({ "type": "array", "items": { "type": "string" } });
    let mut backup_responses = accepted("the backup was started", json!({ "accepted": strings }));
    backup_responses["409"] = json!({
        "description": "a backup of one of these assets is already queued or running",
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    });
    let mut restore_responses = accepted(
        "the restore was started",
        json!({
            "asset": { "type": "string" },
            "target": { "type": "string", "description": "the target, resolved" },
            "restore_points": { "type": "array", "items": { "type": "object" } }
        }),
    );
    restore_responses["403"] = json!({
        "description": "the target is, holds or lies inside a protected place (the workspace, its keys and catalog, a repository, a system directory)",
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    });
    restore_responses["409"] = json!({
        "description": "the target already holds files the restore would write (without overwrite), or a link or file where the restore needs a directory",
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    });
    let mut erasure_responses = object_responses("200", "the executed erasure");
    erasure_responses["409"] = json!({
        "description": "something writes into the repositories (a backup, an export, the self-backup), here or in another process sharing the catalog: the erasure prunes, so it stays planned; try again when it ends",
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    });
    let mut self_responses = error_responses();
    self_responses["200"] = json!({
        "description": "one outcome per repository",
        "content": { "application/json": { "schema": { "type": "array", "items": { "type": "object" } } } }
    });
    Json(json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Reprise API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Assets, runs, restore points, alerts and status of a Reprise server; triggering backups, verifications, restores and Reprise's own backup."
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
            "/assets": list("Every asset of the inventory, in its current state (`state_since`, `state_by`: the configuration, or who recorded it)", json!([])),
            "/assets/{id}/state": { "post": {
                "summary": "Record the state an asset is in, as observed (R004.1): its current state everywhere until the configuration's state is changed",
                "parameters": [path("id", "string")],
                "requestBody": body(json!({
                    "state": { "type": "string", "description": "working, partial, failed, unknown (French words too)" },
                    "since": { "type": "string", "format": "date-time", "description": "when it was observed (default: now)" },
                    "note": { "type": "string" }
                }), &["state"]),
                "responses": object_responses("200", "the state recorded")
            } },
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
            "/alerts/acknowledgements": { "post": {
                "summary": "Acknowledge an open alert: someone is on it (it stays open until its cause is gone)",
                "requestBody": body(json!({ "key": { "type": "string", "description": "rpo:iredmail" } }), &["key"]),
                "responses": object_responses("200", "who acknowledged it")
            } },
            "/repositories": list("Each repository as last probed: reachable, initialised, size", json!([])),
            "/devices": list("Devices whose configuration is collected: model, address, last read, last change (its diff, secrets masked), last backup, status, how to load it back", json!([])),
            "/suspicions": list("Backups that looked like an attack (files rewritten with data that does not compress, mass deletion, ransom-note names), cleared ones too: the point and every later one of its data set are not trusted until cleared", json!([
                query("asset", "only this asset's", "string")
            ])),
            "/suspicions/clearances": { "post": {
                "summary": "Trust a suspect restore point again after checking it (administrators; journaled with who and why)",
                "requestBody": body(json!({
                    "snapshot": { "type": "string", "minLength": 4, "description": "the suspect snapshot's id or its first characters" },
                    "reason": { "type": "string", "minLength": 1, "description": "what was checked" }
                }), &["snapshot", "reason"]),
                "responses": object_responses("200", "the suspicion, cleared")
            } },
            "/devices/checks": { "post": {
                "summary": "Read devices now: unchanged, the read is recorded; changed or never stored, backed up at once",
                "requestBody": body(json!({ "assets": strings }), &[]),
                "responses": list_responses()
            } },
            "/verifications": { "post": {
                "summary": "Start a verification of the repositories holding these assets (every repository when `assets` is left out; an empty list is refused)",
                "requestBody": body(json!({
                    "assets": { "type": "array", "items": { "type": "string" }, "minItems": 1 },
                    "mode": { "type": "string", "enum": ["structure", "read-data", "subset", "rolling"] },
                    "percent": { "type": "number", "description": "with mode subset" },
                    "slices": { "type": "integer", "description": "with mode rolling: all data every N runs" }
                }), &[]),
                "responses": accepted("the verification was started", json!({ "accepted": strings, "mode": { "type": "string" } }))
            } },
            "/restores": { "post": {
                "summary": "Check a restore at once, then run it: the data is verified before anything is written",
                "requestBody": body(json!({
                    "asset": { "type": "string" },
                    "dataset": { "type": "string" },
                    "at": { "type": "string", "description": "the newest restore point at or before this time" },
                    "snapshot": { "type": "string" },
                    "path": { "type": "string" },
                    "target": { "type": "string", "description": "an absolute directory on the server, outside the workspace, its keys, repositories and system directories" },
                    "overwrite": { "type": "boolean" },
                    "override": { "type": "string", "description": "administrators only: the reason to restore into a protected place anyway (journaled)" }
                }), &["asset", "target"]),
                "responses": restore_responses
            } },
            "/incidents": {
                "get": {
                    "summary": "Incidents, newest first (open ones unless all=true)",
                    "parameters": [query("all", "closed incidents too", "boolean")],
                    "responses": list_responses()
                },
                "post": {
                    "summary": "Open an incident; its damage assessment is generated at once",
                    "requestBody": body(json!({
                        "title": { "type": "string" },
                        "severity": { "type": "string", "enum": ["SEV1", "SEV2", "SEV3", "SEV4"] },
                        "assets": { "type": "array", "items": { "type": "string" }, "description": "ID or ID=partial; default: the assets not working" },
                        "source": { "type": "string" },
                        "nature": { "type": "string", "description": "a compromise (ransomware, intrusion…) makes the points taken since the assets are affected suspect" },
                        "personal_data": { "type": "boolean" },
                        "commander": { "type": "string" },
                        "detected": { "type": "string", "format": "date-time" },
                        "since": { "type": "string", "format": "date-time", "description": "since when the assets are affected, if before detection" }
                    }), &["title"]),
                    "responses": object_responses("201", "the incident, with its assessment")
                }
            },
            "/incidents/{id}": { "get": {
                "summary": "An incident: deadlines, assessment, plan and progress, evolution, timeline",
                "parameters": [path("id", "integer")],
                "responses": object_responses("200", "the incident")
            } },
            "/incidents/{id}/plan": { "post": {
                "summary": "Compute and approve the recovery plan (the incident moves to recovery)",
                "parameters": [path("id", "integer")],
                "requestBody": { "required": false, "content": { "application/json": { "schema": {
                    "type": "object", "additionalProperties": false,
                    "properties": { "minimal": { "type": "boolean" }, "technicians": { "type": "integer" } }
                } } } },
                "responses": object_responses("200", "the approved plan")
            } },
            "/incidents/{id}/steps/{asset}": { "post": {
                "summary": "Start (restore steps run their verified restores), finish, fail or skip a step",
                "parameters": [path("id", "integer"), path("asset", "string")],
                "requestBody": body(json!({
                    "action": { "type": "string", "enum": ["start", "done", "force", "fail", "skip"] },
                    "reason": { "type": "string" },
                    "target": { "type": "string" },
                    "overwrite": { "type": "boolean" }
                }), &["action"]),
                "responses": object_responses("200", "the step")
            } },
            "/incidents/{id}/checks": { "post": {
                "summary": "Record a check of a step's checklist",
                "parameters": [path("id", "integer")],
                "requestBody": body(json!({
                    "asset": { "type": "string" },
                    "key": { "type": "string" },
                    "result": { "type": "string", "enum": ["pass", "fail", "reserved"] },
                    "note": { "type": "string" },
                    "deadline": { "type": "string", "format": "date" }
                }), &["asset", "key", "result"]),
                "responses": object_responses("200", "the check")
            } },
            "/requests": {
                "get": {
                    "summary": "Restore requests, newest first (open ones unless all=true)",
                    "parameters": [query("all", "closed requests too", "boolean")],
                    "responses": list_responses()
                },
                "post": {
                    "summary": "Submit a restore request: 201 with its feasibility, or 422 naming every missing field in the requester's language (lang, else Accept-Language)",
                    "requestBody": body(request_draft(), &[]),
                    "responses": refused_responses()
                }
            },
            "/requests/{id}": { "get": {
                "summary": "A request: state, feasibility and alternatives, decisions, execution, checks, timeline",
                "parameters": [path("id", "integer")],
                "responses": object_responses("200", "the request")
            } },
            "/requests/{id}/assessment": { "post": {
                "summary": "Judge feasibility again, optionally with another target (before approval)",
                "parameters": [path("id", "integer")],
                "requestBody": { "required": false, "content": { "application/json": { "schema": {
                    "type": "object", "additionalProperties": false,
                    "properties": { "at": { "type": "string" }, "from": { "type": "string" }, "to": { "type": "string" }, "snapshot": { "type": "string" } }
                } } } },
                "responses": object_responses("200", "the request")
            } },
            "/requests/{id}/approval": { "post": {
                "summary": "Approve a feasible request: the server runs it in its window, or at once",
                "parameters": [path("id", "integer")],
                "requestBody": { "required": false, "content": { "application/json": { "schema": {
                    "type": "object", "additionalProperties": false,
                    "properties": { "note": { "type": "string" } }
                } } } },
                "responses": object_responses("200", "the request")
            } },
            "/requests/{id}/rejection": { "post": {
                "summary": "Reject a request before approval",
                "parameters": [path("id", "integer")],
                "requestBody": body(json!({ "reason": { "type": "string" } }), &["reason"]),
                "responses": object_responses("200", "the request")
            } },
            "/requests/{id}/cancellation": { "post": {
                "summary": "Cancel a request before it runs",
                "parameters": [path("id", "integer")],
                "requestBody": body(json!({ "reason": { "type": "string" } }), &["reason"]),
                "responses": object_responses("200", "the request")
            } },
            "/requests/{id}/checks": { "post": {
                "summary": "Record a check of the asset's checklist after the restore",
                "parameters": [path("id", "integer")],
                "requestBody": body(json!({
                    "asset": { "type": "string" },
                    "key": { "type": "string" },
                    "result": { "type": "string", "enum": ["pass", "fail"] },
                    "note": { "type": "string" }
                }), &["asset", "key", "result"]),
                "responses": object_responses("200", "the request")
            } },
            "/requests/{id}/report": { "get": {
                "summary": "The request's report: scope restored, timestamps, checks",
                "parameters": [path("id", "integer"), query("lang", "en or fr (default: the request's)", "string")],
                "responses": text_responses()
            } },
            "/erasures": {
                "get": {
                    "summary": "Erasures and their proof: what, from where, when, by whom (never the data)",
                    "responses": list_responses()
                },
                "post": {
                    "summary": "Plan an erasure: the restore points and copies holding the paths, files and bytes; nothing is erased yet",
                    "requestBody": body(json!({
                        "asset": { "type": "string" },
                        "paths": { "type": "array", "items": { "type": "string" }, "description": "relative to the workspace, or absolute" },
                        "reason": { "type": "string", "description": "kept in the proof" }
                    }), &["asset", "paths", "reason"]),
                    "responses": object_responses("201", "the planned erasure")
                }
            },
            "/erasures/{id}": { "get": {
                "summary": "One erasure and its proof",
                "parameters": [path("id", "integer")],
                "responses": object_responses("200", "the erasure")
            } },
            "/erasures/{id}/execution": { "post": {
                "summary": "Execute a planned erasure: rewrite every restore point holding the paths, in every repository, and prune",
                "parameters": [path("id", "integer")],
                "responses": erasure_responses
            } },
            "/erasures/{id}/cancellation": { "post": {
                "summary": "Drop a planned erasure",
                "parameters": [path("id", "integer")],
                "responses": object_responses("200", "the cancelled erasure")
            } },
            "/exports/{kind}": { "get": {
                "summary": "A CSV export: runs, points, incidents, drills, requests, alerts or inventory",
                "parameters": [
                    path("kind", "string"),
                    query("site", "only this site", "string"),
                    query("since", "first day included (2026-07-01)", "string"),
                    query("until", "last day included", "string"),
                    query("type", "run kind, data category, severity, outcome, state or asset category", "string")
                ],
                "responses": file_responses("text/csv", "UTF-8 CSV with a header row")
            } },
            "/evidence": { "get": {
                "summary": "The evidence pack of a period for auditors, mapped to ISO 27001, SOC 2 and NIST CSF controls",
                "parameters": [{ "name": "period", "in": "query", "required": true, "description": "2026-Q3, 2026-11, 2026 or 2026-07-01..2026-09-30", "schema": { "type": "string" } }],
                "responses": file_responses("application/gzip", "a .tar.gz archive")
            } },
            "/journal": { "get": {
                "summary": "Journal entries, oldest first: who changed what, when, each sealed and chained",
                "parameters": [query("after", "entries after this sequence number", "integer"), query("limit", "at most this many (default 1000)", "integer")],
                "responses": list_responses()
            } },
            "/journal/verification": { "get": {
                "summary": "Check the whole journal: intact, or the first entry altered, removed or reordered",
                "responses": object_responses("200", "the verdict")
            } },
            "/sessions": { "post": {
                "summary": "Sign in with an account's password: a session token for 12 hours (no bearer needed)",
                "security": [],
                "requestBody": body(json!({ "user": { "type": "string" }, "password": { "type": "string" } }), &["user", "password"]),
                "responses": session_responses()
            } },
            "/me": { "get": {
                "summary": "The caller: account, role, scope",
                "responses": object_responses("200", "the principal")
            } },
            "/users": {
                "get": { "summary": "Accounts (administrators)", "responses": list_responses() },
                "post": {
                    "summary": "Create an account (administrators)",
                    "requestBody": body(json!({
                        "name": { "type": "string" },
                        "role": { "type": "string", "enum": ["admin", "operator", "auditor", "viewer"] },
                        "scope": { "type": "string", "description": "site:ID,tenant:NAME; empty for everything" },
                        "password": { "type": "string", "minLength": 12 }
                    }), &["name", "role"]),
                    "responses": object_responses("201", "the account")
                }
            },
            "/tokens": {
                "get": { "summary": "The caller's tokens (every token for an administrator), never their secret", "responses": list_responses() },
                "post": {
                    "summary": "A token for the caller's account, with at most the caller's role and scope",
                    "requestBody": body(json!({
                        "name": { "type": "string" },
                        "role": { "type": "string", "enum": ["admin", "operator", "auditor", "viewer"] },
                        "scope": { "type": "string" },
                        "expires": { "type": "string", "description": "90d, 12h" }
                    }), &["name"]),
                    "responses": object_responses("201", "the token, shown once")
                }
            },
            "/tokens/{name}": { "delete": {
                "summary": "Revoke one of the caller's tokens",
                "parameters": [path("name", "string")],
                "responses": no_content_responses()
            } },
            "/agents": list("Hosts and their agents: version, last check-in, assets, last backup, whether silent past twice their shortest schedule, jobs waiting", json!([])),
            "/agents/jobs": list("Jobs handed to agents (backups, restores), newest first, with their state and report", json!([
                query("host", "only this host's", "string")
            ])),
            "/agents/invitations": { "post": {
                "summary": "Make a one-time code with which a host enrolls its agent (administrators; shown once)",
                "requestBody": body(json!({
                    "host": { "type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9_][A-Za-z0-9._-]*$", "description": "the host's name, as assets' `host` name it" },
                    "valid_for": { "type": "string", "description": "how long the code is valid (`24h` by default)" }
                }), &["host"]),
                "responses": object_responses("201", "the code, shown once, and when it expires")
            } },
            "/agents/{host}": { "delete": {
                "summary": "Revoke a host's agent and any unused code: its next request is refused and journaled, its waiting jobs fail",
                "parameters": [path("host", "string")],
                "responses": no_content_responses()
            } },
            "/agents/{host}/backups": { "post": {
                "summary": "Queue a backup of one of the host's assets for its agent, now",
                "parameters": [path("host", "string")],
                "requestBody": body(json!({
                    "asset": { "type": "string", "minLength": 1 },
                    "datasets": { "type": "array", "items": { "type": "string" }, "description": "only these data sets (all when empty)" }
                }), &["asset"]),
                "responses": object_responses("202", "the job's number")
            } },
            "/categories": list("Data categories: retention bounds and, per data set, restore points kept, until when and where", json!([])),
            "/readiness": {
                "get": {
                    "summary": "Go-live readiness per site and asset: each item met or what blocks it",
                    "parameters": [query("site", "only this site", "string")],
                    "responses": object_responses("200", "sites and assets")
                }
            },
            "/readiness/approvals": { "post": {
                "summary": "Record the business owner's approval of an asset's current RPO and RTO",
                "requestBody": body(json!({
                    "asset": { "type": "string" },
                    "by": { "type": "string", "description": "the business owner; the token's name when absent" }
                }), &["asset"]),
                "responses": object_responses("201", "the approval")
            } },
            "/self-backups": { "post": {
                "summary": "Back up Reprise's own catalog and configuration into every repository now",
                "responses": self_responses
            } },
            "/backups": { "post": {
                "summary": "Start a backup (for example after a change, R000.3)",
                "requestBody": body(json!({
                    "assets": strings,
                    "all": { "type": "boolean" },
                    "reason": { "type": "string" }
                }), &[]),
                "responses": backup_responses
            } }
        }
    }))
}
