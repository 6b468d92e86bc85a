//! Incidents: from the first alert to the signed return-to-service report and the
//! review (R001.1, R001.2, R000.1, R000.5, R000.6, R000.7, R004.4, R004.6).
//!
//! An incident moves through the five phases of R001.1 and is then closed; every
//! transition is timestamped by the caller. What it knows (roles, affected assets, the
//! damage assessment, the approved plan and the progress of its steps, checks, updates,
//! sign-off and review) is one [`IncidentDoc`], stored whole by the catalog. The rules
//! over time — when the assessment is due, when the next update is, the GDPR deadline,
//! when the review is due — take `now` as a parameter.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::AssetState;

/// The phases of R001.1, then closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Detection,
    Assessment,
    Containment,
    Recovery,
    Review,
    Closed,
}

impl Phase {
    pub const ALL: [Phase; 6] = [
        Phase::Detection,
        Phase::Assessment,
        Phase::Containment,
        Phase::Recovery,
        Phase::Review,
        Phase::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Detection => "detection",
            Phase::Assessment => "assessment",
            Phase::Containment => "containment",
            Phase::Recovery => "recovery",
            Phase::Review => "review",
            Phase::Closed => "closed",
        }
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            Phase::Detection => "détection",
            Phase::Assessment => "évaluation",
            Phase::Containment => "confinement",
            Phase::Recovery => "récupération",
            Phase::Review => "examen post-incident",
            Phase::Closed => "clos",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        let w = crate::normalize_word(word);
        Phase::ALL.into_iter().find(|p| {
            w == p.as_str()
                || w == crate::normalize_word(p.label_fr())
                || (w == "post incident review" && *p == Phase::Review)
                || (w == "evaluation" && *p == Phase::Assessment)
        })
    }
}

/// SEV1 (most severe) to SEV4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Severity {
    #[serde(rename = "SEV1")]
    Sev1,
    #[serde(rename = "SEV2")]
    Sev2,
    #[serde(rename = "SEV3")]
    Sev3,
    #[serde(rename = "SEV4")]
    Sev4,
}

impl Severity {
    pub fn parse(word: &str) -> Option<Self> {
        match word.trim().to_ascii_lowercase().trim_start_matches("sev") {
            "1" => Some(Severity::Sev1),
            "2" => Some(Severity::Sev2),
            "3" => Some(Severity::Sev3),
            "4" => Some(Severity::Sev4),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Sev1 => "SEV1",
            Severity::Sev2 => "SEV2",
            Severity::Sev3 => "SEV3",
            Severity::Sev4 => "SEV4",
        }
    }

    /// How often people must hear about progress (R000.6: hourly for a major incident;
    /// R004.6: every 4 hours); `None` for SEV4. `set` is the workspace's own cadence by
    /// severity (`[recovery] update_every`), which wins where it says something.
    pub fn update_every(
        self,
        set: &std::collections::BTreeMap<String, Option<crate::Interval>>,
    ) -> Option<SignedDuration> {
        if let Some(chosen) = set.get(self.as_str()) {
            return chosen.map(|i| SignedDuration::from_secs(i.as_secs() as i64));
        }
        match self {
            Severity::Sev1 => Some(SignedDuration::from_hours(1)),
            Severity::Sev2 => Some(SignedDuration::from_hours(4)),
            Severity::Sev3 => Some(SignedDuration::from_hours(24)),
            Severity::Sev4 => None,
        }
    }

    /// Who hears about it (R001.3): management for SEV1 and SEV2.
    pub fn audience(self) -> &'static [&'static str] {
        match self {
            Severity::Sev1 | Severity::Sev2 => &["team", "management", "client"],
            Severity::Sev3 => &["team", "client"],
            Severity::Sev4 => &["team"],
        }
    }
}

/// The people of R001.2 and R004.5.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roles {
    pub commander: Option<String>,
    pub primary_oncall: Option<String>,
    pub secondary_oncall: Option<String>,
    pub communications: Option<String>,
    pub technicians: Vec<String>,
}

impl Roles {
    /// Sets role `role` (`commander`, `primary`, `secondary`, `communications`,
    /// `technician`, in English or French) to `who`; false for an unknown role.
    pub fn assign(&mut self, role: &str, who: &str) -> bool {
        let Some((role, _)) = role_names(role) else {
            return false;
        };
        let name = who.to_string();
        let who = Some(name.clone());
        match role {
            "incident commander" => self.commander = who,
            "primary on call" => self.primary_oncall = who,
            "secondary on call" => self.secondary_oncall = who,
            "communications lead" => self.communications = who,
            _ => {
                if !self.technicians.contains(&name) {
                    self.technicians.push(name);
                }
            }
        }
        true
    }
}

/// A role's name in English and in French, from either; `None` for an unknown role.
pub fn role_names(role: &str) -> Option<(&'static str, &'static str)> {
    Some(match crate::normalize_word(role).as_str() {
        "commander" | "incident commander" | "commandant" | "commandant d incident" => {
            ("incident commander", "commandant d'incident")
        }
        "primary" | "primary on call" | "astreinte principale" => {
            ("primary on call", "astreinte principale")
        }
        "secondary" | "secondary on call" | "astreinte secondaire" => {
            ("secondary on call", "astreinte secondaire")
        }
        "communications" | "communication" | "communications lead" => {
            ("communications lead", "responsable de la communication")
        }
        "technician" | "technicien" => ("technician", "technicien"),
        _ => return None,
    })
}

/// An asset hit by the incident, as first reported and as assessed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    pub asset: String,
    pub state: AssetState,
    /// Hardware failure, corrupted configuration, compromised software, erased data…
    pub nature: Option<String>,
    /// Since when it is affected.
    pub since: Option<Timestamp>,
}

/// Whether a nature of damage says the asset was compromised by someone (ransomware, an
/// intrusion, malware), in English or French: restore points taken since it was affected
/// hold what the intruder left, and are not clean.
pub fn is_compromise(nature: &str) -> bool {
    const STEMS: [&str; 15] = [
        "ransom",
        "cyber",
        "rancon",
        "compromis",
        "intrusion",
        "intruder",
        "malware",
        "malveillant",
        "attack",
        "attaqu",
        "hack",
        "pirat",
        "crypto",
        "chiffre par",
        "encrypted by",
    ];
    let words = crate::normalize_word(nature);
    STEMS.iter().any(|s| {
        words.split(' ').any(|w| w.starts_with(s) || w.ends_with(s))
            || (s.contains(' ') && words.contains(s))
    })
}

/// One line of the damage assessment (R000.1, R004.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssessedAsset {
    pub asset: String,
    pub name: String,
    pub state: AssetState,
    pub nature: Option<String>,
    pub since: Option<Timestamp>,
    /// Assets that depend on it, directly or not, and are degraded with it.
    pub degraded_dependents: Vec<String>,
    /// The newest verified restore point, and how old it was when assessed.
    pub last_verified: Option<Timestamp>,
    pub data_at_risk_seconds: Option<i64>,
    /// The point predates the asset's last configuration change: changes made since
    /// must be redone by hand (R000.3).
    pub predates_change: Option<Timestamp>,
    pub rpo_seconds: Option<u64>,
    /// The first suspect backup (it looks like an attack) and why: `last_verified` is
    /// then the last clean point, the newest verified one before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspect_since: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspect_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub generated: Timestamp,
    pub assets: Vec<AssessedAsset>,
    /// Shared with the client by then (R000.1: within 2 hours).
    pub deadline: Timestamp,
    pub shared: Option<Timestamp>,
    pub notes: Vec<String>,
}

impl Assessment {
    /// Whether it was shared before its deadline; `None` while not shared and not late.
    pub fn shared_in_time(&self, now: Timestamp) -> Option<bool> {
        match self.shared {
            Some(at) => Some(at <= self.deadline),
            None if now > self.deadline => Some(false),
            None => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepStatus {
    Pending,
    Running,
    Done,
    Failed,
    Skipped,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Pending => "pending",
            StepStatus::Running => "running",
            StepStatus::Done => "done",
            StepStatus::Failed => "failed",
            StepStatus::Skipped => "skipped",
        }
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            StepStatus::Pending => "à faire",
            StepStatus::Running => "en cours",
            StepStatus::Done => "terminé",
            StepStatus::Failed => "échoué",
            StepStatus::Skipped => "ignoré",
        }
    }

    /// Finished one way or another: the plan can go on without it.
    pub fn is_settled(self) -> bool {
        matches!(self, StepStatus::Done | StepStatus::Skipped)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckResult {
    Pass,
    Fail,
    /// Accepted with a reservation to lift by a deadline (R000.5).
    Reserved,
}

impl CheckResult {
    pub fn parse(word: &str) -> Option<Self> {
        match crate::normalize_word(word).as_str() {
            "pass" | "ok" | "passed" | "conforme" => Some(CheckResult::Pass),
            "fail" | "failed" | "ko" | "non conforme" => Some(CheckResult::Fail),
            "reserved" | "reservation" | "reserve" => Some(CheckResult::Reserved),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CheckResult::Pass => "pass",
            CheckResult::Fail => "fail",
            CheckResult::Reserved => "reserved",
        }
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            CheckResult::Pass => "conforme",
            CheckResult::Fail => "non conforme",
            CheckResult::Reserved => "réserve",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub key: String,
    pub en: String,
    pub fr: String,
    pub result: Option<CheckResult>,
    pub note: Option<String>,
    /// For a reservation: by when it is lifted.
    pub deadline: Option<jiff::civil::Date>,
    pub by: Option<String>,
    pub at: Option<Timestamp>,
}

/// A restore point a step restored, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Restored {
    pub dataset: String,
    pub snapshot: String,
    pub time: Timestamp,
    pub target: String,
    pub files: u64,
}

/// A restore point chosen by the plan for a data set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedRestore {
    pub dataset: String,
    pub snapshot: String,
    pub time: Timestamp,
    pub verified: bool,
}

/// A step of the approved plan, with its progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub position: usize,
    pub asset: String,
    pub name: String,
    pub wave: usize,
    pub tier: u32,
    pub reason: String,
    pub reason_fr: String,
    /// `restore`, `manual` or `stand-in`.
    pub kind: String,
    pub datasets: Vec<String>,
    pub procedure: Option<String>,
    /// The restore points the plan chose, per data set (the newest verified ones).
    pub planned: Vec<PlannedRestore>,
    /// Assets whose steps must be settled first.
    pub after: Vec<String>,
    pub predicted_seconds: u64,
    pub rto_seconds: Option<u64>,
    pub status: StepStatus,
    pub started: Option<Timestamp>,
    pub finished: Option<Timestamp>,
    pub by: Option<String>,
    pub note: Option<String>,
    pub restored: Vec<Restored>,
    pub checks: Vec<Check>,
    /// Why the step was declared done while some of its checks were not recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forced: Option<String>,
    /// Why its restore failed, as the report says it (English, French): the engine's
    /// own words, with their paths, stay in the timeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovedPlan {
    pub approved_by: String,
    pub approved: Timestamp,
    pub minimal: bool,
    pub technicians: usize,
    pub predicted_seconds: u64,
    pub steps: Vec<StepRecord>,
}

/// A status update sent (R000.6, R004.6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Update {
    pub at: Timestamp,
    pub by: Option<String>,
    pub audience: Vec<String>,
    pub text: String,
}

/// The technician's signature of the return-to-service report (R000.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignOff {
    pub by: String,
    pub at: Timestamp,
    pub lang: String,
    /// SHA-256 of the report's text, so that anyone can check it was not altered.
    pub sha256: String,
}

/// A preventive action from the review; it lands in the risk register (R001.6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub text: String,
    pub owner: String,
    pub due: jiff::civil::Date,
    pub done: Option<Timestamp>,
}

/// The post-incident review (R000.7, R001.6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub root_cause: Option<String>,
    pub actions: Vec<Action>,
    pub held: Option<Timestamp>,
}

/// Everything an incident knows besides its id, title, severity and phase.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IncidentDoc {
    pub roles: Roles,
    pub affected: Vec<Affected>,
    /// Personal data involved: the GDPR 72-hour notification deadline applies.
    pub personal_data: bool,
    pub assessment: Option<Assessment>,
    pub plan: Option<ApprovedPlan>,
    pub updates: Vec<Update>,
    pub sign_off: Option<SignOff>,
    pub review: Option<Review>,
    /// When recovery ended (every step settled).
    pub recovered: Option<Timestamp>,
}

/// The GDPR notification deadline: 72 hours after the incident was known.
pub fn gdpr_deadline(opened: Timestamp) -> Timestamp {
    opened + SignedDuration::from_hours(72)
}

/// When the next status update is due: `every` (the severity's cadence) after the last
/// one, or the opening; `None` without a cadence and for closed incidents.
pub fn next_update_due(
    every: Option<SignedDuration>,
    phase: Phase,
    opened: Timestamp,
    updates: &[Update],
) -> Option<Timestamp> {
    if phase >= Phase::Review {
        return None;
    }
    let every = every?;
    let last = updates.iter().map(|u| u.at).max().unwrap_or(opened);
    Some(last + every)
}

/// When the review is due: `after` (10 days, R000.7) past the end of recovery.
pub fn review_due(recovered: Option<Timestamp>, after: SignedDuration) -> Option<Timestamp> {
    recovered.map(|r| r + after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compromise_is_told_from_other_damage_in_english_and_french() {
        for nature in [
            "ransomware",
            "Rançongiciel",
            "compromised software",
            "compromission du serveur",
            "intrusion",
            "malware",
            "logiciel malveillant",
            "cyberattaque",
            "hacked",
            "piratage",
            "CryptoLocker",
            "fichiers chiffrés par un attaquant",
        ] {
            assert!(is_compromise(nature), "{nature}");
        }
        for nature in [
            "power loss",
            "disk failure",
            "corrupted configuration",
            "erased data",
            "",
        ] {
            assert!(!is_compromise(nature), "{nature}");
        }
    }

    fn t(hours: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + hours * 3600).unwrap()
    }

    #[test]
    fn updates_follow_the_severity_cadence_from_the_last_one() {
        let opened = t(0);
        assert_eq!(
            next_update_due(
                Severity::Sev1.update_every(&Default::default()),
                Phase::Recovery,
                opened,
                &[]
            ),
            Some(t(1))
        );
        let sent = Update {
            at: t(3),
            by: None,
            audience: vec![],
            text: String::new(),
        };
        assert_eq!(
            next_update_due(
                Severity::Sev2.update_every(&Default::default()),
                Phase::Recovery,
                opened,
                &[sent]
            ),
            Some(t(7))
        );
        assert_eq!(
            next_update_due(
                Severity::Sev4.update_every(&Default::default()),
                Phase::Recovery,
                opened,
                &[]
            ),
            None
        );
        assert_eq!(
            next_update_due(
                Severity::Sev1.update_every(&Default::default()),
                Phase::Review,
                opened,
                &[]
            ),
            None
        );
    }

    #[test]
    fn deadlines_are_computed_from_the_times_given() {
        assert_eq!(gdpr_deadline(t(0)), t(72));
        assert_eq!(
            review_due(Some(t(10)), SignedDuration::from_hours(240)),
            Some(t(250))
        );
        let a = Assessment {
            generated: t(0),
            assets: vec![],
            deadline: t(2),
            shared: None,
            notes: vec![],
        };
        assert_eq!(a.shared_in_time(t(1)), None);
        assert_eq!(a.shared_in_time(t(3)), Some(false));
        let shared = Assessment {
            shared: Some(t(1)),
            ..a
        };
        assert_eq!(shared.shared_in_time(t(5)), Some(true));
    }

    #[test]
    fn words_in_english_and_french() {
        assert_eq!(Severity::parse("sev1"), Some(Severity::Sev1));
        assert_eq!(Severity::parse("2"), Some(Severity::Sev2));
        assert_eq!(Severity::parse("SEV5"), None);
        assert_eq!(Phase::parse("Récupération"), Some(Phase::Recovery));
        assert_eq!(Phase::parse("containment"), Some(Phase::Containment));
        assert_eq!(CheckResult::parse("réserve"), Some(CheckResult::Reserved));
        let mut roles = Roles::default();
        assert!(roles.assign("commander", "Mohamed"));
        assert!(roles.assign("Commandant d'incident", "Mohamed"));
        assert_eq!(
            role_names("astreinte principale"),
            Some(("primary on call", "astreinte principale"))
        );
        assert!(roles.assign("technicien", "Joris"));
        assert!(roles.assign("technician", "Nicolas"));
        assert!(!roles.assign("janitor", "x"));
        assert_eq!(roles.technicians, ["Joris", "Nicolas"]);
        assert!(Phase::Detection < Phase::Closed);
    }
}
