//! The recovery plan: which assets come back in which order, in waves that may run in
//! parallel, with why each one is where it is (R000.2, R004.2, R004.3).
//!
//! Order follows two things at once. Dependencies: an asset is never restored before
//! what it depends on. Priorities: [`PriorityRule`]s over category, zone risk,
//! criticality and function put each asset in a tier, and a high-priority asset pulls
//! its dependencies forward into its own tier (the switch serving critical-zone cameras
//! comes up with them, seed 000). The default rules reproduce seed 004 (network,
//! messaging and supervision first, even the "major" mail server; storage and backup
//! second; minor systems last) and seed 000 (critical-zone cameras and recorders, then
//! network gear, then video supervision, then low-risk cameras). Ties are broken by
//! criticality, then by how many assets wait on the asset, then by id: the same inventory
//! always gives the same plan.
//!
//! [`compute`] is linear in assets and dependencies (plus a heap): 100,000 assets and
//! 300,000 dependencies plan well under a second (`cargo bench -p reprise-domain`).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use serde::Serialize;

use crate::{Asset, AssetState, Category, Criticality, Inventory, SiteId, ZoneRisk};

/// Puts matching assets in a tier (1 comes first). A rule matches when every list it
/// gives contains the asset's value; an empty list matches anything.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriorityRule {
    pub tier: u32,
    pub label: String,
    /// The label in French, for French reports; the label when absent.
    pub label_fr: Option<String>,
    pub categories: Vec<Category>,
    pub zones: Vec<ZoneRisk>,
    pub criticalities: Vec<Criticality>,
    /// Matched against the asset's `function`, ignoring case and accents
    /// (`Messagerie`, `accès distant`).
    pub functions: Vec<String>,
    /// The sites whose own rule set this rule belongs to (R000.2: priorities are defined
    /// with each client); empty for a rule of every site.
    pub sites: Vec<SiteId>,
}

impl PriorityRule {
    pub fn matches(&self, asset: &Asset) -> bool {
        (self.categories.is_empty() || self.categories.contains(&asset.category))
            && (self.zones.is_empty() || asset.zone.is_some_and(|z| self.zones.contains(&z)))
            && (self.criticalities.is_empty() || self.criticalities.contains(&asset.criticality))
            && (self.functions.is_empty()
                || asset.function.as_deref().is_some_and(|f| {
                    let f = crate::vocabulary::normalize_word(f);
                    self.functions
                        .iter()
                        .any(|g| crate::vocabulary::normalize_word(g) == f)
                }))
            && (self.sites.is_empty() || self.sites.contains(&asset.site))
    }

    pub(crate) fn label_in(&self, lang: Lang) -> &str {
        match lang {
            Lang::Fr => self.label_fr.as_deref().unwrap_or(&self.label),
            Lang::En => &self.label,
        }
    }
}

/// The language of words shown to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    /// A recorded sentence in this language: its French text when there is one, the
    /// English one otherwise (records made before they were kept in both).
    pub fn pick<'a>(self, en: &'a str, fr: Option<&'a str>) -> &'a str {
        match (self, fr) {
            (Lang::Fr, Some(fr)) => fr,
            _ => en,
        }
    }
}

fn rule(
    tier: u32,
    label: &str,
    label_fr: &str,
    categories: &[Category],
    zones: &[ZoneRisk],
    criticalities: &[Criticality],
) -> PriorityRule {
    PriorityRule {
        tier,
        label: label.into(),
        label_fr: Some(label_fr.into()),
        categories: categories.to_vec(),
        zones: zones.to_vec(),
        criticalities: criticalities.to_vec(),
        functions: vec![],
        sites: vec![],
    }
}

/// What the seeds' tables call the functions of network, messaging and supervision
/// (R004.2), in English and French.
const FIRST_FUNCTIONS: &[&str] = &[
    "network",
    "réseau",
    "routing",
    "routage",
    "messaging",
    "messagerie",
    "mail",
    "e-mail",
    "email",
    "supervision",
    "monitoring",
    "vpn",
    "remote access",
    "accès distant",
];

/// The rules used when the configuration gives none for a site. First match wins.
/// They follow R004.2 (network, messaging and supervision first, by category or by
/// function; storage and backup second; minor systems last) and R000.2 (critical-zone
/// video, then the switches cameras hang on, then video supervision, then the rest).
pub fn default_rules() -> Vec<PriorityRule> {
    use Category::*;
    vec![
        rule(
            1,
            "video covering high-risk zones",
            "vidéo des zones à risque élevé",
            &[Camera, Recorder],
            &[ZoneRisk::High],
            &[],
        ),
        rule(
            1,
            "network, messaging and supervision",
            "réseau, messagerie et supervision",
            &[Router, Firewall, Network, Mail, Vpn, Supervision],
            &[],
            &[],
        ),
        PriorityRule {
            functions: FIRST_FUNCTIONS.iter().map(|f| f.to_string()).collect(),
            ..rule(
                1,
                "network, messaging and supervision (by function)",
                "réseau, messagerie et supervision (par fonction)",
                &[],
                &[],
                &[],
            )
        },
        rule(
            2,
            "switches others depend on",
            "commutateurs dont d'autres dépendent",
            &[Switch],
            &[],
            &[],
        ),
        rule(
            2,
            "storage and backup",
            "stockage et sauvegarde",
            &[Storage, Backup],
            &[],
            &[],
        ),
        rule(
            3,
            "video supervision",
            "supervision vidéo",
            &[Vms],
            &[],
            &[],
        ),
        rule(
            4,
            "video covering low-risk zones",
            "vidéo des zones à risque moindre",
            &[Camera, Recorder],
            &[],
            &[],
        ),
        rule(
            2,
            "other critical systems",
            "autres systèmes critiques",
            &[],
            &[],
            &[Criticality::Critical],
        ),
        rule(
            3,
            "other major systems",
            "autres systèmes majeurs",
            &[],
            &[],
            &[Criticality::Major],
        ),
        rule(
            4,
            "minor systems",
            "systèmes mineurs",
            &[],
            &[],
            &[Criticality::Minor],
        ),
    ]
}

/// How recoveries are run, from `[recovery]`.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoverySettings {
    /// Steps that may run at once (people on the ground).
    pub technicians: u32,
    /// Predicted time of a manual action (restart and check, replace a card).
    pub manual_step: crate::Interval,
    /// Restore throughput assumed until restores have been measured, bytes per second.
    pub assumed_throughput: u64,
    /// The damage assessment is due this long after detection (R000.1: 2 hours).
    pub assessment_deadline: crate::Interval,
    /// The review is due this long after recovery (R000.7: 10 days).
    pub review_after: crate::Interval,
    /// Status updates by severity (`SEV1` … `SEV4`) where they differ from the default
    /// cadence (hourly, 4 h, daily, none); `None` means no update is due.
    pub update_every: std::collections::BTreeMap<String, Option<crate::Interval>>,
}

impl Default for RecoverySettings {
    fn default() -> Self {
        Self {
            technicians: 2,
            manual_step: crate::Interval::from_secs(30 * 60),
            assumed_throughput: 50 * 1024 * 1024,
            assessment_deadline: crate::Interval::from_hours(2),
            review_after: crate::Interval::from_days(10),
            update_every: Default::default(),
        }
    }
}

/// What a step does.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Action {
    /// Restore these data sets (by Reprise), then the asset's procedure if it has one.
    Restore {
        datasets: Vec<String>,
        procedure: Option<String>,
    },
    /// A manual action from the asset's procedure (replace a network card, restart and
    /// check — seed 004).
    Manual { procedure: String },
    /// The minimal-continuity variant's stand-in (R000.2).
    StandIn { action: String },
}

/// One verification after a step, pass / fail / reserved when executed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckItem {
    pub key: &'static str,
    pub en: &'static str,
    pub fr: &'static str,
}

const fn item(key: &'static str, en: &'static str, fr: &'static str) -> CheckItem {
    CheckItem { key, en, fr }
}

/// The post-restore checks of an asset's category (R000.4, R003.4).
pub fn checklist(category: Category) -> Vec<CheckItem> {
    use Category::*;
    match category {
        Camera => vec![
            item(
                "image",
                "image correct (resolution, angle, brightness)",
                "image correcte (résolution, angle, luminosité)",
            ),
            item("recording", "recording active", "enregistrement actif"),
            item(
                "retention",
                "configured retention respected",
                "durées de conservation respectées",
            ),
            item(
                "remote-access",
                "remote access over VPN works",
                "accès distant via VPN fonctionnel",
            ),
            item(
                "accounts",
                "user accounts work and rights are correct",
                "comptes utilisateurs opérationnels et droits corrects",
            ),
        ],
        Recorder => vec![
            item(
                "recording",
                "recording active on every camera",
                "enregistrement actif sur toutes les caméras",
            ),
            item(
                "retention",
                "configured retention respected",
                "durées de conservation respectées",
            ),
            item(
                "remote-access",
                "remote access over VPN works",
                "accès distant via VPN fonctionnel",
            ),
            item(
                "accounts",
                "user accounts work and rights are correct",
                "comptes utilisateurs opérationnels et droits corrects",
            ),
        ],
        Vms => vec![
            item(
                "images",
                "every camera shows an image",
                "toutes les caméras affichent une image",
            ),
            item(
                "remote-access",
                "remote access over VPN works",
                "accès distant via VPN fonctionnel",
            ),
            item(
                "accounts",
                "user accounts work and rights are correct",
                "comptes utilisateurs opérationnels et droits corrects",
            ),
        ],
        Mail => vec![
            item(
                "send",
                "a test message is sent outside",
                "un message de test part vers l'extérieur",
            ),
            item(
                "receive",
                "a test message is received",
                "un message de test est reçu",
            ),
            item(
                "mailboxes",
                "mailboxes hold their data",
                "les boîtes aux lettres ont leurs données",
            ),
        ],
        Router | Switch | Firewall | Network => vec![
            item(
                "connectivity",
                "network connectivity tested",
                "connectivité réseau testée",
            ),
            item(
                "configuration",
                "configuration matches the documented one",
                "configuration conforme à la documentation",
            ),
        ],
        Vpn => vec![
            item(
                "tunnel",
                "VPN tunnels are up and stable",
                "tunnels VPN établis et stables",
            ),
            item(
                "remote-access",
                "a remote user connects",
                "un utilisateur distant se connecte",
            ),
        ],
        Supervision => vec![
            item(
                "collecting",
                "monitoring data arrives from every host",
                "les données de supervision arrivent de chaque hôte",
            ),
            item(
                "alerting",
                "an alert reaches the on-call team",
                "une alerte parvient à l'astreinte",
            ),
        ],
        Storage | Backup => vec![
            item(
                "integrity",
                "data integrity verified",
                "intégrité des données vérifiée",
            ),
            item(
                "backups",
                "backups run again",
                "les sauvegardes tournent de nouveau",
            ),
        ],
        Database => vec![
            item(
                "integrity",
                "database opens and passes its consistency check",
                "la base s'ouvre et passe sa vérification de cohérence",
            ),
            item(
                "counters",
                "record counts match the expected ones",
                "les compteurs correspondent aux attendus",
            ),
        ],
        _ => vec![
            item("service", "the service answers", "le service répond"),
            item(
                "stability",
                "services stable after a restart",
                "services stables après redémarrage",
            ),
        ],
    }
}

/// What the plan is asked for.
#[derive(Debug, Clone)]
pub struct PlanRequest<'a> {
    /// The assets to bring back (failed or partial), with their state.
    pub scope: Vec<(String, AssetState)>,
    pub rules: &'a [PriorityRule],
    /// Steps that may run at once.
    pub technicians: usize,
    /// Predicted seconds per asset; absent assets take `default_seconds`.
    pub durations: &'a HashMap<String, u64>,
    pub default_seconds: u64,
    /// The minimal-continuity variant: only the top tier, with stand-in actions.
    pub minimal: bool,
}

/// One step of the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// 1-based position in the recovery order.
    pub position: usize,
    pub asset: String,
    pub name: String,
    pub state: AssetState,
    /// 1-based wave: steps of a wave may run in parallel.
    pub wave: usize,
    /// The tier it is restored in (after being pulled forward).
    pub tier: u32,
    /// The tier its own rule gives.
    pub own_tier: u32,
    pub rule: String,
    pub rule_fr: String,
    /// Why it is here, in words.
    pub reason: String,
    pub reason_fr: String,
    /// In-scope assets it waits for.
    pub after: Vec<String>,
    /// The in-scope asset that pulled it forward, if any.
    pub pulled_by: Option<String>,
    pub action: Action,
    pub checklist: Vec<CheckItem>,
    pub predicted_seconds: u64,
    /// Seconds from the start of the recovery.
    pub start_seconds: u64,
    pub end_seconds: u64,
    pub rto_seconds: Option<u64>,
    /// Whether the predicted recovery time meets the RTO (`None` without an RTO).
    pub rto_met: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Wave {
    pub number: usize,
    pub tier: u32,
    pub assets: Vec<String>,
    pub start_seconds: u64,
    pub end_seconds: u64,
}

/// Assets not in scope that do not work while something in scope is down.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Degraded {
    pub asset: String,
    /// The in-scope assets it depends on directly.
    pub waits_for: Vec<String>,
    /// Its dependencies that are degraded themselves (it waits through them).
    pub through: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub minimal: bool,
    pub technicians: usize,
    pub steps: Vec<Step>,
    pub waves: Vec<Wave>,
    pub degraded: Vec<Degraded>,
    /// Assets of the longest chain through the waves, which sets the total.
    pub critical_path: Vec<String>,
    pub total_seconds: u64,
    /// Assets whose predicted recovery misses their RTO, flagged before anything starts.
    pub rto_at_risk: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("no asset `{0}` in the inventory")]
    UnknownAsset(String),
    #[error("asset `{asset}` depends on `{missing}`, which is not in the inventory")]
    MissingDependency { asset: String, missing: String },
    #[error("dependency cycle: {}", .0.join(" → "))]
    Cycle(Vec<String>),
    #[error("nothing to recover: no asset is failed or partial")]
    Empty,
}

/// The inventory as a graph of indices: dependencies, dependents, and what is in scope.
struct Graph<'i> {
    assets: &'i [Asset],
    deps: Vec<Vec<usize>>,
    dependents: Vec<Vec<usize>>,
    in_scope: Vec<bool>,
    states: HashMap<usize, AssetState>,
}

impl<'i> Graph<'i> {
    fn build(inventory: &'i Inventory, request: &PlanRequest<'_>) -> Result<Self, PlanError> {
        let assets = &inventory.assets;
        let index: HashMap<&str, usize> = assets
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.as_str(), i))
            .collect();
        let mut deps: Vec<Vec<usize>> = vec![Vec::new(); assets.len()];
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); assets.len()];
        for (i, a) in assets.iter().enumerate() {
            for d in &a.depends_on {
                let j = *index
                    .get(d.as_str())
                    .ok_or_else(|| PlanError::MissingDependency {
                        asset: a.id.to_string(),
                        missing: d.to_string(),
                    })?;
                deps[i].push(j);
                dependents[j].push(i);
            }
        }
        let mut in_scope = vec![false; assets.len()];
        let mut states = HashMap::new();
        for (id, state) in &request.scope {
            let i = *index
                .get(id.as_str())
                .ok_or_else(|| PlanError::UnknownAsset(id.clone()))?;
            in_scope[i] = true;
            states.insert(i, *state);
        }
        if states.is_empty() {
            return Err(PlanError::Empty);
        }
        Ok(Self {
            assets,
            deps,
            dependents,
            in_scope,
            states,
        })
    }

    /// The in-scope dependencies of `i`.
    fn scoped_deps(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.deps[i].iter().copied().filter(|&d| self.in_scope[d])
    }

    /// The in-scope dependents of `i`.
    fn scoped_dependents(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.dependents[i]
            .iter()
            .copied()
            .filter(|&j| self.in_scope[j])
    }
}

/// Why an asset has its own tier, in English and French.
struct Decision {
    tier: u32,
    en: String,
    fr: String,
}

/// Tiers as decided: each asset's own (its `priority`, else the first rule of its site,
/// else the first rule of every site), and after the pull forward, with who pulled it.
struct Tiers {
    own: Vec<Decision>,
    tier: Vec<u32>,
    puller: Vec<Option<usize>>,
}

/// One asset's own tier, and why.
fn decide(a: &Asset, rules: &[PriorityRule], fallback: u32) -> Decision {
    if let Some(p) = a.priority {
        return Decision {
            tier: p,
            en: format!("priority {p} set on the asset"),
            fr: format!("priorité {p} fixée sur l'élément"),
        };
    }
    // The site's own rules come first, numbered as the site's rule set.
    let site_rules = rules.iter().filter(|r| r.sites.contains(&a.site));
    if let Some((n, r)) = site_rules.enumerate().find(|(_, r)| r.matches(a)) {
        return Decision {
            tier: r.tier,
            en: format!("site {} rule {}: {}", a.site, n + 1, r.label_in(Lang::En)),
            fr: format!(
                "règle {} du site {} : {}",
                n + 1,
                a.site,
                r.label_in(Lang::Fr)
            ),
        };
    }
    match rules
        .iter()
        .filter(|r| r.sites.is_empty())
        .find(|r| r.matches(a))
    {
        Some(r) => Decision {
            tier: r.tier,
            en: r.label_in(Lang::En).to_string(),
            fr: r.label_in(Lang::Fr).to_string(),
        },
        None => Decision {
            tier: fallback,
            en: "no rule matched".into(),
            fr: "aucune règle".into(),
        },
    }
}

/// Each asset's own tier and rule, then the pull forward: a dependency takes the best
/// tier of the in-scope assets waiting on it. Dependents come later in `topo`, so it is
/// walked backwards.
fn decide_tiers(g: &Graph<'_>, rules: &[PriorityRule], topo: &[usize]) -> Tiers {
    let fallback = rules.iter().map(|r| r.tier).max().unwrap_or(0) + 1;
    let own: Vec<Decision> = g
        .assets
        .iter()
        .map(|a| decide(a, rules, fallback))
        .collect();
    let mut tier: Vec<u32> = own.iter().map(|d| d.tier).collect();
    let mut puller: Vec<Option<usize>> = vec![None; g.assets.len()];
    for &i in topo.iter().rev() {
        for d in g.scoped_deps(i).collect::<Vec<_>>() {
            if tier[i] < tier[d] {
                tier[d] = tier[i];
                puller[d] = Some(puller[i].unwrap_or(i));
            }
        }
    }
    Tiers { own, tier, puller }
}

/// How many in-scope assets wait on each one, transitively (for ties): counted on the
/// in-scope DAG in reverse topological order, as a bounded sum (a diamond counts twice;
/// good enough for ordering).
fn waiting_counts(g: &Graph<'_>, topo: &[usize]) -> Vec<u64> {
    let mut waiting: Vec<u64> = vec![0; g.assets.len()];
    for &i in topo.iter().rev() {
        waiting[i] = g
            .scoped_dependents(i)
            .fold(0u64, |n, j| n.saturating_add(1 + waiting[j]));
    }
    waiting
}

/// The order: dependencies first; among ready assets the lowest tier, then the most
/// critical, then the most waited on, then the id.
fn restore_order(g: &Graph<'_>, topo: &[usize], tier: &[u32], waiting: &[u64]) -> Vec<usize> {
    let rank = |c: Criticality| match c {
        Criticality::Critical => 0u8,
        Criticality::Major => 1,
        Criticality::Minor => 2,
    };
    let mut missing: Vec<usize> = (0..g.assets.len())
        .map(|i| g.scoped_deps(i).count())
        .collect();
    let key = |i: usize| {
        (
            Reverse(tier[i]),
            Reverse(rank(g.assets[i].criticality)),
            waiting[i],
            Reverse(g.assets[i].id.as_str()),
            i,
        )
    };
    let mut ready: BinaryHeap<_> = topo
        .iter()
        .copied()
        .filter(|&i| missing[i] == 0)
        .map(key)
        .collect();
    let mut order = Vec::with_capacity(topo.len());
    while let Some((.., i)) = ready.pop() {
        order.push(i);
        for j in g.scoped_dependents(i) {
            missing[j] -= 1;
            if missing[j] == 0 {
                ready.push(key(j));
            }
        }
    }
    order
}

/// Waves: one tier each, at most `technicians` steps, after the waves of everything a
/// step waits for. Returns the waves (tier, members) and each asset's wave.
fn group_waves(
    g: &Graph<'_>,
    order: &[usize],
    tier: &[u32],
    technicians: usize,
    counts: impl Fn(usize) -> bool,
) -> (Vec<(u32, Vec<usize>)>, Vec<usize>) {
    let mut wave_of: Vec<usize> = vec![0; g.assets.len()];
    let mut waves: Vec<(u32, Vec<usize>)> = Vec::new();
    for &i in order {
        let after_deps = g
            .scoped_deps(i)
            .filter(|&d| counts(d))
            .map(|d| wave_of[d] + 1)
            .max()
            .unwrap_or(0);
        // Tiers come in order, so a step never goes before the current tier's first
        // wave.
        let tier_start = waves
            .iter()
            .position(|(t, _)| *t == tier[i])
            .unwrap_or(waves.len());
        let from = after_deps.max(tier_start);
        let slot =
            (from..waves.len()).find(|&w| waves[w].0 == tier[i] && waves[w].1.len() < technicians);
        let w = match slot {
            Some(w) => w,
            None => {
                waves.push((tier[i], Vec::new()));
                waves.len() - 1
            }
        };
        waves[w].1.push(i);
        wave_of[i] = w;
    }
    (waves, wave_of)
}

/// Predicted times: waves run one after the other; a wave lasts as long as its longest
/// step, which is on the critical path. Returns the waves, the path and the total.
fn time_waves(
    g: &Graph<'_>,
    waves: &[(u32, Vec<usize>)],
    seconds: impl Fn(usize) -> u64,
) -> (Vec<Wave>, Vec<String>, u64) {
    let mut out = Vec::new();
    let mut clock = 0u64;
    let mut critical_path = Vec::new();
    for (n, (t, members)) in waves.iter().enumerate() {
        let longest = members
            .iter()
            .copied()
            .max_by_key(|&i| (seconds(i), Reverse(i)));
        let length = longest.map_or(0, &seconds);
        if let Some(i) = longest {
            critical_path.push(g.assets[i].id.to_string());
        }
        out.push(Wave {
            number: n + 1,
            tier: *t,
            assets: members
                .iter()
                .map(|&i| g.assets[i].id.to_string())
                .collect(),
            start_seconds: clock,
            end_seconds: clock + length,
        });
        clock += length;
    }
    (out, critical_path, clock)
}

/// What a step does: a stand-in in the minimal variant, a restore of the asset's data
/// sets, or its manual procedure when it has none.
fn action_for(a: &Asset, minimal: bool) -> Action {
    if minimal {
        Action::StandIn {
            action: stand_in(a),
        }
    } else if a.datasets.is_empty() {
        Action::Manual {
            procedure: a.procedure.clone().unwrap_or_else(|| {
                "Restart and check the service (no data set to restore).".to_string()
            }),
        }
    } else {
        Action::Restore {
            datasets: a.datasets.iter().map(|d| d.name.clone()).collect(),
            procedure: a.procedure.clone(),
        }
    }
}

/// The step of asset `i`, at `position`, in its wave.
fn step_for(
    g: &Graph<'_>,
    tiers: &Tiers,
    i: usize,
    position: usize,
    wave: (usize, &Wave),
    seconds: u64,
    minimal: bool,
) -> Step {
    let a = &g.assets[i];
    let end = wave.1.start_seconds + seconds;
    let rto = a.rto.map(|r| r.as_secs());
    let after: Vec<String> = g
        .scoped_deps(i)
        .map(|d| g.assets[d].id.to_string())
        .collect();
    let (rule_en, rule_fr) = (tiers.own[i].en.clone(), tiers.own[i].fr.clone());
    let pulled_by = tiers.puller[i].map(|p| g.assets[p].id.to_string());
    let (reason, reason_fr) = reasons(
        tiers.tier[i],
        tiers.own[i].tier,
        &rule_en,
        &rule_fr,
        pulled_by.as_deref(),
        &after,
    );
    Step {
        position,
        asset: a.id.to_string(),
        name: a.name.clone(),
        state: g.states[&i],
        wave: wave.0 + 1,
        tier: tiers.tier[i],
        own_tier: tiers.own[i].tier,
        rule: rule_en,
        rule_fr,
        reason,
        reason_fr,
        after,
        pulled_by,
        action: action_for(a, minimal),
        checklist: checklist(a.category),
        predicted_seconds: seconds,
        start_seconds: wave.1.start_seconds,
        end_seconds: end,
        rto_seconds: rto,
        rto_met: rto.map(|r| end <= r),
    }
}

/// What stays degraded meanwhile: assets out of scope that wait on something in scope,
/// directly or through other degraded assets. One pass in dependency order; each names
/// its direct reasons, so the whole is linear in the graph.
fn degraded(g: &Graph<'_>) -> Vec<Degraded> {
    let everything = vec![true; g.assets.len()];
    let full_order = topological(&everything, &g.deps, &g.dependents, g.assets).unwrap_or_default();
    let mut is_degraded = vec![false; g.assets.len()];
    let mut out = Vec::new();
    for &i in &full_order {
        if g.in_scope[i] {
            continue;
        }
        let direct: Vec<usize> = g.scoped_deps(i).collect();
        let through: Vec<usize> = g.deps[i]
            .iter()
            .copied()
            .filter(|&d| is_degraded[d])
            .collect();
        if direct.is_empty() && through.is_empty() {
            continue;
        }
        is_degraded[i] = true;
        let names = |list: Vec<usize>| -> Vec<String> {
            let mut names: Vec<String> = list.iter().map(|&d| g.assets[d].id.to_string()).collect();
            names.sort();
            names
        };
        out.push(Degraded {
            asset: g.assets[i].id.to_string(),
            waits_for: names(direct),
            through: names(through),
        });
    }
    out.sort_by(|a, b| a.asset.cmp(&b.asset));
    out
}

/// Computes the recovery plan for `request.scope` on `inventory`: tiers by rule, pulled
/// forward by what waits; an order that puts dependencies first; waves of parallel steps;
/// predicted times; and what stays degraded meanwhile.
pub fn compute(inventory: &Inventory, request: &PlanRequest<'_>) -> Result<Plan, PlanError> {
    let g = Graph::build(inventory, request)?;
    let topo = topological(&g.in_scope, &g.deps, &g.dependents, g.assets)?;
    let tiers = decide_tiers(&g, request.rules, &topo);
    let waiting = waiting_counts(&g, &topo);
    let mut order = restore_order(&g, &topo, &tiers.tier, &waiting);
    let top = order.iter().map(|&i| tiers.tier[i]).min().unwrap_or(1);
    if request.minimal {
        order.retain(|&i| tiers.tier[i] == top);
    }
    let technicians = request.technicians.max(1);
    // In the minimal variant, only the top tier's dependencies are waited for.
    let counts = |d: usize| !request.minimal || tiers.tier[d] == top;
    let (waves, wave_of) = group_waves(&g, &order, &tiers.tier, technicians, counts);
    let seconds = |i: usize| {
        request
            .durations
            .get(g.assets[i].id.as_str())
            .copied()
            .unwrap_or(request.default_seconds)
    };
    let (wave_out, critical_path, total_seconds) = time_waves(&g, &waves, seconds);
    // Steps listed by wave, then by order within the wave.
    let mut listed = order.clone();
    listed.sort_by_key(|&i| wave_of[i]);
    let steps: Vec<Step> = listed
        .iter()
        .enumerate()
        .map(|(n, &i)| {
            let wave = (wave_of[i], &wave_out[wave_of[i]]);
            step_for(&g, &tiers, i, n + 1, wave, seconds(i), request.minimal)
        })
        .collect();
    let rto_at_risk = steps
        .iter()
        .filter(|s| s.rto_met == Some(false))
        .map(|s| s.asset.clone())
        .collect();
    Ok(Plan {
        minimal: request.minimal,
        technicians,
        steps,
        waves: wave_out,
        degraded: degraded(&g),
        critical_path,
        total_seconds,
        rto_at_risk,
    })
}

/// Kahn's algorithm on the in-scope subgraph; a leftover means a cycle, reported with
/// the assets on it.
fn topological(
    in_scope: &[bool],
    deps: &[Vec<usize>],
    dependents: &[Vec<usize>],
    assets: &[Asset],
) -> Result<Vec<usize>, PlanError> {
    let mut missing: Vec<usize> = (0..assets.len())
        .map(|i| deps[i].iter().filter(|&&d| in_scope[d]).count())
        .collect();
    let mut queue: Vec<usize> = (0..assets.len())
        .filter(|&i| in_scope[i] && missing[i] == 0)
        .collect();
    let mut order = Vec::new();
    while let Some(i) = queue.pop() {
        order.push(i);
        for &j in &dependents[i] {
            if in_scope[j] {
                missing[j] -= 1;
                if missing[j] == 0 {
                    queue.push(j);
                }
            }
        }
    }
    let total = in_scope.iter().filter(|&&s| s).count();
    if order.len() < total {
        let mut stuck: Vec<String> = (0..assets.len())
            .filter(|&i| in_scope[i] && missing[i] > 0)
            .map(|i| assets[i].id.to_string())
            .collect();
        stuck.sort();
        return Err(PlanError::Cycle(stuck));
    }
    Ok(order)
}

fn reasons(
    tier: u32,
    own_tier: u32,
    rule_en: &str,
    rule_fr: &str,
    pulled_by: Option<&str>,
    after: &[String],
) -> (String, String) {
    let (mut en, mut fr) = match pulled_by {
        Some(p) if own_tier != tier => (
            format!(
                "tier {tier}, pulled forward from tier {own_tier} ({rule_en}) because {p} depends on it"
            ),
            format!(
                "niveau {tier}, avancé depuis le niveau {own_tier} ({rule_fr}) car {p} en dépend"
            ),
        ),
        _ => (
            format!("tier {tier}: {rule_en}"),
            format!("niveau {tier} : {rule_fr}"),
        ),
    };
    if !after.is_empty() {
        en.push_str(&format!("; after {} (its dependencies)", after.join(", ")));
        fr.push_str(&format!("; après {} (ses dépendances)", after.join(", ")));
    }
    (en, fr)
}

/// The stand-in action of the minimal-continuity variant (R000.2).
fn stand_in(asset: &Asset) -> String {
    match asset.category {
        Category::Camera => {
            "Deploy an autonomous replacement camera on this point until the full restore.".into()
        }
        Category::Recorder => {
            "Record locally (autonomous cameras with SD cards) until the recorder is back.".into()
        }
        Category::Mail => {
            "Switch users to the fallback messaging (phone tree, external mailbox).".into()
        }
        Category::Router | Category::Switch | Category::Firewall | Category::Network => {
            "Put a spare device with the last known configuration in place.".into()
        }
        _ => asset.procedure.clone().unwrap_or_else(|| {
            "Bring up the minimal service by hand, as the procedure says.".into()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AssetId, Interval, SiteId};

    fn asset(id: &str, category: Category, criticality: Criticality, deps: &[&str]) -> Asset {
        Asset {
            state: AssetState::Failed,
            depends_on: deps.iter().map(|d| AssetId::parse(d).unwrap()).collect(),
            ..Asset::new(
                AssetId::parse(id).unwrap(),
                SiteId::parse("site").unwrap(),
                category,
                criticality,
            )
        }
    }

    fn inventory(assets: Vec<Asset>) -> Inventory {
        Inventory {
            assets,
            ..Inventory::default()
        }
    }

    fn plan(inv: &Inventory, scope: &[&str], technicians: usize) -> Plan {
        let rules = default_rules();
        let durations = HashMap::new();
        compute(
            inv,
            &PlanRequest {
                scope: scope
                    .iter()
                    .map(|s| (s.to_string(), AssetState::Failed))
                    .collect(),
                rules: &rules,
                technicians,
                durations: &durations,
                default_seconds: 1800,
                minimal: false,
            },
        )
        .unwrap()
    }

    fn order(plan: &Plan) -> Vec<&str> {
        plan.steps.iter().map(|s| s.asset.as_str()).collect()
    }

    /// Seed 004 after the power failure: everything hangs on the router.
    fn seed_004() -> Inventory {
        use Category::*;
        use Criticality::*;
        inventory(vec![
            asset("iredmail", Mail, Major, &["router-vyos"]),
            asset("router-vyos", Router, Critical, &[]),
            asset("gui-storage", Storage, Major, &["router-vyos"]),
            asset("windows-core", Server, Minor, &["router-vyos"]),
            asset("openvpn", Vpn, Major, &["router-vyos"]),
            asset("zabbix", Supervision, Major, &["router-vyos"]),
        ])
    }

    #[test]
    fn seed_004_network_messaging_and_supervision_first_then_storage_then_minor() {
        let inv = seed_004();
        let all = [
            "iredmail",
            "router-vyos",
            "gui-storage",
            "windows-core",
            "openvpn",
            "zabbix",
        ];
        let p = plan(&inv, &all, 1);
        assert_eq!(
            order(&p),
            [
                "router-vyos",
                "iredmail",
                "openvpn",
                "zabbix",
                "gui-storage",
                "windows-core"
            ]
        );
        let tiers: Vec<u32> = p.steps.iter().map(|s| s.tier).collect();
        assert_eq!(tiers, [1, 1, 1, 1, 2, 4]);
        // The router is network: priority 1 on its own (R004.2).
        let router = &p.steps[0];
        assert_eq!(router.own_tier, 1);
        assert!(
            router
                .reason
                .contains("tier 1: network, messaging and supervision"),
            "{}",
            router.reason
        );
        // The "major" mail server is restored in the first tier (R004.2).
        assert_eq!(p.steps[1].rule, "network, messaging and supervision");
        assert!(p.steps[1].reason.contains("after router-vyos"));
    }

    #[test]
    fn functions_in_french_an_asset_priority_and_a_site_rule_set_decide_tiers() {
        use Category::*;
        use Criticality::*;
        let mut zabbix = asset("zabbix", Server, Major, &[]);
        zabbix.function = Some("Supervision".into());
        let mut openvpn = asset("openvpn", Other, Major, &[]);
        openvpn.function = Some("Accès distant".into());
        let mut nas = asset("nas", Storage, Major, &[]);
        nas.priority = Some(1);
        let inv = inventory(vec![zabbix, openvpn, nas, asset("erp", Server, Minor, &[])]);
        let p = plan(&inv, &["zabbix", "openvpn", "nas", "erp"], 1);
        let of = |id: &str| {
            let s = p.steps.iter().find(|s| s.asset == id).unwrap();
            (s.tier, s.rule.clone())
        };
        assert_eq!(of("zabbix").0, 1);
        assert_eq!(of("openvpn").0, 1);
        assert_eq!(of("nas"), (1, "priority 1 set on the asset".to_string()));
        assert_eq!(of("erp").0, 4);

        let mut rules = vec![PriorityRule {
            sites: vec![SiteId::parse("site").unwrap()],
            ..rule(
                1,
                "the client's first",
                "le premier du client",
                &[Server],
                &[],
                &[Minor],
            )
        }];
        rules.extend(default_rules());
        let erp = decide(&inv.assets[3], &rules, 9);
        assert_eq!(
            (erp.tier, erp.en.as_str()),
            (1, "site site rule 1: the client's first")
        );
        assert_eq!(erp.fr, "règle 1 du site site : le premier du client");
        // A rule of another site does not apply.
        rules[0].sites = vec![SiteId::parse("elsewhere").unwrap()];
        assert_eq!(decide(&inv.assets[3], &rules, 9).tier, 4);
    }

    #[test]
    fn seed_000_critical_zones_pull_their_switch_forward_and_low_risk_cameras_come_last() {
        use Category::*;
        use Criticality::*;
        let mut cams = vec![
            asset("sw-coeur", Switch, Critical, &[]),
            asset("sw-parking", Switch, Major, &["sw-coeur"]),
            asset("nvr-1", Recorder, Critical, &["sw-coeur"]),
            asset("vms", Vms, Major, &["sw-coeur", "nvr-1"]),
            asset("cam-entree", Camera, Critical, &["sw-coeur", "nvr-1"]),
            asset("cam-sortie-quai", Camera, Critical, &["sw-coeur", "nvr-1"]),
            asset("cam-parking", Camera, Minor, &["sw-parking", "nvr-1"]),
            asset("cam-couloir", Camera, Minor, &["sw-coeur", "nvr-1"]),
        ];
        for a in cams.iter_mut() {
            if ["nvr-1", "cam-entree", "cam-sortie-quai"].contains(&a.id.as_str()) {
                a.zone = Some(ZoneRisk::High);
            } else if a.category == Camera {
                a.zone = Some(ZoneRisk::Low);
            }
        }
        let inv = inventory(cams);
        let ids: Vec<&str> = inv.assets.iter().map(|a| a.id.as_str()).collect();
        let p = plan(&inv, &ids, 2);
        assert_eq!(
            order(&p),
            [
                "sw-coeur",
                "nvr-1",
                "cam-entree",
                "cam-sortie-quai",
                "sw-parking",
                "vms",
                "cam-couloir",
                "cam-parking"
            ]
        );
        let switch = &p.steps[0];
        assert_eq!((switch.tier, switch.own_tier), (1, 2));
        assert_eq!(p.steps[4].tier, 2, "the parking switch keeps its tier");
        // Waves: the switch, then the recorder, then both critical cameras at once.
        let waves: Vec<Vec<&str>> = p
            .waves
            .iter()
            .map(|w| w.assets.iter().map(String::as_str).collect())
            .collect();
        assert_eq!(waves[0], ["sw-coeur"]);
        assert_eq!(waves[1], ["nvr-1"]);
        assert_eq!(waves[2], ["cam-entree", "cam-sortie-quai"]);
        assert_eq!(waves.last().unwrap(), &["cam-couloir", "cam-parking"]);
    }

    #[test]
    fn an_asset_never_comes_before_what_it_depends_on() {
        use Category::*;
        use Criticality::*;
        // A minor database the critical application needs: it goes first, in tier 2.
        let inv = inventory(vec![
            asset("app", Application, Critical, &["db"]),
            asset("db", Database, Minor, &[]),
            asset("mail", Mail, Major, &[]),
        ]);
        let p = plan(&inv, &["app", "db", "mail"], 3);
        assert_eq!(order(&p), ["mail", "db", "app"]);
        assert_eq!(p.steps[1].tier, 2);
        assert_eq!(p.steps[1].pulled_by.as_deref(), Some("app"));
        for step in &p.steps {
            for dep in &step.after {
                let d = p.steps.iter().find(|s| &s.asset == dep).unwrap();
                assert!(d.wave < step.wave, "{} before {}", dep, step.asset);
            }
        }
    }

    #[test]
    fn cycles_and_unknown_assets_are_refused() {
        use Category::*;
        use Criticality::*;
        let inv = inventory(vec![
            asset("a", Server, Major, &["b"]),
            asset("b", Server, Major, &["a"]),
            asset("c", Server, Major, &[]),
        ]);
        let rules = default_rules();
        let durations = HashMap::new();
        let request = |scope: &[&str]| PlanRequest {
            scope: scope
                .iter()
                .map(|s| (s.to_string(), AssetState::Failed))
                .collect(),
            rules: &rules,
            technicians: 1,
            durations: &durations,
            default_seconds: 60,
            minimal: false,
        };
        assert_eq!(
            compute(&inv, &request(&["a", "b", "c"])),
            Err(PlanError::Cycle(vec!["a".into(), "b".into()]))
        );
        assert_eq!(
            compute(&inv, &request(&["zz"])),
            Err(PlanError::UnknownAsset("zz".into()))
        );
        assert_eq!(compute(&inv, &request(&[])), Err(PlanError::Empty));
        let broken = inventory(vec![asset("x", Server, Major, &["ghost"])]);
        assert!(matches!(
            compute(&broken, &request(&["x"])),
            Err(PlanError::MissingDependency { .. })
        ));
    }

    #[test]
    fn predicted_times_flag_an_rto_that_will_be_missed_and_name_the_critical_path() {
        let mut inv = seed_004();
        for a in inv.assets.iter_mut() {
            a.rto = Some(Interval::from_hours(4));
        }
        let rules = default_rules();
        let mut durations = HashMap::new();
        durations.insert("router-vyos".to_string(), 3600);
        durations.insert("iredmail".to_string(), 7200);
        durations.insert("gui-storage".to_string(), 3 * 3600);
        let p = compute(
            &inv,
            &PlanRequest {
                scope: inv
                    .assets
                    .iter()
                    .map(|a| (a.id.to_string(), AssetState::Failed))
                    .collect(),
                rules: &rules,
                technicians: 3,
                durations: &durations,
                default_seconds: 1800,
                minimal: false,
            },
        )
        .unwrap();
        // Router 1 h; mail, VPN, Zabbix together 2 h; storage 3 h: 6 h > RTO 4 h.
        let storage = p.steps.iter().find(|s| s.asset == "gui-storage").unwrap();
        assert_eq!(storage.end_seconds, 6 * 3600);
        assert_eq!(storage.rto_met, Some(false));
        assert!(p.rto_at_risk.contains(&"gui-storage".to_string()));
        let mail = p.steps.iter().find(|s| s.asset == "iredmail").unwrap();
        assert_eq!(mail.rto_met, Some(true));
        assert_eq!(
            p.critical_path[..3],
            ["router-vyos", "iredmail", "gui-storage"]
        );
        assert_eq!(p.total_seconds, 6 * 3600 + 1800);
    }

    #[test]
    fn the_minimal_variant_keeps_the_top_tier_with_stand_ins() {
        let inv = seed_004();
        let rules = default_rules();
        let durations = HashMap::new();
        let p = compute(
            &inv,
            &PlanRequest {
                scope: vec![
                    ("iredmail".into(), AssetState::Failed),
                    ("router-vyos".into(), AssetState::Failed),
                    ("windows-core".into(), AssetState::Failed),
                ],
                rules: &rules,
                technicians: 2,
                durations: &durations,
                default_seconds: 600,
                minimal: true,
            },
        )
        .unwrap();
        assert_eq!(order(&p), ["router-vyos", "iredmail"]);
        assert!(matches!(p.steps[0].action, Action::StandIn { .. }));
        // The others are degraded meanwhile, never forgotten.
        assert!(p.degraded.iter().any(|d| d.asset == "zabbix"));
    }

    #[test]
    fn checklists_follow_the_category() {
        let cam: Vec<&str> = checklist(Category::Camera).iter().map(|c| c.key).collect();
        assert_eq!(
            cam,
            [
                "image",
                "recording",
                "retention",
                "remote-access",
                "accounts"
            ]
        );
        assert!(checklist(Category::Mail).iter().any(|c| c.key == "send"));
        assert!(
            checklist(Category::Router)
                .iter()
                .any(|c| c.key == "connectivity")
        );
    }
}
