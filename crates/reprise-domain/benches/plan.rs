//! Recovery plan computation at scale: 100,000 assets and 300,000 dependencies, a tenth of
//! them failed (target: under one second). Run with `cargo bench -p reprise-domain`.

use std::collections::HashMap;
use std::time::Instant;

use reprise_domain::plan::{PlanRequest, compute, default_rules};
use reprise_domain::{
    Asset, AssetId, AssetState, Category, Criticality, Inventory, SiteId, ZoneRisk,
};

/// A layered inventory: each asset depends on three assets of earlier layers, so the
/// graph has no cycle, deep chains and wide fan-in, like sites hanging on cores.
fn inventory(n: usize) -> Inventory {
    let categories = [
        Category::Camera,
        Category::Switch,
        Category::Router,
        Category::Server,
        Category::Mail,
        Category::Storage,
        Category::Recorder,
        Category::Vms,
        Category::Database,
        Category::Application,
    ];
    let criticalities = [
        Criticality::Critical,
        Criticality::Major,
        Criticality::Minor,
    ];
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let site = SiteId::parse("site").unwrap();
    let assets = (0..n)
        .map(|i| {
            let depends_on = if i < 10 {
                vec![]
            } else {
                let mut d: Vec<usize> = (0..3).map(|_| (next() as usize) % i).collect();
                d.sort_unstable();
                d.dedup();
                d
            };
            Asset {
                name: format!("Asset {i}"),
                zone: Some(if i % 4 == 0 {
                    ZoneRisk::High
                } else {
                    ZoneRisk::Low
                }),
                depends_on: depends_on
                    .into_iter()
                    .map(|d| AssetId::parse(&format!("a-{d:06}")).unwrap())
                    .collect(),
                ..Asset::new(
                    AssetId::parse(&format!("a-{i:06}")).unwrap(),
                    site.clone(),
                    categories[i % categories.len()],
                    criticalities[i % 3],
                )
            }
        })
        .collect();
    Inventory {
        assets,
        ..Inventory::default()
    }
}

fn main() {
    let n = 100_000;
    let inv = inventory(n);
    let edges: usize = inv.assets.iter().map(|a| a.depends_on.len()).sum();
    let rules = default_rules();
    let durations = HashMap::new();
    for (label, every) in [("10 % failed", 10), ("all failed", 1)] {
        let scope: Vec<(String, AssetState)> = inv
            .assets
            .iter()
            .enumerate()
            .filter(|(i, _)| i % every == 0)
            .map(|(_, a)| (a.id.to_string(), AssetState::Failed))
            .collect();
        let request = PlanRequest {
            scope,
            rules: &rules,
            technicians: 8,
            durations: &durations,
            default_seconds: 1800,
            minimal: false,
        };
        let mut times = Vec::new();
        let mut steps = 0;
        for _ in 0..5 {
            let start = Instant::now();
            let plan = compute(&inv, &request).expect("a plan");
            times.push(start.elapsed().as_secs_f64());
            steps = plan.steps.len();
        }
        times.sort_by(f64::total_cmp);
        println!(
            "plan: {n} assets, {edges} dependencies, {label} ({steps} steps): median {:.3} s, best {:.3} s",
            times[2], times[0]
        );
    }
}
