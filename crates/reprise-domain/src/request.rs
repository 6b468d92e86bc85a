//! Restore requests (R002.6, R002.7, R003.3, R003.4): a user or a client asks for data
//! back; the request is complete or refused whole, then judged feasible or not against
//! the restore points that exist, the retention window and their verification.
//!
//! Everything here is pure: the caller passes the inventory, the restore points it knows
//! and `now`.

use std::collections::BTreeSet;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::plan::Lang;
use crate::{Interval, Inventory, Retention};

/// A request as written by its requester (a TOML file, a JSON body): every field may be
/// missing, so that all that is missing can be named at once.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Draft {
    pub requester: Option<String>,
    /// `en` or `fr`: the language answers are given in.
    pub lang: Option<String>,
    pub environment: Option<String>,
    pub scope: Option<ScopeDraft>,
    pub target: Option<TargetDraft>,
    pub context: Option<ContextDraft>,
    pub urgency: Option<String>,
    pub impact: Option<String>,
    pub downtime: Option<DowntimeDraft>,
    /// Where to restore (an absolute directory); a directory of the workspace otherwise.
    pub destination: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeDraft {
    #[serde(default)]
    pub assets: Vec<String>,
    /// `ASSET/DATASET`.
    #[serde(default)]
    pub datasets: Vec<String>,
    #[serde(default)]
    pub sites: Vec<String>,
    /// Data categories (`records`, `mail`…): alone they select every data set of that
    /// category; with other entries they narrow them.
    #[serde(default)]
    pub categories: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetDraft {
    /// The state at this time: the newest restore point at or before it.
    pub at: Option<String>,
    /// A precise interval: the newest restore point inside it.
    pub from: Option<String>,
    pub to: Option<String>,
    /// One named restore point (snapshot id or prefix).
    pub snapshot: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextDraft {
    /// `incident`, `faulty-import`, `change` or `other`.
    pub kind: Option<String>,
    pub description: Option<String>,
    /// The incident it belongs to, if any.
    pub incident: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DowntimeDraft {
    /// Whether the business accepts an interruption.
    pub approved: Option<bool>,
    /// `FROM/TO`: when the restore may run. Required when downtime is approved.
    pub window: Option<String>,
}

/// A complete request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub requester: String,
    pub lang: Lang,
    pub environment: String,
    pub scope: Scope,
    pub target: Target,
    pub context: Context,
    pub urgency: Urgency,
    pub impact: String,
    /// `None`: no interruption approved, the restore goes beside production and runs as
    /// soon as it is approved. `Some`: it runs inside this window.
    pub window: Option<Window>,
    pub destination: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scope {
    pub assets: Vec<String>,
    pub datasets: Vec<String>,
    pub sites: Vec<String>,
    pub categories: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Target {
    At { at: Timestamp },
    Between { from: Timestamp, to: Timestamp },
    Snapshot { snapshot: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Context {
    pub kind: ContextKind,
    pub description: String,
    pub incident: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContextKind {
    Incident,
    FaultyImport,
    Change,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    Low,
    Normal,
    High,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub from: Timestamp,
    pub to: Timestamp,
}

impl Lang {
    pub fn parse(word: &str) -> Option<Self> {
        match word.trim().to_ascii_lowercase().as_str() {
            "en" | "english" => Some(Self::En),
            "fr" | "français" | "francais" | "french" => Some(Self::Fr),
            _ => None,
        }
    }
}

impl ContextKind {
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Self::Incident, Lang::En) => "incident",
            (Self::Incident, Lang::Fr) => "incident",
            (Self::FaultyImport, Lang::En) => "faulty import",
            (Self::FaultyImport, Lang::Fr) => "import erroné",
            (Self::Change, Lang::En) => "change",
            (Self::Change, Lang::Fr) => "changement",
            (Self::Other, Lang::En) => "other",
            (Self::Other, Lang::Fr) => "autre",
        }
    }
}

impl Urgency {
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Self::Low, Lang::En) => "low",
            (Self::Low, Lang::Fr) => "faible",
            (Self::Normal, Lang::En) => "normal",
            (Self::Normal, Lang::Fr) => "normale",
            (Self::High, Lang::En) => "high",
            (Self::High, Lang::Fr) => "haute",
            (Self::Critical, Lang::En) => "critical",
            (Self::Critical, Lang::Fr) => "critique",
        }
    }
}

/// What is wrong with one field of a draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Missing {
    /// The field, as written in the request (`scope`, `target.at`, `downtime.window`).
    pub field: String,
    /// Said in the requester's language.
    pub message: String,
}

/// Checks that an environment is `production`, `staging` or `tenant:NAME`.
pub fn parse_environment(text: &str) -> Result<String, String> {
    let t = text.trim();
    match t {
        "production" | "staging" => Ok(t.to_string()),
        _ => match t.strip_prefix("tenant:") {
            Some(name) if !name.trim().is_empty() => Ok(format!("tenant:{}", name.trim())),
            _ => Err(format!(
                "`{t}` is not an environment: production, staging or tenant:NAME"
            )),
        },
    }
}

/// Which end of a day a bare date means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayEdge {
    Start,
    End,
}

/// Reads a point in time: RFC 3339 (`2026-11-20T18:00:00Z`), a date and time of `tz`
/// (`2026-11-20 18:00`), or a day, meaning its start or its end.
pub fn parse_time(text: &str, tz: &TimeZone, day: DayEdge) -> Option<Timestamp> {
    let t = text.trim();
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Some(ts);
    }
    let civil = t
        .replace(' ', "T")
        .parse::<jiff::civil::DateTime>()
        .ok()
        .or_else(|| {
            let d = t.parse::<jiff::civil::Date>().ok()?;
            Some(match day {
                DayEdge::Start => d.at(0, 0, 0, 0),
                DayEdge::End => d.at(23, 59, 59, 0),
            })
        })?;
    civil.to_zoned(tz.clone()).ok().map(|z| z.timestamp())
}

/// A new target for an existing request, from the same fields as a draft's `[target]`:
/// none of them keeps the current one.
pub fn retarget(t: &TargetDraft, tz: &TimeZone) -> Result<Option<Target>, String> {
    let time = |field: &str, v: &str, day: DayEdge| {
        parse_time(v, tz, day).ok_or_else(|| {
            format!("`{field}`: `{v}` is not a time (2026-11-20T18:00:00Z or 2026-11-20 18:00)")
        })
    };
    match (&t.at, &t.from, &t.to, &t.snapshot) {
        (None, None, None, None) => Ok(None),
        (Some(at), None, None, None) => Ok(Some(Target::At {
            at: time("at", at, DayEdge::End)?,
        })),
        (None, Some(from), Some(to), None) => Ok(Some(Target::Between {
            from: time("from", from, DayEdge::Start)?,
            to: time("to", to, DayEdge::End)?,
        })),
        (None, None, None, Some(snapshot)) => Ok(Some(Target::Snapshot {
            snapshot: snapshot.clone(),
        })),
        _ => Err("give one of `at`, `from` and `to`, or `snapshot`".into()),
    }
}

/// What is wrong so far, in the requester's language.
struct Errs {
    lang: Lang,
    list: Vec<Missing>,
}

impl Errs {
    fn add(&mut self, field: &str, en: &str, fr: &str) {
        self.list.push(Missing {
            field: field.to_string(),
            message: words(self.lang, en, fr),
        });
    }
}

fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn words(lang: Lang, en: &str, fr: &str) -> String {
    match lang {
        Lang::En => en.to_string(),
        Lang::Fr => fr.to_string(),
    }
}

/// Validates a draft whole: every field missing or wrong is named, in the requester's
/// language (English when the language itself is missing or unknown).
pub fn validate(draft: &Draft, tz: &TimeZone) -> Result<Request, Vec<Missing>> {
    let lang = draft.lang.as_deref().and_then(Lang::parse);
    let l = lang.unwrap_or(Lang::En);
    let mut errs = Errs {
        lang: l,
        list: Vec::new(),
    };
    let mut miss = |field: &str, en: &str, fr: &str| errs.add(field, en, fr);
    if draft.lang.is_some() && lang.is_none() {
        miss(
            "lang",
            "unknown language: en or fr",
            "langue inconnue : en ou fr",
        );
    }
    let requester = text(&draft.requester);
    if requester.is_none() {
        miss(
            "requester",
            "missing: who asks (name and team or client)",
            "manquant : qui demande (nom et service ou client)",
        );
    }
    let environment = environment(draft, &mut miss);
    let scope = draft.scope.clone().unwrap_or_default();
    let scope_empty = scope.assets.is_empty()
        && scope.datasets.is_empty()
        && scope.sites.is_empty()
        && scope.categories.is_empty();
    if scope_empty {
        miss(
            "scope",
            "missing: the assets, data sets (ASSET/DATASET), sites or data categories to restore",
            "manquant : les équipements, jeux de données (ÉQUIPEMENT/JEU), sites ou catégories de données à restaurer",
        );
    }
    let target = target(&draft.target.clone().unwrap_or_default(), tz, &mut miss);
    let c = draft.context.clone().unwrap_or_default();
    let kind = context_kind(&c, &mut miss);
    let description = text(&c.description);
    if description.is_none() {
        miss(
            "context.description",
            "missing: what happened and why the data is needed",
            "manquant : ce qui s'est passé et pourquoi les données sont nécessaires",
        );
    }
    let urgency = urgency(draft, &mut miss);
    let impact = text(&draft.impact);
    if impact.is_none() {
        miss(
            "impact",
            "missing: who or what is affected while the data is missing",
            "manquant : qui ou quoi est touché tant que les données manquent",
        );
    }
    let window = downtime(&draft.downtime.clone().unwrap_or_default(), tz, &mut miss);
    if let Some(dest) = text(&draft.destination)
        && !dest.starts_with('/')
    {
        miss(
            "destination",
            "must be an absolute directory",
            "doit être un répertoire absolu",
        );
    }
    match (
        requester,
        environment,
        target,
        kind,
        description,
        urgency,
        impact,
        window,
    ) {
        (
            Some(requester),
            Some(environment),
            Some(target),
            Some(kind),
            Some(description),
            Some(urgency),
            Some(impact),
            Some(window),
        ) if errs.list.is_empty() && !scope_empty => Ok(Request {
            requester: requester.to_string(),
            lang: l,
            environment,
            scope: Scope {
                assets: scope.assets,
                datasets: scope.datasets,
                sites: scope.sites,
                categories: scope.categories,
            },
            target,
            context: Context {
                kind,
                description: description.to_string(),
                incident: c.incident,
            },
            urgency,
            impact: impact.to_string(),
            window,
            destination: text(&draft.destination).map(str::to_string),
        }),
        _ => Err(errs.list),
    }
}

fn environment(draft: &Draft, miss: &mut dyn FnMut(&str, &str, &str)) -> Option<String> {
    match text(&draft.environment).map(parse_environment) {
        None => {
            miss(
                "environment",
                "missing: production, staging or tenant:NAME",
                "manquant : production, staging ou tenant:NOM",
            );
            None
        }
        Some(Err(_)) => {
            miss(
                "environment",
                "not an environment: production, staging or tenant:NAME",
                "environnement inconnu : production, staging ou tenant:NOM",
            );
            None
        }
        Some(Ok(e)) => Some(e),
    }
}

/// One target of three: a restore point, a time, or an interval.
fn target(
    t: &TargetDraft,
    tz: &TimeZone,
    miss: &mut dyn FnMut(&str, &str, &str),
) -> Option<Target> {
    let time = |field: &str,
                v: &Option<String>,
                day: DayEdge,
                miss: &mut dyn FnMut(&str, &str, &str)| {
        let raw = text(v)?;
        let parsed = parse_time(raw, tz, day);
        if parsed.is_none() {
            miss(
                field,
                &format!("`{raw}` is not a time: 2026-11-20T18:00:00Z or 2026-11-20 18:00"),
                &format!("`{raw}` n'est pas une date : 2026-11-20T18:00:00Z ou 2026-11-20 18:00"),
            );
        }
        parsed
    };
    let given = [
        t.at.is_some(),
        t.from.is_some() || t.to.is_some(),
        t.snapshot.is_some(),
    ]
    .iter()
    .filter(|g| **g)
    .count();
    if given == 0 {
        miss(
            "target",
            "missing: the restore point (target.snapshot), a time (target.at) or a precise interval (target.from and target.to)",
            "manquant : le point de restauration (target.snapshot), une date (target.at) ou un intervalle précis (target.from et target.to)",
        );
        None
    } else if given > 1 {
        miss(
            "target",
            "give one of target.at, target.from/target.to or target.snapshot",
            "donner une seule cible : target.at, target.from/target.to ou target.snapshot",
        );
        None
    } else if let Some(s) = text(&t.snapshot) {
        Some(Target::Snapshot {
            snapshot: s.to_string(),
        })
    } else if t.at.is_some() {
        time("target.at", &t.at, DayEdge::End, miss).map(|at| Target::At { at })
    } else {
        let from = time("target.from", &t.from, DayEdge::Start, miss);
        let to = time("target.to", &t.to, DayEdge::End, miss);
        if t.from.is_none() || t.to.is_none() {
            miss(
                "target",
                "an interval needs both target.from and target.to",
                "un intervalle demande target.from et target.to",
            );
        }
        match (from, to) {
            (Some(from), Some(to)) if from <= to => Some(Target::Between { from, to }),
            (Some(_), Some(_)) => {
                miss(
                    "target.to",
                    "the interval ends before it starts",
                    "l'intervalle finit avant de commencer",
                );
                None
            }
            _ => None,
        }
    }
}

fn context_kind(c: &ContextDraft, miss: &mut dyn FnMut(&str, &str, &str)) -> Option<ContextKind> {
    match text(&c.kind).map(|k| k.to_ascii_lowercase()) {
        None => {
            miss(
                "context.kind",
                "missing: incident, faulty-import, change or other",
                "manquant : incident, faulty-import (import erroné), change (changement) ou other",
            );
            None
        }
        Some(k) => match k.as_str() {
            "incident" => Some(ContextKind::Incident),
            "faulty-import" | "import" => Some(ContextKind::FaultyImport),
            "change" | "changement" => Some(ContextKind::Change),
            "other" | "autre" => Some(ContextKind::Other),
            _ => {
                miss(
                    "context.kind",
                    "unknown: incident, faulty-import, change or other",
                    "inconnu : incident, faulty-import, change ou other",
                );
                None
            }
        },
    }
}

fn urgency(draft: &Draft, miss: &mut dyn FnMut(&str, &str, &str)) -> Option<Urgency> {
    match text(&draft.urgency).map(|u| u.to_ascii_lowercase()) {
        None => {
            miss(
                "urgency",
                "missing: low, normal, high or critical",
                "manquant : low, normal, high ou critical (faible, normale, haute, critique)",
            );
            None
        }
        Some(u) => match u.as_str() {
            "low" | "faible" => Some(Urgency::Low),
            "normal" | "normale" => Some(Urgency::Normal),
            "high" | "haute" => Some(Urgency::High),
            "critical" | "critique" => Some(Urgency::Critical),
            _ => {
                miss(
                    "urgency",
                    "unknown: low, normal, high or critical",
                    "inconnue : low, normal, high ou critical",
                );
                None
            }
        },
    }
}

/// `Some(None)` when no interruption is approved, `Some(Some(window))` when one is.
fn downtime(
    d: &DowntimeDraft,
    tz: &TimeZone,
    miss: &mut dyn FnMut(&str, &str, &str),
) -> Option<Option<Window>> {
    match d.approved {
        None => {
            miss(
                "downtime.approved",
                "missing: whether an interruption is approved (true or false)",
                "manquant : si une interruption est acceptée (true ou false)",
            );
            None
        }
        Some(false) => Some(None),
        Some(true) => match text(&d.window) {
            None => {
                miss(
                    "downtime.window",
                    "missing: the approved window, FROM/TO",
                    "manquant : la fenêtre acceptée, DÉBUT/FIN",
                );
                None
            }
            Some(w) => {
                let parts: Vec<&str> = w.split('/').collect();
                let times: Vec<Option<Timestamp>> = parts
                    .iter()
                    .zip([DayEdge::Start, DayEdge::End])
                    .map(|(p, day)| parse_time(p, tz, day))
                    .collect();
                match times.as_slice() {
                    [Some(from), Some(to)] if from < to => Some(Some(Window {
                        from: *from,
                        to: *to,
                    })),
                    _ => {
                        miss(
                            "downtime.window",
                            &format!("`{w}` is not a window: FROM/TO, FROM before TO"),
                            &format!("`{w}` n'est pas une fenêtre : DÉBUT/FIN, DÉBUT avant FIN"),
                        );
                        None
                    }
                }
            }
        },
    }
}

/// One data set a request covers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Item {
    pub asset: String,
    pub dataset: String,
}

/// Resolves a request's scope against the inventory: the data sets it covers, or what
/// in it names nothing (unknown asset, data set, site, category, another environment).
pub fn resolve(inv: &Inventory, request: &Request) -> Result<Vec<Item>, Vec<String>> {
    let l = request.lang;
    let mut errors = Vec::new();
    let mut chosen: BTreeSet<Item> = BTreeSet::new();
    let all_sets = |a: &crate::Asset| {
        a.datasets
            .iter()
            .map(|d| Item {
                asset: a.id.to_string(),
                dataset: d.name.clone(),
            })
            .collect::<Vec<_>>()
    };
    for id in &request.scope.assets {
        match inv.asset(id) {
            Some(a) if a.datasets.is_empty() => errors.push(words(
                l,
                &format!("asset `{id}` has no data set: nothing of it is backed up"),
                &format!("l'équipement `{id}` n'a aucun jeu de données : rien n'en est sauvegardé"),
            )),
            Some(a) => chosen.extend(all_sets(a)),
            None => errors.push(words(
                l,
                &format!("no asset `{id}`"),
                &format!("aucun équipement `{id}`"),
            )),
        }
    }
    for pair in &request.scope.datasets {
        let (asset, set) = pair.split_once('/').unwrap_or((pair.as_str(), ""));
        match inv.asset(asset) {
            Some(a) if a.datasets.iter().any(|d| d.name == set) => {
                chosen.insert(Item {
                    asset: asset.to_string(),
                    dataset: set.to_string(),
                });
            }
            Some(a) => errors.push(words(
                l,
                &format!(
                    "asset `{asset}` has no data set `{set}` (it has: {})",
                    a.datasets
                        .iter()
                        .map(|d| d.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                &format!(
                    "l'équipement `{asset}` n'a pas de jeu de données `{set}` (il a : {})",
                    a.datasets
                        .iter()
                        .map(|d| d.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
            None => errors.push(words(
                l,
                &format!("no asset `{asset}` (in `{pair}`; write ASSET/DATASET)"),
                &format!("aucun équipement `{asset}` (dans `{pair}` ; écrire ÉQUIPEMENT/JEU)"),
            )),
        }
    }
    for site in &request.scope.sites {
        if inv.site(site).is_none() {
            errors.push(words(
                l,
                &format!("no site `{site}`"),
                &format!("aucun site `{site}`"),
            ));
            continue;
        }
        for a in inv.assets.iter().filter(|a| a.site.as_str() == site) {
            if a.environment() == request.environment {
                chosen.extend(all_sets(a));
            }
        }
    }
    let cats = &request.scope.categories;
    for cat in cats {
        let known = inv
            .assets
            .iter()
            .flat_map(|a| &a.datasets)
            .any(|d| d.category.as_deref() == Some(cat.as_str()));
        if !known {
            errors.push(words(
                l,
                &format!("no data set has the category `{cat}`"),
                &format!("aucun jeu de données n'a la catégorie `{cat}`"),
            ));
        }
    }
    if !cats.is_empty() {
        let in_category = |item: &Item| {
            inv.asset(&item.asset)
                .and_then(|a| a.datasets.iter().find(|d| d.name == item.dataset))
                .and_then(|d| d.category.as_ref())
                .is_some_and(|c| cats.contains(c))
        };
        if chosen.is_empty() {
            for a in inv
                .assets
                .iter()
                .filter(|a| a.environment() == request.environment)
            {
                chosen.extend(all_sets(a).into_iter().filter(|i| in_category(i)));
            }
        } else {
            chosen.retain(|i| in_category(i));
        }
    }
    for item in &chosen {
        if let Some(a) = inv.asset(&item.asset)
            && a.environment() != request.environment
        {
            errors.push(words(
                l,
                &format!(
                    "asset `{}` is in the environment `{}`, not `{}`",
                    a.id,
                    a.environment(),
                    request.environment
                ),
                &format!(
                    "l'équipement `{}` est dans l'environnement `{}`, pas `{}`",
                    a.id,
                    a.environment(),
                    request.environment
                ),
            ));
        }
    }
    if errors.is_empty() && chosen.is_empty() {
        errors.push(words(
            l,
            "the scope covers no data set",
            "le périmètre ne couvre aucun jeu de données",
        ));
    }
    if errors.is_empty() {
        Ok(chosen.into_iter().collect())
    } else {
        errors.dedup();
        Err(errors)
    }
}

/// How far back restore points are kept under these rules: the maximum age when there is
/// one, otherwise the longest span a rule reaches. `None` when some rule keeps points
/// without a bound in time (`keep_last`).
pub fn retention_window(r: &Retention) -> Option<Interval> {
    if let Some(max) = r.max_age {
        return Some(max);
    }
    if r.keep_last.is_some() {
        return None;
    }
    let spans = [
        r.keep_within.map(|i| i.as_secs()),
        r.keep_hourly.map(|n| u64::from(n) * 3600),
        r.keep_daily.map(|n| u64::from(n) * 86_400),
        r.keep_weekly.map(|n| u64::from(n) * 7 * 86_400),
        r.keep_monthly.map(|n| u64::from(n) * 31 * 86_400),
        r.keep_yearly.map(|n| u64::from(n) * 366 * 86_400),
    ];
    spans.into_iter().flatten().max().map(Interval::from_secs)
}

/// A restore point as feasibility sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub snapshot: String,
    pub repository: String,
    pub time: Timestamp,
    /// When it was last proven intact.
    pub verified: Option<Timestamp>,
    /// When a verification last found it damaged.
    pub failed: Option<Timestamp>,
    /// Why its backup looks like an attack (or follows one that does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspect: Option<String>,
}

impl Candidate {
    /// Proven intact, and not suspect.
    pub fn proven(&self) -> bool {
        self.verified.is_some() && self.failed.is_none() && self.suspect.is_none()
    }
}

/// Why a data set cannot be restored as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// A proven restore point matches.
    Ok,
    /// Nothing of this data set was ever backed up.
    NeverBackedUp,
    /// The target lies beyond the retention window, or before the oldest point kept.
    Expired,
    /// No restore point lies inside the asked interval.
    NotInInterval,
    /// The target lies inside retention, but before the first backup that still exists.
    BeforeFirst,
    /// The named restore point does not exist for this data set.
    UnknownPoint,
    /// Points match, but none was ever proven intact (or the match was found damaged).
    OnlyUnverified,
    /// The only points that match are suspect: their backup looks like an attack, or
    /// follows one that does.
    OnlySuspect,
}

impl Verdict {
    pub fn explain(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Self::Ok, Lang::En) => "a verified restore point matches",
            (Self::Ok, Lang::Fr) => "un point de restauration vérifié correspond",
            (Self::NeverBackedUp, Lang::En) => "never backed up",
            (Self::NeverBackedUp, Lang::Fr) => "jamais sauvegardé",
            (Self::Expired, Lang::En) => "expired: the target is older than what retention keeps",
            (Self::Expired, Lang::Fr) => {
                "expiré : la cible est plus ancienne que ce que la rétention conserve"
            }
            (Self::NotInInterval, Lang::En) => "no restore point inside the interval",
            (Self::NotInInterval, Lang::Fr) => "aucun point de restauration dans l'intervalle",
            (Self::BeforeFirst, Lang::En) => {
                "no restore point that old: the oldest kept is newer than the target"
            }
            (Self::BeforeFirst, Lang::Fr) => {
                "aucun point aussi ancien : le plus ancien conservé est postérieur à la cible"
            }
            (Self::UnknownPoint, Lang::En) => "no such restore point for this data set",
            (Self::UnknownPoint, Lang::Fr) => {
                "ce point de restauration n'existe pas pour ce jeu de données"
            }
            (Self::OnlyUnverified, Lang::En) => {
                "only unverified restore points match (run `reprise verify --read-data`)"
            }
            (Self::OnlyUnverified, Lang::Fr) => {
                "seuls des points non vérifiés correspondent (lancer `reprise verify --read-data`)"
            }
            (Self::OnlySuspect, Lang::En) => {
                "only suspect restore points match: their backup looks like an attack or follows one (`reprise snapshots suspect`)"
            }
            (Self::OnlySuspect, Lang::Fr) => {
                "seuls des points suspects correspondent : leur sauvegarde ressemble à une attaque ou en suit une (`reprise snapshots suspect`)"
            }
        }
    }
}

/// Feasibility of one data set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemFeasibility {
    pub asset: String,
    pub dataset: String,
    pub verdict: Verdict,
    /// The point that would be restored (a proven one when `verdict` is `Ok`).
    pub chosen: Option<Candidate>,
    /// How many restore points match the target.
    pub matching: usize,
    /// When the target cannot be met: the nearest proven points before and after it (or
    /// the nearest points at all when none is proven).
    pub alternatives: Vec<Candidate>,
    /// The oldest time retention guarantees, when it is bounded.
    pub window_start: Option<Timestamp>,
}

/// Judges one data set: `points` are its restore points (any order, any repository).
pub fn assess(
    item: &Item,
    target: &Target,
    points: &[Candidate],
    retention: Option<Interval>,
    now: Timestamp,
) -> ItemFeasibility {
    let window_start = retention.and_then(|w| {
        now.checked_sub(jiff::SignedDuration::from_secs(w.as_secs() as i64))
            .ok()
    });
    let matching: Vec<&Candidate> = match target {
        Target::Snapshot { snapshot } => points
            .iter()
            .filter(|p| p.snapshot.starts_with(snapshot.as_str()))
            .collect(),
        Target::At { at } => {
            // Every copy of the newest point at or before the time: the newest clean one,
            // when points after it are suspect.
            let before: Vec<&Candidate> = points.iter().filter(|p| p.time <= *at).collect();
            let clean = before.iter().any(|p| p.suspect.is_none());
            let newest = before
                .iter()
                .filter(|p| !clean || p.suspect.is_none())
                .map(|p| p.time)
                .max();
            points.iter().filter(|p| Some(p.time) == newest).collect()
        }
        Target::Between { from, to } => points
            .iter()
            .filter(|p| p.time >= *from && p.time <= *to)
            .collect(),
    };
    let proven = matching
        .iter()
        .filter(|p| p.proven())
        .max_by(|a, b| a.time.cmp(&b.time).then(b.repository.cmp(&a.repository)))
        .cloned()
        .cloned();
    let verdict = if points.is_empty() {
        Verdict::NeverBackedUp
    } else if proven.is_some() {
        Verdict::Ok
    } else if !matching.is_empty() && matching.iter().all(|p| p.suspect.is_some()) {
        Verdict::OnlySuspect
    } else if !matching.is_empty() {
        Verdict::OnlyUnverified
    } else {
        match target {
            Target::Snapshot { .. } => Verdict::UnknownPoint,
            Target::At { at } => {
                if window_start.is_some_and(|w| *at < w) {
                    Verdict::Expired
                } else {
                    Verdict::BeforeFirst
                }
            }
            Target::Between { to, .. } => {
                if window_start.is_some_and(|w| *to < w) || points.iter().all(|p| p.time > *to) {
                    Verdict::Expired
                } else {
                    Verdict::NotInInterval
                }
            }
        }
    };
    let chosen = proven.or_else(|| matching.iter().max_by_key(|p| p.time).map(|p| (*p).clone()));
    let alternatives = if verdict == Verdict::Ok {
        vec![]
    } else {
        let pivot = match target {
            Target::At { at } => *at,
            Target::Between { from, to } => {
                let half = to.duration_since(*from) / 2;
                from.checked_add(half).unwrap_or(*from)
            }
            Target::Snapshot { .. } => now,
        };
        nearest(points, pivot)
    };
    ItemFeasibility {
        asset: item.asset.clone(),
        dataset: item.dataset.clone(),
        verdict,
        chosen,
        matching: matching.len(),
        alternatives,
        window_start,
    }
}

/// The nearest points before and after `pivot`: proven ones when there are any.
fn nearest(points: &[Candidate], pivot: Timestamp) -> Vec<Candidate> {
    let any_proven = points.iter().any(Candidate::proven);
    let pool: Vec<&Candidate> = points
        .iter()
        .filter(|p| !any_proven || p.proven())
        .collect();
    let before = pool
        .iter()
        .filter(|p| p.time <= pivot)
        .max_by_key(|p| p.time);
    let after = pool
        .iter()
        .filter(|p| p.time > pivot)
        .min_by_key(|p| p.time);
    before
        .into_iter()
        .chain(after)
        .map(|p| (*p).clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz() -> TimeZone {
        TimeZone::UTC
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn complete() -> Draft {
        Draft {
            requester: Some("Claire Martin, comptabilité".into()),
            lang: Some("fr".into()),
            environment: Some("production".into()),
            scope: Some(ScopeDraft {
                assets: vec!["erp".into()],
                ..Default::default()
            }),
            target: Some(TargetDraft {
                at: Some("2026-11-20 18:00".into()),
                ..Default::default()
            }),
            context: Some(ContextDraft {
                kind: Some("faulty-import".into()),
                description: Some("l'import du 21 a écrasé les fiches".into()),
                incident: None,
            }),
            urgency: Some("haute".into()),
            impact: Some("facturation bloquée".into()),
            downtime: Some(DowntimeDraft {
                approved: Some(true),
                window: Some("2026-11-24 20:00/2026-11-24 22:00".into()),
            }),
            destination: None,
        }
    }

    #[test]
    fn a_complete_draft_is_a_request() {
        let r = validate(&complete(), &tz()).unwrap();
        assert_eq!(r.lang, Lang::Fr);
        assert_eq!(r.urgency, Urgency::High);
        assert_eq!(r.context.kind, ContextKind::FaultyImport);
        assert_eq!(
            r.target,
            Target::At {
                at: ts("2026-11-20T18:00:00Z")
            }
        );
        assert_eq!(r.window.unwrap().from, ts("2026-11-24T20:00:00Z"));
    }

    #[test]
    fn everything_missing_is_named_in_the_requesters_language() {
        let draft = Draft {
            lang: Some("fr".into()),
            ..Default::default()
        };
        let missing = validate(&draft, &tz()).unwrap_err();
        let fields: Vec<&str> = missing.iter().map(|m| m.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "requester",
                "environment",
                "scope",
                "target",
                "context.kind",
                "context.description",
                "urgency",
                "impact",
                "downtime.approved"
            ]
        );
        assert!(missing[0].message.starts_with("manquant"));
        let en = validate(&Draft::default(), &tz()).unwrap_err();
        assert!(en[0].message.starts_with("missing"));
    }

    #[test]
    fn wrong_values_are_named_too() {
        let mut d = complete();
        d.environment = Some("prod".into());
        d.downtime = Some(DowntimeDraft {
            approved: Some(true),
            window: None,
        });
        d.target = Some(TargetDraft {
            from: Some("2026-11-21".into()),
            to: Some("2026-11-20".into()),
            ..Default::default()
        });
        let fields: Vec<String> = validate(&d, &tz())
            .unwrap_err()
            .into_iter()
            .map(|m| m.field)
            .collect();
        assert_eq!(fields, ["environment", "target.to", "downtime.window"]);
    }

    fn point(snap: &str, time: &str, verified: bool) -> Candidate {
        Candidate {
            snapshot: snap.into(),
            repository: "local".into(),
            time: ts(time),
            verified: verified.then(|| ts(time)),
            failed: None,
            suspect: None,
        }
    }

    fn item() -> Item {
        Item {
            asset: "erp".into(),
            dataset: "db".into(),
        }
    }

    #[test]
    fn the_newest_proven_point_before_the_time_is_chosen() {
        let points = [
            point("a", "2026-11-18T02:00:00Z", true),
            point("b", "2026-11-19T02:00:00Z", true),
            point("c", "2026-11-21T02:00:00Z", true),
        ];
        let at = Target::At {
            at: ts("2026-11-20T18:00:00Z"),
        };
        let f = assess(
            &item(),
            &at,
            &points,
            Some(Interval::from_days(14)),
            ts("2026-11-23T00:00:00Z"),
        );
        assert_eq!(f.verdict, Verdict::Ok);
        assert_eq!(f.chosen.unwrap().snapshot, "b");
    }

    #[test]
    fn a_target_beyond_retention_is_expired_with_the_oldest_kept_as_alternative() {
        let points = [
            point("a", "2026-11-10T02:00:00Z", true),
            point("b", "2026-11-11T02:00:00Z", false),
        ];
        let at = Target::At {
            at: ts("2026-10-01T00:00:00Z"),
        };
        let f = assess(
            &item(),
            &at,
            &points,
            Some(Interval::from_days(14)),
            ts("2026-11-23T00:00:00Z"),
        );
        assert_eq!(f.verdict, Verdict::Expired);
        assert_eq!(f.alternatives.len(), 1);
        assert_eq!(f.alternatives[0].snapshot, "a");
        assert_eq!(f.window_start, Some(ts("2026-11-09T00:00:00Z")));
    }

    #[test]
    fn unverified_matches_and_empty_intervals_offer_the_nearest_proven_points() {
        let points = [
            point("a", "2026-11-18T02:00:00Z", true),
            point("b", "2026-11-19T02:00:00Z", false),
            point("c", "2026-11-21T02:00:00Z", true),
        ];
        let now = ts("2026-11-23T00:00:00Z");
        let at = Target::At {
            at: ts("2026-11-19T12:00:00Z"),
        };
        let f = assess(&item(), &at, &points, None, now);
        assert_eq!(f.verdict, Verdict::OnlyUnverified);
        let alt: Vec<&str> = f.alternatives.iter().map(|c| c.snapshot.as_str()).collect();
        assert_eq!(alt, ["a", "c"]);
        let between = Target::Between {
            from: ts("2026-11-20T00:00:00Z"),
            to: ts("2026-11-20T23:00:00Z"),
        };
        assert_eq!(
            assess(&item(), &between, &points, None, now).verdict,
            Verdict::NotInInterval
        );
        assert_eq!(
            assess(&item(), &between, &[], None, now).verdict,
            Verdict::NeverBackedUp
        );
    }

    #[test]
    fn the_retention_window_follows_the_rules() {
        assert_eq!(
            retention_window(&Retention::seed_default()),
            Some(Interval::from_days(14))
        );
        let weekly = Retention {
            keep_daily: Some(7),
            keep_weekly: Some(4),
            ..Default::default()
        };
        assert_eq!(retention_window(&weekly), Some(Interval::from_days(28)));
    }
}
