//! The crate graph points one way: binary → server → oversight → recovery → ops →
//! (workspace, catalog, engine) → domain. This test
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
        "reprise-catalog-sql",
        &["reprise-catalog", "reprise-domain"],
    ),
    ("reprise-engine", &[]),
    ("reprise-workspace", &["reprise-catalog", "reprise-domain"]),
    ("reprise-journal", &["reprise-catalog", "reprise-workspace"]),
    (
        "reprise-ops",
        &[
            "reprise-catalog",
            "reprise-domain",
            "reprise-engine",
            "reprise-journal",
            "reprise-workspace",
        ],
    ),
    (
        "reprise-agents",
        &[
            "reprise-catalog",
            "reprise-domain",
            "reprise-engine",
            "reprise-ops",
            "reprise-workspace",
        ],
    ),
    (
        "reprise-recovery",
        &[
            "reprise-agents",
            "reprise-catalog",
            "reprise-domain",
            "reprise-ops",
            "reprise-workspace",
        ],
    ),
    (
        "reprise-oversight",
        &[
            "reprise-agents",
            "reprise-catalog",
            "reprise-domain",
            "reprise-engine",
            "reprise-ops",
            "reprise-recovery",
            "reprise-workspace",
        ],
    ),
    (
        "reprise-server",
        &[
            "reprise-agents",
            "reprise-catalog",
            "reprise-domain",
            "reprise-engine",
            "reprise-ops",
            "reprise-oversight",
            "reprise-recovery",
            "reprise-workspace",
        ],
    ),
    (
        "reprise",
        &[
            "reprise-agents",
            "reprise-catalog",
            "reprise-catalog-sql",
            "reprise-domain",
            "reprise-engine",
            "reprise-ops",
            "reprise-oversight",
            "reprise-recovery",
            "reprise-server",
            "reprise-workspace",
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
        "reprise-journal",
        &["sqlx", "reqwest", "axum", "clap", "rustic_core"],
    ),
    (
        "reprise-workspace",
        &["sqlx", "tokio", "reqwest", "axum", "clap", "rustic_core"],
    ),
    (
        "reprise-ops",
        &["sqlx", "axum", "clap", "rustic_core", "rustic_backend"],
    ),
    (
        "reprise-agents",
        &["sqlx", "axum", "clap", "rustic_core", "rustic_backend"],
    ),
    (
        "reprise-recovery",
        &["sqlx", "axum", "clap", "rustic_core", "rustic_backend"],
    ),
    (
        "reprise-oversight",
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

/// The source files of a crate, with their module name (`a/b.rs` → `a`, `a/mod.rs` → `a`).
fn modules(krate: &std::path::Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let src = krate.join("src");
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(&src).unwrap();
                let top = rel
                    .components()
                    .next()
                    .unwrap()
                    .as_os_str()
                    .to_string_lossy();
                let module = top.trim_end_matches(".rs").to_string();
                out.push((module, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out
}

fn crates_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn modules_of_a_crate_never_import_each_other_in_a_circle() {
    let mut circles = Vec::new();
    for entry in std::fs::read_dir(crates_dir()).unwrap().flatten() {
        let krate = entry.path();
        if !krate.join("src").is_dir() {
            continue;
        }
        // Module → the modules of the same crate it names (`crate::m`), tests left out.
        let mut edges: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
        let files = modules(&krate);
        let names: std::collections::BTreeSet<String> =
            files.iter().map(|(m, _)| m.clone()).collect();
        for (module, text) in &files {
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            let targets = edges.entry(module.clone()).or_default();
            for (i, _) in code.match_indices("crate::") {
                let before = code[..i].chars().last();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let name: String = code[i + 7..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if names.contains(&name) && name != *module {
                    targets.insert(name);
                }
            }
        }
        // A module that reaches itself again is in a circle.
        for start in edges.keys() {
            let mut seen = std::collections::BTreeSet::new();
            let mut todo: Vec<&String> = edges[start].iter().collect();
            while let Some(m) = todo.pop() {
                if m == start {
                    circles.push(format!(
                        "{}: {start} imports itself through other modules",
                        krate.file_name().unwrap().to_string_lossy()
                    ));
                    break;
                }
                if seen.insert(m.clone()) {
                    todo.extend(edges.get(m).into_iter().flatten());
                }
            }
        }
    }
    assert!(circles.is_empty(), "{circles:#?}");
}

#[test]
fn no_crate_holds_more_than_a_seventh_of_the_code() {
    let mut lines = BTreeMap::new();
    for entry in std::fs::read_dir(crates_dir()).unwrap().flatten() {
        let krate = entry.path();
        if !krate.join("src").is_dir() {
            continue;
        }
        let count: usize = modules(&krate)
            .iter()
            .map(|(_, text)| text.lines().filter(|l| !l.trim().is_empty()).count())
            .sum();
        lines.insert(
            krate.file_name().unwrap().to_string_lossy().to_string(),
            count,
        );
    }
    let total: usize = lines.values().sum();
    let heavy: Vec<String> = lines
        .iter()
        .filter(|(_, n)| **n * 100 > total * 15)
        .map(|(name, n)| format!("{name}: {n} of {total} lines"))
        .collect();
    assert!(heavy.is_empty(), "{heavy:#?}");
}
