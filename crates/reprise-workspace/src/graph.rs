//! The dependency graph, drawn for people (Graphviz DOT, Mermaid) or for programs (JSON).
//! Edges point from an asset to what it depends on, as `depends_on` reads.

use std::fmt::Write;

use reprise_domain::{Asset, AssetState, Criticality, Inventory};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphFormat {
    Dot,
    Mermaid,
    Json,
}

/// Renders the assets of `inventory` (only those of `site`, when given) and their
/// dependencies. Dependencies on assets of other sites are kept, so a cross-site link is
/// never hidden.
pub fn render(inventory: &Inventory, site: Option<&str>, format: GraphFormat) -> String {
    let assets: Vec<&Asset> = inventory
        .assets
        .iter()
        .filter(|a| site.is_none_or(|s| a.site.as_str() == s))
        .collect();
    match format {
        GraphFormat::Dot => dot(inventory, &assets),
        GraphFormat::Mermaid => mermaid(inventory, &assets),
        GraphFormat::Json => json(&assets),
    }
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

fn fill(asset: &Asset) -> &'static str {
    match asset.state {
        AssetState::Working => "#d9f2d9",
        AssetState::Partial => "#ffe9b3",
        AssetState::Failed => "#f8c9c4",
    }
}

fn dot(inventory: &Inventory, assets: &[&Asset]) -> String {
    let mut out = String::from(
        "digraph reprise {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fontname=\"sans-serif\"];\n",
    );
    for site in &inventory.sites {
        let members: Vec<&&Asset> = assets.iter().filter(|a| a.site == site.id).collect();
        if members.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "  subgraph \"cluster_{}\" {{\n    label=\"{}\";",
            site.id,
            escape(&site.name)
        );
        for a in members {
            let pen = if a.criticality == Criticality::Critical {
                ", penwidth=2"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "    \"{}\" [label=\"{}\\n{} · {} · {}\", fillcolor=\"{}\"{pen}];",
                a.id,
                escape(&a.name),
                a.category,
                a.criticality,
                a.state,
                fill(a)
            );
        }
        out.push_str("  }\n");
    }
    for a in assets {
        for dep in &a.depends_on {
            let _ = writeln!(out, "  \"{}\" -> \"{}\";", a.id, dep);
        }
    }
    out.push_str("}\n");
    out
}

/// Mermaid node ids cannot hold `-` or `.` reliably, so ids are mapped to `n0`, `n1`…
fn mermaid(inventory: &Inventory, assets: &[&Asset]) -> String {
    let index = |id: &str| {
        inventory
            .assets
            .iter()
            .position(|a| a.id.as_str() == id)
            .map_or_else(|| id.replace(['-', '.'], "_"), |i| format!("n{i}"))
    };
    let mut out = String::from("flowchart LR\n");
    for (s, site) in inventory.sites.iter().enumerate() {
        let members: Vec<&&Asset> = assets.iter().filter(|a| a.site == site.id).collect();
        if members.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "  subgraph site{s}[\"{}\"]",
            site.name.replace('"', "'")
        );
        for a in members {
            let _ = writeln!(
                out,
                "    {}[\"{}<br/>{} · {}\"]:::{}",
                index(a.id.as_str()),
                a.name.replace('"', "'"),
                a.id,
                a.criticality,
                a.state
            );
        }
        out.push_str("  end\n");
    }
    // Dependencies on assets left out by the site filter are drawn as plain nodes, so a
    // cross-site link keeps its name.
    let mut external: Vec<&str> = Vec::new();
    for a in assets {
        for dep in &a.depends_on {
            if !assets.iter().any(|x| x.id == *dep) && !external.contains(&dep.as_str()) {
                external.push(dep.as_str());
            }
        }
    }
    for id in external {
        let label = inventory.asset(id).map_or(id.to_string(), |a| {
            format!("{}<br/>{} · {}", a.name.replace('"', "'"), a.id, a.site)
        });
        let _ = writeln!(out, "  {}[\"{label}\"]:::external", index(id));
    }
    for a in assets {
        for dep in &a.depends_on {
            let _ = writeln!(
                out,
                "  {} --> {}",
                index(a.id.as_str()),
                index(dep.as_str())
            );
        }
    }
    out.push_str(
        "  classDef working fill:#d9f2d9,stroke:#2e7d32\n  classDef partial fill:#ffe9b3,stroke:#b26a00\n  classDef failed fill:#f8c9c4,stroke:#c62828\n  classDef external fill:#eeeeee,stroke:#777777,stroke-dasharray:4\n",
    );
    out
}

#[derive(Serialize)]
struct JsonGraph<'a> {
    nodes: Vec<JsonNode<'a>>,
    edges: Vec<JsonEdge<'a>>,
}

#[derive(Serialize)]
struct JsonNode<'a> {
    id: &'a str,
    name: &'a str,
    site: &'a str,
    category: &'static str,
    criticality: &'static str,
    state: &'static str,
}

#[derive(Serialize)]
struct JsonEdge<'a> {
    from: &'a str,
    to: &'a str,
}

fn json(assets: &[&Asset]) -> String {
    let graph = JsonGraph {
        nodes: assets
            .iter()
            .map(|a| JsonNode {
                id: a.id.as_str(),
                name: &a.name,
                site: a.site.as_str(),
                category: a.category.as_str(),
                criticality: a.criticality.as_str(),
                state: a.state.as_str(),
            })
            .collect(),
        edges: assets
            .iter()
            .flat_map(|a| {
                a.depends_on.iter().map(|d| JsonEdge {
                    from: a.id.as_str(),
                    to: d.as_str(),
                })
            })
            .collect(),
    };
    serde_json::to_string_pretty(&graph).expect("graph serialises") + "\n"
}
