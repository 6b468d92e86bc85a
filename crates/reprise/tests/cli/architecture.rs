//! The crate graph points one way: binary → app → (catalog, engine) → domain. This test
//! reads `cargo metadata` and fails on an edge the architecture forbids, so the layering
//! in ARCHITECTURE.md stays true.

use std::collections::BTreeMap;
use std::process::Command;

/// For each crate of the workspace, the workspace crates it may depend on (normal
/// dependencies; dev-dependencies may also use `reprise-testkit`).
const ALLOWED: &[(&str, &[&str])] = &[
    ("reprise-domain", &[]),
    ("reprise-catalog", &["reprise-domain"]),
    (
        "reprise-catalog-sqlite",
        &["reprise-catalog", "reprise-domain"],
    ),
    (
        "reprise-catalog-postgres",
        &["reprise-catalog", "reprise-domain"],
    ),
    ("reprise-engine", &[]),
    (
        "reprise-app",
        &["reprise-catalog", "reprise-domain", "reprise-engine"],
    ),
    (
        "reprise-server",
        &[
            "reprise-app",
            "reprise-catalog",
            "reprise-domain",
            "reprise-engine",
        ],
    ),
    (
        "reprise",
        &[
            "reprise-app",
            "reprise-catalog",
            "reprise-catalog-postgres",
            "reprise-catalog-sqlite",
            "reprise-domain",
            "reprise-engine",
            "reprise-server",
        ],
    ),
    ("reprise-testkit", &[]),
    // crates/reprise-cdc: the engine library's chunker hash, patched in by name.
    ("rustic_cdc", &[]),
];

/// Outside crates that would mean I/O, SQL or a runtime in a crate that must have none.
const FORBIDDEN_EXTERNAL: &[(&str, &[&str])] = &[
    (
        "reprise-domain",
        &["sqlx", "tokio", "reqwest", "axum", "clap"],
    ),
    ("reprise-catalog", &["sqlx", "tokio", "axum", "clap"]),
    (
        "reprise-app",
        &["sqlx", "axum", "clap", "rustic_core", "rustic_backend"],
    ),
    (
        "reprise-server",
        &["sqlx", "clap", "rustic_core", "rustic_backend"],
    ),
    (
        "reprise",
        &["sqlx", "rustic_core", "rustic_backend", "axum"],
    ),
];

#[test]
fn crate_dependencies_point_one_way() {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut violations = Vec::new();
    for package in meta["packages"].as_array().unwrap() {
        let name = package["name"].as_str().unwrap();
        let Some(ok) = allowed.get(name) else {
            violations.push(format!("{name} is not in the architecture map"));
            continue;
        };
        for dep in package["dependencies"].as_array().unwrap() {
            let dep_name = dep["name"].as_str().unwrap();
            let dev = dep["kind"].as_str() == Some("dev");
            if dep_name.starts_with("reprise") {
                let fine = ok.contains(&dep_name) || (dev && dep_name == "reprise-testkit");
                if !fine {
                    violations.push(format!("{name} must not depend on {dep_name}"));
                }
            }
            if let Some((_, banned)) = FORBIDDEN_EXTERNAL.iter().find(|(n, _)| *n == name)
                && banned.contains(&dep_name)
                && !dev
            {
                violations.push(format!("{name} must not depend on {dep_name}"));
            }
        }
    }
    assert!(violations.is_empty(), "{violations:#?}");
}

#[test]
fn the_engine_library_uses_reprises_chunker_hash() {
    // crates/reprise-cdc replaces `rustic_cdc` through `[patch.crates-io]`; a new engine
    // library asking for another version would silently take the registry's again (and
    // spend a fifth of a first backup rebuilding tables).
    let lock = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock"),
    )
    .unwrap();
    let entries: Vec<&str> = lock
        .split("[[package]]")
        .filter(|entry| entry.contains("name = \"rustic_cdc\""))
        .collect();
    assert_eq!(entries.len(), 1, "{entries:#?}");
    assert!(
        !entries[0].contains("source ="),
        "rustic_cdc comes from a registry, not crates/reprise-cdc: {}",
        entries[0]
    );
}
