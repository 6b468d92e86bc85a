//! Every string the web UI shows, in English and French. A page takes the table of its
//! language; a key missing from it fails the render (strict templates), so no page is
//! ever half translated.

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// `(key, English, French)`.
const STRINGS: &[(&str, &str, &str)] = &[
    ("skip", "Skip to the content", "Aller au contenu"),
    // Before a list or a value: no space in English, a (thin) space in French.
    ("colon", ":", "\u{a0}:"),
    ("outcome", "Outcome:", "Issue\u{a0}:"),
    ("nav", "Main", "Principal"),
    ("dashboard", "Dashboard", "Tableau de bord"),
    ("inventory", "Inventory", "Inventaire"),
    ("incidents", "Incidents", "Incidents"),
    ("switch_language", "Français", "English"),
    ("sign_in", "Sign in", "Se connecter"),
    ("sign_out", "Sign out", "Se déconnecter"),
    ("account", "Account", "Compte"),
    ("password", "Password", "Mot de passe"),
    (
        "bad_credentials",
        "Unknown account or wrong password.",
        "Compte inconnu ou mot de passe erroné.",
    ),
    (
        "locked",
        "Too many failed sign-ins: try again later.",
        "Trop d'échecs de connexion : réessayez plus tard.",
    ),
    (
        "bad_form",
        "This form expired: try again.",
        "Ce formulaire a expiré : recommencez.",
    ),
    (
        "forbidden",
        "Your role does not allow this.",
        "Votre rôle ne le permet pas.",
    ),
    ("not_found", "Not found.", "Introuvable."),
    (
        "stale",
        "Someone changed this meanwhile: reload the page to see their change, then try again.",
        "Quelqu'un l'a modifié entre-temps : rechargez la page pour voir sa modification, puis recommencez.",
    ),
    (
        "refused",
        "Not done:",
        "Non effectué ; le détail, en anglais :",
    ),
    ("failed_jobs", "failed backups", "sauvegardes en échec"),
    ("missed_jobs", "missed backups", "sauvegardes manquées"),
    ("open_alerts", "open alerts", "alertes ouvertes"),
    ("open_incidents", "open incidents", "incidents ouverts"),
    (
        "drills_due",
        "restore tests due",
        "tests de restauration dus",
    ),
    (
        "drills_failed",
        "restore tests failed",
        "tests de restauration échoués",
    ),
    (
        "rule_321_broken",
        "assets without 3-2-1",
        "actifs sans 3-2-1",
    ),
    ("rpo_ok", "RPO met", "RPO tenu"),
    ("rpo_at_risk", "RPO at risk", "RPO menacé"),
    ("rpo_breached", "RPO breached", "RPO dépassé"),
    ("rpo_never", "never verified", "jamais vérifié"),
    ("rpo_no_target", "no RPO set", "pas de RPO"),
    (
        "last_verified",
        "Last verified point",
        "Dernier point vérifié",
    ),
    ("never", "never", "jamais"),
    ("live", "Refreshes by itself.", "Se met à jour tout seul."),
    ("copies", "copies", "copies"),
    ("off_site", "off site", "hors site"),
    ("yes", "yes", "oui"),
    ("no", "no", "non"),
    ("search", "Search", "Rechercher"),
    (
        "search_hint",
        "Name, id, site, category, owner",
        "Nom, identifiant, site, catégorie, responsable",
    ),
    ("sort_by", "Sort by", "Trier par"),
    ("apply", "Apply", "Appliquer"),
    ("id", "Id", "Identifiant"),
    ("name", "Name", "Nom"),
    ("site", "Site", "Site"),
    ("category", "Category", "Catégorie"),
    ("criticality", "Criticality", "Criticité"),
    ("state", "State", "État"),
    ("rpo", "RPO", "RPO"),
    ("rto", "RTO", "RTO"),
    ("status", "Status", "Statut"),
    ("owner", "Owner", "Responsable"),
    (
        "no_asset",
        "No asset matches.",
        "Aucun actif ne correspond.",
    ),
    ("assets_shown", "assets shown", "actifs affichés"),
    ("back_up_now", "Back up now", "Sauvegarder maintenant"),
    ("verify_now", "Verify now", "Vérifier maintenant"),
    (
        "backup_started",
        "Backup started: the page shows it when it is done.",
        "Sauvegarde lancée : la page l'affiche une fois terminée.",
    ),
    (
        "backup_busy",
        "A backup of this asset is already queued or running.",
        "Une sauvegarde de cet actif est déjà en attente ou en cours.",
    ),
    (
        "verify_started",
        "Verification started: restore points turn verified when it is done.",
        "Vérification lancée : les points deviennent vérifiés une fois terminée.",
    ),
    ("datasets", "Data sets", "Jeux de données"),
    ("dataset", "Data set", "Jeu de données"),
    ("what", "What", "Quoi"),
    ("restore_points", "Restore points", "Points de restauration"),
    ("taken", "Taken", "Pris le"),
    ("size", "Size", "Taille"),
    ("integrity", "Integrity", "Intégrité"),
    ("verified", "verified", "vérifié"),
    ("unverified", "unverified", "non vérifié"),
    ("damaged", "damaged", "endommagé"),
    (
        "foreign",
        "foreign: not made by Reprise, never used",
        "étranger : non créé par Reprise, jamais utilisé",
    ),
    ("repositories", "Repositories", "Dépôts"),
    ("runs", "Runs", "Exécutions"),
    ("kind", "Kind", "Type"),
    ("started", "Started", "Début"),
    ("duration", "Duration", "Durée"),
    ("error", "Error", "Erreur"),
    ("drills", "Restore tests", "Tests de restauration"),
    ("measured_rto", "Measured RTO", "RTO mesuré"),
    ("result", "Result", "Résultat"),
    ("passed", "passed", "réussi"),
    ("failed", "failed", "échoué"),
    ("dependencies", "Depends on", "Dépend de"),
    ("dependents", "Needed by", "Nécessaire à"),
    (
        "neighbourhood",
        "Dependency neighbourhood",
        "Voisinage des dépendances",
    ),
    ("nothing", "Nothing yet.", "Rien pour l'instant."),
    ("open_incident", "Open an incident", "Ouvrir un incident"),
    ("title", "Title", "Titre"),
    ("severity", "Severity", "Gravité"),
    ("phase", "Phase", "Phase"),
    ("opened", "Opened", "Ouvert le"),
    ("closed", "Closed", "Clos le"),
    ("affected", "Affected assets", "Actifs touchés"),
    (
        "affected_hint",
        "Default: the assets the inventory says are not working.",
        "Par défaut : les actifs que l'inventaire dit hors service.",
    ),
    ("no_incident", "No incident.", "Aucun incident."),
    ("open", "Open", "Ouvrir"),
    ("assessment", "Damage assessment", "Évaluation des dommages"),
    ("data_at_risk", "Data at risk", "Données menacées"),
    ("plan", "Recovery plan", "Plan de reprise"),
    ("approve_plan", "Approve the plan", "Approuver le plan"),
    ("plan_approved", "Plan approved.", "Plan approuvé."),
    ("wave", "Wave", "Vague"),
    ("step", "Step", "Étape"),
    ("predicted", "Predicted", "Prévu"),
    ("start", "Start", "Démarrer"),
    ("done", "Done", "Terminé"),
    ("fail", "Failed", "Échec"),
    ("reason", "Reason", "Motif"),
    ("step_updated", "Step updated.", "Étape mise à jour."),
    ("checklist", "Checklist", "Liste de contrôle"),
    ("check", "Check", "Contrôle"),
    ("pass", "Pass", "Conforme"),
    (
        "reserve",
        "Accept with a reservation",
        "Accepter avec réserve",
    ),
    (
        "reserved_until",
        "Reservation lifted by",
        "Réserve levée avant le",
    ),
    ("check_recorded", "Check recorded.", "Contrôle enregistré."),
    ("evolution", "Asset states", "Évolution des actifs"),
    ("timeline", "Timeline", "Chronologie"),
    ("next_update", "Next update due", "Prochain point d'étape"),
    ("send_update", "Send the update", "Envoyer le point d'étape"),
    ("update_sent", "Update sent.", "Point d'étape envoyé."),
    (
        "report",
        "Return-to-service report (PV)",
        "Procès-verbal de remise en service",
    ),
    ("sign_report", "Sign the report", "Signer le procès-verbal"),
    ("report_signed", "Report signed.", "Procès-verbal signé."),
    ("download", "Download", "Télécharger"),
    ("review", "Post-incident review", "Revue post-incident"),
    ("root_cause", "Root cause", "Cause racine"),
    ("save", "Save", "Enregistrer"),
    ("progress", "Progress", "Avancement"),
    ("when", "When", "Quand"),
    ("who", "Who", "Qui"),
    ("event", "Event", "Événement"),
    ("pending", "pending", "en attente"),
    ("running", "running", "en cours"),
    ("succeeded", "succeeded", "réussi"),
    ("waiting", "waiting", "en attente"),
    ("working", "working", "fonctionnel"),
    ("partial", "partial", "partiel"),
    ("manual", "manual", "manuel"),
    ("restore", "restore", "restauration"),
    ("steps_done", "steps done", "étapes terminées"),
    ("requests", "Restore requests", "Demandes de restauration"),
    ("requester", "Requester", "Demandeur"),
    ("created", "Created", "Créée le"),
    (
        "new_request",
        "Ask for a restore",
        "Demander une restauration",
    ),
    (
        "missing_fields",
        "The request is incomplete:",
        "La demande est incomplète :",
    ),
    (
        "feasible",
        "Feasible: every data set has a verified restore point.",
        "Faisable : chaque jeu de données a un point de restauration vérifié.",
    ),
    (
        "infeasible",
        "Not feasible as asked:",
        "Pas faisable telle quelle :",
    ),
    ("feasibility", "Feasibility", "Faisabilité"),
    ("alternatives", "alternatives", "alternatives"),
    ("environment", "Environment", "Environnement"),
    (
        "data_categories",
        "Data categories",
        "Catégories de données",
    ),
    (
        "target_at",
        "State at (date and time)",
        "État au (date et heure)",
    ),
    ("target_from", "Or between", "Ou entre"),
    ("target_to", "and", "et"),
    ("context_incident", "incident", "incident"),
    ("context_faulty-import", "faulty import", "import erroné"),
    ("context_change", "change", "changement"),
    ("context_other", "other", "autre"),
    ("description", "Description", "Description"),
    ("urgency", "Urgency", "Urgence"),
    ("urgency_low", "low", "faible"),
    ("urgency_normal", "normal", "normale"),
    ("urgency_high", "high", "haute"),
    ("impact", "Impact", "Impact"),
    ("downtime", "Interruption accepted", "Interruption acceptée"),
    ("window", "Window (from/to)", "Créneau (début/fin)"),
    ("check_request", "Check", "Vérifier"),
    ("submit_request", "Submit", "Soumettre"),
    ("note", "Note", "Note"),
    ("approve", "Approve", "Approuver"),
    ("reject", "Reject", "Refuser"),
    (
        "request_approved",
        "Request approved.",
        "Demande approuvée.",
    ),
    ("request_rejected", "Request rejected.", "Demande refusée."),
    (
        "run_drill",
        "Run a restore test now",
        "Lancer un test de restauration",
    ),
    (
        "drill_started",
        "Restore test started: it appears here when done.",
        "Test de restauration lancé : il apparaît ici une fois terminé.",
    ),
    (
        "drill_busy",
        "A restore test of this asset is already running.",
        "Un test de restauration de cet actif est déjà en cours.",
    ),
    ("readiness", "Readiness", "Préparation"),
    ("ready", "ready", "prêt"),
    ("not_ready", "not ready", "pas prêt"),
    ("alerts", "Alerts", "Alertes"),
    ("message", "Message", "Message"),
    ("severity_info", "info", "info"),
    ("severity_warning", "warning", "avertissement"),
    ("severity_critical", "critical", "critique"),
    ("no_alert", "No open alert.", "Aucune alerte ouverte."),
    ("acknowledge", "Acknowledge", "Prendre en compte"),
    ("reports", "Reports", "Rapports"),
    (
        "evidence_pack",
        "Evidence pack for auditors",
        "Dossier de preuves pour les auditeurs",
    ),
    (
        "evidence_hint",
        "ISO 27001, SOC 2 and NIST CSF controls, with a summary in English and French (HTML and PDF), in one archive.",
        "Contrôles ISO 27001, SOC 2 et NIST CSF, avec un résumé en français et en anglais (HTML et PDF), dans une archive.",
    ),
    ("period", "Period", "Période"),
    (
        "period_hint",
        "2026-Q3, 2026-11, 2026 or 2026-07-01..2026-09-30",
        "2026-Q3, 2026-11, 2026 ou 2026-07-01..2026-09-30",
    ),
    ("csv_export", "CSV export", "Export CSV"),
    ("all_sites", "All sites", "Tous les sites"),
    ("since", "From (day)", "Du (jour)"),
    ("until", "To (day, included)", "Au (jour, inclus)"),
    (
        "type_hint",
        "Type (run kind, data category, severity, state…)",
        "Type (genre d'exécution, catégorie de données, gravité, état…)",
    ),
    ("runbook", "Offline runbook", "Manuel de reprise hors ligne"),
    (
        "drill_report",
        "Restore test report",
        "Rapport des tests de restauration",
    ),
    ("backup", "backup", "sauvegarde"),
    ("copy", "copy", "copie"),
    ("verify", "verification", "vérification"),
    ("retention", "retention", "rétention"),
    ("drill", "restore test", "test de restauration"),
    ("export", "export", "export"),
    ("self-backup", "self-backup", "sauvegarde de Reprise"),
    ("interrupted", "interrupted", "interrompu"),
    (
        "preventive_action",
        "Preventive action",
        "Action préventive",
    ),
    ("due", "Due", "Échéance"),
    ("close_incident", "Close the incident", "Clore l'incident"),
    ("review_saved", "Review saved.", "Revue enregistrée."),
    (
        "assessment_saved",
        "Assessment updated.",
        "Évaluation mise à jour.",
    ),
    (
        "edit_assessment",
        "Update the assessment",
        "Mettre à jour l'évaluation",
    ),
    ("nature", "Nature of the damage", "Nature des dommages"),
    ("unchanged", "unchanged", "inchangé"),
    (
        "shared_with_client",
        "Shared with the client now",
        "Partagée avec le client maintenant",
    ),
    ("shared", "shared", "partagée"),
    ("phase_changed", "Phase changed.", "Phase changée."),
    ("move_to_phase", "Move to phase", "Passer en phase"),
    ("roles", "Roles", "Rôles"),
    ("role", "Role", "Rôle"),
    (
        "role_commander",
        "Incident commander",
        "Commandant d'incident",
    ),
    ("role_primary", "Primary on call", "Astreinte principale"),
    (
        "role_secondary",
        "Secondary on call",
        "Astreinte secondaire",
    ),
    (
        "role_communications",
        "Communications lead",
        "Responsable de la communication",
    ),
    ("role_technician", "Technicians", "Techniciens"),
    ("assign", "Assign", "Attribuer"),
    ("role_assigned", "Role assigned.", "Rôle attribué."),
    (
        "name_needed",
        "Say who takes the role.",
        "Indiquez qui prend le rôle.",
    ),
    ("reserved_by", "lift by", "à lever avant le"),
    (
        "due_needed",
        "A preventive action needs a due date.",
        "Une action préventive a besoin d'une échéance.",
    ),
    ("acknowledged", "Acknowledged by", "Pris en compte par"),
    (
        "alert_acknowledged",
        "Alert acknowledged: it stays open until its cause is gone.",
        "Alerte prise en compte : elle reste ouverte jusqu'à ce que sa cause disparaisse.",
    ),
];

static TABLES: OnceLock<[BTreeMap<&'static str, &'static str>; 2]> = OnceLock::new();

/// The strings of `lang` (`en` or `fr`) by key.
pub fn table(lang: &str) -> &'static BTreeMap<&'static str, &'static str> {
    let tables = TABLES.get_or_init(|| {
        let en = STRINGS.iter().map(|(k, e, _)| (*k, *e)).collect();
        let fr = STRINGS.iter().map(|(k, _, f)| (*k, *f)).collect();
        [en, fr]
    });
    &tables[usize::from(lang == "fr")]
}

/// `en` or `fr` from an `Accept-Language` header (French when it comes first).
pub(crate) fn from_accept_language(header: &str) -> &'static str {
    let first = header.split(',').next().unwrap_or("").trim();
    if first.starts_with("fr") { "fr" } else { "en" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_unique_and_translated() {
        let mut seen = std::collections::HashSet::new();
        for (key, en, fr) in STRINGS {
            assert!(seen.insert(key), "`{key}` twice");
            assert!(!en.is_empty() && !fr.is_empty(), "`{key}` untranslated");
        }
        assert_eq!(table("fr")["dashboard"], "Tableau de bord");
        assert_eq!(from_accept_language("fr-FR,fr;q=0.9,en;q=0.8"), "fr");
        assert_eq!(from_accept_language("en-GB"), "en");
    }
}
