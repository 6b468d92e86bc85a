//! Go-live readiness (R003.6): per asset the checklist of seed 003, computed from facts —
//! a policy with a schedule, retention and storage; a backup taken; a restore test passed
//! within its period; RPO/RTO approved by the business owner (and unchanged since); a
//! written restore-request procedure; logging and traceability on (the catalog records
//! every run, change and incident event). Each item is met or says what
//! blocks it; an asset is ready when every item is met, a site when all its assets are.

use jiff::{SignedDuration, Timestamp};
use reprise_catalog::{Approval, RunKind, RunStatus};
use reprise_domain::{Asset, Schedule};
use serde::Serialize;

use reprise_ops::context::Ctx;
use reprise_ops::error::{AppError, AppResult};

#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub key: &'static str,
    pub en: &'static str,
    pub fr: &'static str,
    pub met: bool,
    /// What blocks it, when it is not met.
    pub blocker: Option<String>,
    pub blocker_fr: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AssetReadiness {
    pub asset: String,
    pub name: String,
    pub site: String,
    pub ready: bool,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SiteReadiness {
    pub site: String,
    pub ready: bool,
    pub assets: usize,
    pub assets_ready: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    pub sites: Vec<SiteReadiness>,
    pub assets: Vec<AssetReadiness>,
}

fn item(
    key: &'static str,
    en: &'static str,
    fr: &'static str,
    blocker: Option<(String, String)>,
) -> Item {
    let (blocker, blocker_fr) = match blocker {
        Some((en, fr)) => (Some(en), Some(fr)),
        None => (None, None),
    };
    Item {
        key,
        en,
        fr,
        met: blocker.is_none(),
        blocker,
        blocker_fr,
    }
}

/// The readiness of every asset (of `site` when given), at `now`.
pub async fn check(ctx: &Ctx<'_>, site: Option<&str>, now: Timestamp) -> AppResult<Readiness> {
    let journal_blocker = match reprise_ops::journal::check(ctx).await {
        Ok((_, v)) => v.first_problem().map(|p| {
            (
                format!("the journal does not hold: {p} (`reprise journal verify`)"),
                format!("le journal n'est pas intact : {p} (`reprise journal verify`)"),
            )
        }),
        Err(e) => Some((
            format!("the journal cannot be checked: {e}"),
            format!("le journal ne peut être vérifié : {e}"),
        )),
    };
    let inv = ctx.inventory();
    if let Some(s) = site
        && inv.site(s).is_none()
    {
        return Err(AppError::Invalid(format!("no site `{s}`")));
    }
    let points = ctx.catalog.restore_points(None).await?;
    let drill_runs = ctx
        .catalog
        .runs(&reprise_catalog::RunFilter {
            kind: Some(RunKind::Drill),
            ..Default::default()
        })
        .await?;
    let drills = reprise_ops::status::last_runs_by_dataset(&drill_runs);
    let approvals = ctx.catalog.approvals().await?;
    let procedure = ctx
        .loaded
        .config
        .restore_procedure
        .as_ref()
        .map(|p| ctx.workspace().resolve(p));
    let mut assets = Vec::new();
    for asset in inv
        .assets
        .iter()
        .filter(|a| site.is_none_or(|s| a.site.as_str() == s))
    {
        let id = asset.id.as_str();
        let mut items = Vec::new();
        items.push(item(
            "policy",
            "backup policy defined (frequency, retention, storage)",
            "politique de sauvegarde définie (fréquence, rétention, stockage)",
            policy_blocker(ctx, asset),
        ));
        let backed_up = points.iter().any(|p| p.asset == id);
        items.push(item(
            "backup",
            "at least one backup taken",
            "au moins une sauvegarde réalisée",
            (!backed_up).then(|| {
                (
                    format!("no restore point yet (`reprise backup {id}`)"),
                    format!("aucun point de restauration (`reprise backup {id}`)"),
                )
            }),
        ));
        let every = asset
            .drill_every
            .or_else(|| inv.policy_of(asset).map(|p| p.drill_every));
        // Each data set is judged: one that passed does not cover one that failed.
        let drill_blocker = asset.datasets.iter().find_map(|set| {
            let name = set.name.as_str();
            match (drills.get(&(id, name)), every) {
                (None, _) => Some((
                    format!("no restore test of {name} yet (`reprise drill run {id}`)"),
                    format!("aucun test de restauration de {name} (`reprise drill run {id}`)"),
                )),
                (Some(r), _) if r.status != RunStatus::Succeeded => Some((
                    format!(
                        "the last restore test of {name} failed ({})",
                        r.error.as_deref().unwrap_or("no detail")
                    ),
                    format!(
                        "le dernier test de restauration de {name} a échoué ({})",
                        r.error.as_deref().unwrap_or("sans détail")
                    ),
                )),
                (Some(r), Some(every))
                    if r.started + SignedDuration::from_secs(every.as_secs() as i64) < now =>
                {
                    Some((
                        format!("the last restore test of {name} passed more than {every} ago"),
                        format!(
                            "le dernier test de restauration réussi de {name} date de plus de {every}"
                        ),
                    ))
                }
                _ => None,
            }
        });
        items.push(item(
            "drill",
            "a restore test passed within its period",
            "un test de restauration réussi dans sa période",
            drill_blocker,
        ));
        items.push(item(
            "approval",
            "RPO/RTO approved by the business owner",
            "RPO/RTO validés par la MOA",
            approval_blocker(asset, approvals.iter().find(|a| a.asset == id)),
        ));
        let procedure_blocker = match &procedure {
            Some(p) if p.exists() => None,
            Some(p) => Some((
                format!("the restore-request procedure {} does not exist", p.display()),
                format!("la procédure de demande de restauration {} n'existe pas", p.display()),
            )),
            None => Some((
                "no restore-request procedure: write one and set `restore_procedure` under [workspace]".to_string(),
                "pas de procédure de demande de restauration : rédigez-la et indiquez `restore_procedure` sous [workspace]".to_string(),
            )),
        };
        items.push(item(
            "procedure",
            "restore-request procedure written",
            "procédure de demande de restauration rédigée",
            procedure_blocker,
        ));
        // Every change of state is journaled; the journal must also be intact.
        items.push(item(
            "journal",
            "logging and traceability on (every change journaled, the journal intact)",
            "journalisation et traçabilité actives (chaque changement journalisé, journal intègre)",
            journal_blocker.clone(),
        ));
        assets.push(AssetReadiness {
            asset: id.to_string(),
            name: asset.name.clone(),
            site: asset.site.to_string(),
            ready: items.iter().all(|i| i.met),
            items,
        });
    }
    let sites = inv
        .sites
        .iter()
        .filter(|s| site.is_none_or(|x| s.id.as_str() == x))
        .map(|s| {
            let mine: Vec<&AssetReadiness> =
                assets.iter().filter(|a| a.site == s.id.as_str()).collect();
            SiteReadiness {
                site: s.id.to_string(),
                ready: !mine.is_empty() && mine.iter().all(|a| a.ready),
                assets: mine.len(),
                assets_ready: mine.iter().filter(|a| a.ready).count(),
            }
        })
        .collect();
    Ok(Readiness { sites, assets })
}

fn policy_blocker(ctx: &Ctx<'_>, asset: &Asset) -> Option<(String, String)> {
    if asset.datasets.is_empty() {
        return Some((
            "no data set to back up".into(),
            "aucun jeu de données à sauvegarder".into(),
        ));
    }
    match ctx.inventory().policy_of(asset) {
        None => Some((
            "no backup policy".into(),
            "aucune politique de sauvegarde".into(),
        )),
        Some(p) if matches!(p.schedule, Schedule::Manual) => Some((
            format!("policy `{}` only runs by hand", p.id),
            format!("la politique `{}` ne s'exécute qu'à la main", p.id),
        )),
        Some(_) => None,
    }
}

fn approval_blocker(asset: &Asset, approval: Option<&Approval>) -> Option<(String, String)> {
    let (rpo, rto) = (
        asset.rpo.map(|r| r.to_string()),
        asset.rto.map(|r| r.to_string()),
    );
    if rpo.is_none() || rto.is_none() {
        return Some(("no RPO or RTO set".into(), "RPO ou RTO non définis".into()));
    }
    let id = &asset.id;
    match approval {
        None => Some((
            format!("not approved yet (`reprise readiness approve {id} --by NAME`)"),
            format!("pas encore validés (`reprise readiness approve {id} --by NOM`)"),
        )),
        Some(a) if a.rpo != rpo || a.rto != rto => Some((
            format!(
                "the targets changed since {} approved RPO {} / RTO {}",
                a.by,
                a.rpo.as_deref().unwrap_or("—"),
                a.rto.as_deref().unwrap_or("—")
            ),
            format!(
                "les objectifs ont changé depuis la validation de {} (RPO {} / RTO {})",
                a.by,
                a.rpo.as_deref().unwrap_or("—"),
                a.rto.as_deref().unwrap_or("—")
            ),
        )),
        Some(_) => None,
    }
}

/// Records that `by` (the business owner) approved the asset's current RPO and RTO.
pub async fn approve(ctx: &Ctx<'_>, asset: &str, by: &str, now: Timestamp) -> AppResult<Approval> {
    let a = ctx.asset(asset)?;
    if by.trim().is_empty() {
        return Err(AppError::Invalid("say who approves (--by NAME)".into()));
    }
    let (Some(rpo), Some(rto)) = (a.rpo, a.rto) else {
        return Err(AppError::Invalid(format!(
            "asset `{asset}` has no RPO or RTO to approve: set `rpo` and `rto` first"
        )));
    };
    let approval = Approval {
        asset: a.id.to_string(),
        rpo: Some(rpo.to_string()),
        rto: Some(rto.to_string()),
        by: by.trim().to_string(),
        at: now,
    };
    ctx.catalog.record_approval(&approval).await?;
    Ok(approval)
}
