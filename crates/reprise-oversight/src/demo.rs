//! `reprise demo`: a realistic workspace a newcomer can explore in one command. It holds
//! the infrastructure of seed 004 (a power failure took the router, the mail server, the
//! VPN and Zabbix down) and a video-surveillance site as in seed 000 (cameras in high- and
//! low-risk zones, a recorder, the switches they hang on, a VMS server), each with small
//! real files as its data. Every feature extends it, so it stays the showcase.

use std::fs;
use std::path::Path;

use reprise_workspace::workspace::{self, Created, Workspace, WorkspaceError};

/// Small but real data for each asset: configuration exports, a mailbox, a dump.
const FILES: &[(&str, &str)] = &[
    (
        "hosts/srv-fichiers/partages/commercial/devis-2024-118.txt",
        "Devis n° 2024-118\nClient : Transports Martin\nMaintenance annuelle de la vidéosurveillance : 4 200,00 € HT\n",
    ),
    (
        "hosts/srv-fichiers/partages/compta/rapprochement-2024-08.csv",
        "date;libellé;débit;crédit\n2024-08-02;Loyer entrepôt;3 100,00;\n2024-08-05;Règlement Transports Martin;;4 200,00\n",
    ),
    (
        "data/router-vyos/config.boot",
        "interfaces {\n    ethernet eth0 {\n        address 192.0.2.1/24\n        description WAN\n    }\n    ethernet eth1 {\n        address 10.0.0.1/24\n        description LAN\n    }\n}\nservice {\n    ssh {\n        port 22\n    }\n}\nsystem {\n    host-name vyos-siege\n    time-zone Europe/Paris\n}\n",
    ),
    (
        "data/openvpn/server.conf",
        "port 1194\nproto udp\ndev tun\nserver 10.8.0.0 255.255.255.0\npush \"route 10.0.0.0 255.255.255.0\"\nkeepalive 10 120\npersist-key\npersist-tun\nverb 3\n",
    ),
    (
        "data/openvpn/ccd/technicien-mohamed",
        "ifconfig-push 10.8.0.10 255.255.255.0\n",
    ),
    (
        "data/zabbix/zabbix.sql",
        "-- Zabbix configuration dump\nCREATE TABLE hosts (hostid bigint PRIMARY KEY, host varchar(128));\nINSERT INTO hosts VALUES (10084, 'vyos-siege'), (10085, 'iredmail'), (10086, 'gui-storage');\nCREATE TABLE triggers (triggerid bigint PRIMARY KEY, description varchar(255));\nINSERT INTO triggers VALUES (13000, 'Interface eth0 down'), (13001, 'Disk /backup 90% full');\n",
    ),
    (
        "data/iredmail/vmail/direction/cur/1727000000.M1.siege",
        "From: mina@example.org\nTo: direction@example.org\nSubject: Point d'avancement PCRA\n\nBonjour,\nle routeur est redémarré, la messagerie suit.\n",
    ),
    (
        "data/iredmail/vmail/support/cur/1727000100.M2.siege",
        "From: joris@example.org\nTo: support@example.org\nSubject: Carte réseau Zabbix\n\nLa carte réseau de Zabbix est à remplacer.\n",
    ),
    (
        "data/iredmail/postfix/main.cf",
        "myhostname = mail.example.org\nmydomain = example.org\nvirtual_mailbox_base = /var/vmail\n",
    ),
    (
        "data/gui-storage/shares/comptabilite/bilan-2024.csv",
        "compte;libelle;montant\n401;Fournisseurs;12500.00\n411;Clients;18340.50\n",
    ),
    (
        "data/gui-storage/shares/rh/procedures.txt",
        "Procédure d'accueil des nouveaux arrivants.\n",
    ),
    // Erased by the demo (consent withdrawn): gone from every restore point afterwards.
    (
        CONSENT,
        "Consentement au traitement des données personnelles — Jeanne Dupont — 2024-03-12\n",
    ),
    (
        "data/windows-core/iis/web.config",
        "<configuration>\n  <system.webServer>\n    <defaultDocument enabled=\"true\" />\n  </system.webServer>\n</configuration>\n",
    ),
    ("data/cameras/cam-entree.json", CAMERA_EXPORT),
    (
        "data/cameras/cam-sortie-quai.json",
        "{\"model\": \"IPC-4MP\", \"resolution\": \"2688x1520\", \"fps\": 25, \"recording\": \"continuous\", \"retention_days\": 30}\n",
    ),
    (
        "data/cameras/cam-parking.json",
        "{\"model\": \"IPC-2MP\", \"resolution\": \"1920x1080\", \"fps\": 15, \"recording\": \"motion\", \"retention_days\": 15}\n",
    ),
    (
        "data/cameras/cam-couloir.json",
        "{\"model\": \"IPC-2MP\", \"resolution\": \"1920x1080\", \"fps\": 15, \"recording\": \"motion\", \"retention_days\": 15}\n",
    ),
    (
        "data/switches/sw-coeur.cfg",
        "hostname sw-coeur\nvlan 10 name cameras\nvlan 20 name supervision\ninterface range gi1/0/1-24\n switchport access vlan 10\n power inline auto\n",
    ),
    (
        "data/switches/sw-parking.cfg",
        "hostname sw-parking\nvlan 10 name cameras\ninterface range gi1/0/1-8\n switchport access vlan 10\n power inline auto\n",
    ),
    (
        "data/nvr/nvr-1.xml",
        "<nvr name=\"nvr-1\"><disk slot=\"1\" size=\"8TB\"/><disk slot=\"2\" size=\"8TB\"/><raid level=\"1\"/><channels>16</channels></nvr>\n",
    ),
    (
        "data/vms/vms.sql",
        "-- VMS database\nCREATE TABLE cameras (id text PRIMARY KEY, zone text);\nINSERT INTO cameras VALUES ('cam-entree', 'high'), ('cam-sortie-quai', 'high'), ('cam-parking', 'low'), ('cam-couloir', 'low');\nCREATE TABLE users (login text PRIMARY KEY, role text);\nINSERT INTO users VALUES ('operateur', 'viewer'), ('admin', 'admin');\n",
    ),
];

/// The demo configuration: seed 004's table and seed 000's site, as a user would write
/// them.
pub const CONFIG: &str = r#"# Reprise demo workspace: two sites from the seed documents.
#  - "siege": the infrastructure of seed 004 on 22/09/2024, after a power failure.
#  - "entrepot": a video-surveillance site as in seed 000.
# Explore it with `reprise inventory list`, `reprise inventory graph`, `reprise check`.

[workspace]
name = "Démo Reprise"
default_policy = "daily"
timezone = "Europe/Paris"

[[site]]
id = "siege"
name = "Siège — infrastructure"
address = "47 boulevard de Courcelles, 75008 Paris"
contact = "Mohamed (reprise et réseau)"

[[site]]
id = "entrepot"
name = "Entrepôt — vidéosurveillance"
address = "Zone logistique, 93200 Saint-Denis"
contact = "Mina (communication client)"

# Seed 004's roles, written down where the offline runbook carries them.
[[contact]]
name = "Mohamed"
role = "reprise et réseau (commandant d'incident)"
phone = "+33 6 00 00 00 01"

[[contact]]
name = "Joris et Nicolas"
role = "techniciens : résolution et suivi"

[[contact]]
name = "Mina et Julie"
role = "supervision et communication avec les parties prenantes"
email = "communication@example.org"

[[repository]]
id = "local"
path = "repository"
password_file = ".reprise/keys/local.key"
medium = "disk"
location = "on-site"
rotate_every = "365d"                  # R002.8: `reprise repo rotate-key local`

# The second copy of 3-2-1: a removable disk kept at another site. (A real one has its
# own key; the demo shares the local one.)
[[repository]]
id = "offsite"
path = "offsite-copy"
password_file = ".reprise/keys/local.key"
medium = "usb-disk"
location = "off-site"

[[policy]]
id = "daily"
schedule = "daily at 02:00"
repository = "local"
copy_to = ["offsite"]
keep_daily = 14
max_age = "14d"

[[policy]]
id = "every-4h"
schedule = "every 4h"
repository = "local"
copy_to = ["offsite"]
keep_last = 6
keep_daily = 14
max_age = "14d"

# R000.2: the video site's restore priorities, defined with its client. Its assets are
# judged by these first; the head office follows the defaults (R004.2). `reprise plan`
# says which rule put each asset where it is.
[[priority]]
sites = ["entrepot"]
tier = 1
label = "cameras and recorders of the entrances and exits"
label_fr = "caméras et enregistreurs des entrées et sorties"
categories = ["camera", "recorder"]
zones = ["high"]

[[priority]]
sites = ["entrepot"]
tier = 2
label = "the switches the cameras hang on"
label_fr = "les commutateurs dont dépendent les caméras"
categories = ["switch"]

[[priority]]
sites = ["entrepot"]
tier = 3
label = "video supervision"
label_fr = "supervision vidéo"
categories = ["vms"]

[[priority]]
sites = ["entrepot"]
tier = 4
label = "the other cameras"
label_fr = "les autres caméras"
categories = ["camera", "recorder"]

# R002.1, R002.3: data categories and how long their restore points may be kept. A
# policy keeping a category's data past its maximum is refused; points past it are
# purged from every repository (`reprise categories` shows what is kept, until when).
[[category]]
name = "records"
description = "courriels, visites et visiteurs"
min_retention = "7d"
max_retention = "30d"

[[category]]
name = "documents"
description = "documents et consentements"
max_retention = "5y"

[[category]]
name = "settings"
description = "paramétrage des équipements"
max_retention = "1y"

# R002.4: CSV exports of the week, every Monday, into exports/ (`reprise export list`).
[[export]]
id = "hebdo"
kinds = ["runs", "requests", "alerts", "inventory"]
schedule = "weekly on monday at 06:00"
period = "7d"
directory = "exports"

# --- Siège: seed 004 ---------------------------------------------------------------

[[asset]]
id = "router-vyos"
name = "Routeur Vyos"
site = "siege"
category = "router"
criticality = "critical"
state = "failed"
function = "network"
owner = "Mohamed"
rpo = "24h"
rto = "2h"
planned_resolution = "2024-09-22"
procedure = "Redémarrer et vérifier la configuration, tester la connectivité réseau."

[[asset.dataset]]
name = "config"
command = "cat data/router-vyos/config.boot"
filename = "config.boot"
category = "settings"
timeout = "1m"

[[asset]]
id = "openvpn"
name = "OpenVPN"
site = "siege"
category = "vpn"
criticality = "major"
state = "failed"
function = "network"
owner = "Mohamed"
rpo = "24h"
rto = "4h"
depends_on = ["router-vyos"]
planned_resolution = "2024-09-22"
procedure = "Remplacer la carte réseau, reconfigurer les interfaces VPN, valider la stabilité."

[[asset.dataset]]
name = "config"
paths = ["data/openvpn"]
category = "settings"

[[asset]]
id = "zabbix"
name = "Zabbix"
site = "siege"
category = "supervision"
criticality = "major"
state = "failed"
function = "supervision"
owner = "Joris"
rpo = "4h"
rto = "4h"
policy = "every-4h"
depends_on = ["router-vyos"]
planned_resolution = "2024-09-22"
procedure = "Diagnostiquer et remplacer la carte, reconfigurer les interfaces réseau."

[[asset.dataset]]
name = "database"
command = "cat data/zabbix/zabbix.sql"
filename = "zabbix.sql"
category = "settings"
timeout = "10m"

[[asset]]
id = "iredmail"
name = "Serveur Iredmail"
site = "siege"
category = "mail"
criticality = "major"
state = "failed"
function = "messaging"
owner = "Nicolas"
rpo = "4h"
rto = "4h"
policy = "every-4h"
depends_on = ["router-vyos"]
planned_resolution = "2024-09-22"
procedure = "Vérifier et redémarrer les services, restaurer les sauvegardes, tester la messagerie."

[[asset.dataset]]
name = "mailboxes"
paths = ["data/iredmail/vmail"]
exclude = ["*.tmp", "*.lock"]
category = "records"

[[asset.dataset]]
name = "config"
paths = ["data/iredmail/postfix"]
category = "settings"

[[asset]]
id = "gui-storage"
name = "Serveur GUI : Disques de sauvegarde et stockage"
site = "siege"
category = "storage"
criticality = "major"
state = "partial"
function = "storage"
owner = "Joris"
rpo = "24h"
rto = "8h"
depends_on = ["router-vyos"]
planned_resolution = "2024-09-22"
procedure = "Réparer/remplacer les disques, vérifier l'intégrité des données, relancer les sauvegardes."

[[asset.dataset]]
name = "shares"
paths = ["data/gui-storage/shares"]
category = "documents"

[[asset]]
id = "windows-core"
name = "Windows Server Core"
site = "siege"
category = "server"
criticality = "minor"
state = "failed"
function = "application"
owner = "Nicolas"
rpo = "24h"
rto = "24h"
depends_on = ["router-vyos"]
planned_resolution = "2024-09-22"
procedure = "Identifier la cause, redémarrer le serveur, tester la stabilité des services."

[[asset.dataset]]
name = "iis"
paths = ["data/windows-core/iis"]
category = "settings"

# A server of its own: its data leaves it only through its agent (`reprise agent`), which
# the demo enrolls and runs on this machine, standing in for the host. Its repository is
# its own: the agent reads what it writes to.
[[repository]]
id = "depot-fichiers"
path = "repository-fichiers"
password_file = ".reprise/keys/local.key"
medium = "disk"
location = "on-site"

[[policy]]
id = "agent-fichiers"
schedule = "daily at 03:00"
repository = "depot-fichiers"
copy_to = ["offsite"]
keep_daily = 14

[[asset]]
id = "srv-fichiers"
name = "Serveur de fichiers (agent)"
site = "siege"
category = "server"
criticality = "major"
function = "storage"
owner = "Joris"
rpo = "24h"
rto = "8h"
host = "srv-fichiers"
policy = "agent-fichiers"
procedure = "Restaurer les partages depuis son dernier point sain, par son agent, puis vérifier l'accès des services."

[[asset.dataset]]
name = "partages"
paths = ["@HOSTS@/srv-fichiers/partages"]
category = "documents"
drill_check = "grep -q 'Devis' commercial/devis-2024-118.txt"

# --- Entrepôt: seed 000 -------------------------------------------------------------

[[asset]]
id = "sw-coeur"
name = "Commutateur cœur (PoE)"
site = "entrepot"
category = "switch"
criticality = "critical"
function = "network"
rpo = "24h"
rto = "2h"
procedure = "Restaurer la configuration, vérifier l'alimentation PoE des caméras."

[[asset.dataset]]
name = "config"
paths = ["data/switches/sw-coeur.cfg"]
category = "settings"

[[asset]]
id = "sw-parking"
name = "Commutateur parking"
site = "entrepot"
category = "switch"
criticality = "major"
function = "network"
rpo = "24h"
rto = "4h"
depends_on = ["sw-coeur"]

[[asset.dataset]]
name = "config"
paths = ["data/switches/sw-parking.cfg"]
category = "settings"

[[asset]]
id = "nvr-1"
name = "Enregistreur NVR principal"
site = "entrepot"
category = "recorder"
criticality = "critical"
zone = "high"
function = "recording"
rpo = "24h"
rto = "2h"
depends_on = ["sw-coeur"]
procedure = "Restaurer la configuration, vérifier l'enregistrement actif et la durée de conservation."

[[asset.dataset]]
name = "config"
paths = ["data/nvr/nvr-1.xml"]
category = "settings"

[[asset]]
id = "vms"
name = "Serveur VMS (supervision vidéo)"
site = "entrepot"
category = "vms"
criticality = "major"
function = "supervision"
rpo = "24h"
rto = "4h"
depends_on = ["sw-coeur", "nvr-1", "openvpn"]
procedure = "Restaurer la base VMS, vérifier les comptes, les droits et l'accès distant via VPN."

[[asset.dataset]]
name = "database"
command = "cat data/vms/vms.sql"
filename = "vms.sql"
category = "records"

[[asset]]
id = "cam-entree"
name = "Caméra entrée principale"
site = "entrepot"
category = "camera"
criticality = "critical"
zone = "high"
location = "Entrée principale"
function = "video"
rpo = "24h"
rto = "2h"
depends_on = ["sw-coeur", "nvr-1"]

# Read from the camera itself, over HTTP with digest authentication, every 15 minutes;
# a change is backed up at once (R000.3). The demo plays the camera while it runs.
[[asset.dataset]]
name = "config"
collect = { model = "http", address = "http://127.0.0.1:18080", url = "/cgi-bin/config.cgi?action=export", user = "admin", password_secret = "cam-entree", watch = "15m" }
filename = "cam-entree.json"
category = "settings"

[[asset]]
id = "cam-sortie-quai"
name = "Caméra sortie quai"
site = "entrepot"
category = "camera"
criticality = "critical"
zone = "high"
location = "Sortie quai de chargement"
function = "video"
rpo = "24h"
rto = "2h"
depends_on = ["sw-coeur", "nvr-1"]

[[asset.dataset]]
name = "config"
paths = ["data/cameras/cam-sortie-quai.json"]
category = "settings"

[[asset]]
id = "cam-parking"
name = "Caméra parking"
site = "entrepot"
category = "camera"
criticality = "minor"
zone = "low"
location = "Parking visiteurs"
function = "video"
rpo = "24h"
rto = "24h"
depends_on = ["sw-parking", "nvr-1"]

[[asset.dataset]]
name = "config"
paths = ["data/cameras/cam-parking.json"]
category = "settings"

[[asset]]
id = "cam-couloir"
name = "Caméra couloir"
site = "entrepot"
category = "camera"
criticality = "minor"
zone = "low"
location = "Couloir bureaux"
function = "video"
rpo = "24h"
rto = "24h"
depends_on = ["sw-coeur", "nvr-1"]

[[asset.dataset]]
name = "config"
paths = ["data/cameras/cam-couloir.json"]
category = "settings"
"#;

/// Where the demo keeps the other hosts' files (the file server's shares, its agent's
/// home), inside the workspace since they stand in for another machine.
pub const HOSTS: &str = "hosts";

/// The file server the demo's agent backs up, and one of its documents.
pub const AGENT_HOST: &str = "srv-fichiers";

/// Creates the demo workspace in `dir`: configuration, keys, repository location and data.
/// The demo's consent form, erased once backed up (R002.3).
pub(crate) const CONSENT: &str = "data/gui-storage/shares/rh/consentements/dupont-jeanne.txt";

/// An erasure with proof, as the seeds' users would record it: Jeanne Dupont withdrew her
/// consent, so her form leaves the live data and every restore point of every copy.
pub async fn erasure(ctx: &reprise_ops::context::Ctx<'_>) -> reprise_ops::error::AppResult<i64> {
    let file = ctx.workspace().resolve(CONSENT);
    std::fs::remove_file(&file).map_err(|e| {
        reprise_ops::error::AppError::Failed(format!("cannot remove {}: {e}", file.display()))
    })?;
    let plan = reprise_ops::erase::plan(
        ctx,
        "gui-storage",
        &[CONSENT.to_string()],
        "retrait du consentement de Jeanne Dupont (RGPD art. 17)",
        "Mina (DPO)",
    )
    .await?;
    reprise_ops::erase::execute(ctx, plan.id, "Mohamed").await?;
    Ok(plan.id)
}

/// The storage's shares, which the demo's ransomware encrypts.
const SHARES: &str = "data/gui-storage/shares";

/// The note the demo's ransomware leaves.
pub const RANSOM_NOTE: &str = "HOW_TO_DECRYPT_FILES.txt";

/// Ransomware on the storage server: every file of its shares replaced by bytes that look
/// encrypted and renamed `….locked`, a note left; then the next backup. It is suspect: the
/// point before it is the last clean one, which restores, plans and drills take.
pub async fn ransomware(
    ctx: &reprise_ops::context::Ctx<'_>,
) -> reprise_ops::error::AppResult<Vec<reprise_ops::backup::DataSetOutcome>> {
    let failed = |e: std::io::Error| reprise_ops::error::AppError::Failed(e.to_string());
    let root = ctx.workspace().resolve(SHARES);
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).map_err(failed)? {
            let path = entry.map_err(failed)?.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    for path in files {
        let size = std::fs::metadata(&path).map_err(failed)?.len().max(4096);
        let mut bytes = vec![0u8; usize::try_from(size).unwrap_or(4096)];
        getrandom::fill(&mut bytes)
            .map_err(|e| reprise_ops::error::AppError::Failed(e.to_string()))?;
        let mut locked = path.clone().into_os_string();
        locked.push(".locked");
        std::fs::write(&locked, bytes).map_err(failed)?;
        std::fs::remove_file(&path).map_err(failed)?;
    }
    std::fs::write(
        root.join(RANSOM_NOTE),
        "Vos fichiers sont chiffrés. Pour les récupérer, écrivez à …\n",
    )
    .map_err(failed)?;
    reprise_ops::backup::run(
        ctx,
        &reprise_ops::backup::Selection {
            assets: vec!["gui-storage".into()],
            datasets: vec!["shares".into()],
            ..Default::default()
        },
    )
    .await
}

/// The entrance camera's export, as the demo's camera serves it.
pub const CAMERA_EXPORT: &str = "{\"model\": \"IPC-4MP\", \"resolution\": \"2688x1520\", \"fps\": 25, \"recording\": \"continuous\", \"retention_days\": 30, \"admin_password\": \"Entree-2024\"}\n";

/// The same camera after someone changed it: motion recording instead of continuous, and
/// a new password (which the alert masks).
pub const CAMERA_CHANGED: &str = "{\"model\": \"IPC-4MP\", \"resolution\": \"2688x1520\", \"fps\": 25, \"recording\": \"motion\", \"retention_days\": 30, \"admin_password\": \"Quai-2026!\"}\n";

/// Where the demo's camera serves its export, in the workspace.
pub const CAMERA_FILE: &str = "data/cameras/cam-entree.json";

/// Creates the demo workspace; `camera_port` is where the demo's camera listens.
pub fn create(dir: &Path, camera_port: u16) -> Result<(Workspace, Created), WorkspaceError> {
    let hosts = std::path::absolute(dir)
        .map_err(|source| WorkspaceError::Write {
            path: dir.to_path_buf(),
            source,
        })?
        .join(HOSTS);
    let config = CONFIG
        .replace("127.0.0.1:18080", &format!("127.0.0.1:{camera_port}"))
        .replace("@HOSTS@", &hosts.display().to_string());
    let (ws, created) = workspace::create(dir, &config)?;
    // The off-site copy's location too (a removable disk, mounted here for the demo).
    // And the file server's own repository, which its agent fills through the server.
    for place in ["offsite-copy", "repository-fichiers"] {
        let path = ws.root.join(place);
        fs::create_dir_all(&path).map_err(|source| WorkspaceError::Write {
            path: path.clone(),
            source,
        })?;
    }
    for (path, content) in FILES {
        let full = ws.root.join(path);
        if let Some(parent) = full.parent() {
            fs::create_dir_all(parent).map_err(|source| WorkspaceError::Write {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        fs::write(&full, content).map_err(|source| WorkspaceError::Write {
            path: full.clone(),
            source,
        })?;
    }
    Ok((ws, created))
}

/// Restore requests with real content, in French like the seeds: one completed (a
/// mailbox restored beside production, checked), one infeasible (older than retention,
/// with the alternative offered), one approved into tomorrow evening's window. Returns
/// their ids.
pub async fn requests(
    ctx: &reprise_ops::context::Ctx<'_>,
) -> reprise_ops::error::AppResult<Vec<i64>> {
    use reprise_domain::request::{ContextDraft, DowntimeDraft, Draft, ScopeDraft, TargetDraft};
    use reprise_recovery::request::{self, Submission};
    let now = jiff::Timestamp::now();
    let draft = |requester: &str,
                 dataset: &str,
                 target: TargetDraft,
                 (kind, description): (&str, &str),
                 impact: &str,
                 window: Option<String>| Draft {
        requester: Some(requester.into()),
        lang: Some("fr".into()),
        environment: Some("production".into()),
        scope: Some(ScopeDraft {
            datasets: vec![dataset.into()],
            ..Default::default()
        }),
        target: Some(target),
        context: Some(ContextDraft {
            kind: Some(kind.into()),
            description: Some(description.into()),
            incident: None,
        }),
        urgency: Some("high".into()),
        impact: Some(impact.into()),
        downtime: Some(DowntimeDraft {
            approved: Some(window.is_some()),
            window,
        }),
        destination: None,
    };
    let at = |t: jiff::Timestamp| TargetDraft {
        at: Some(t.to_string()),
        ..Default::default()
    };
    let tomorrow = now
        .to_zoned(workspace::zone(ctx.loaded.config.timezone.as_deref()))
        .date()
        .tomorrow()
        .map_err(|e| reprise_ops::error::AppError::Failed(e.to_string()))?;
    let drafts = [
        draft(
            "Nicolas (messagerie)",
            "iredmail/mailboxes",
            at(now),
            (
                "incident",
                "boîte de la direction vidée par erreur lors du redémarrage",
            ),
            "la direction ne reçoit plus ses messages",
            None,
        ),
        draft(
            "Joris (stockage)",
            "gui-storage/shares",
            at("2024-09-01T08:00:00Z".parse().expect("a valid time")),
            (
                "faulty-import",
                "dossier comptable de septembre 2024 écrasé",
            ),
            "clôture comptable retardée",
            None,
        ),
        draft(
            "Michel (infrastructure)",
            "windows-core/iis",
            at(now),
            (
                "change",
                "revenir à la configuration d'avant la mise à jour",
            ),
            "serveur instable depuis la mise à jour",
            Some(format!("{tomorrow} 20:00/{tomorrow} 22:00")),
        ),
    ];
    let mut ids = Vec::new();
    for (n, d) in drafts.iter().enumerate() {
        let view = match request::submit(ctx, d, "demo").await? {
            Submission::Recorded { view } => view,
            Submission::Refused { missing } => {
                let why: Vec<String> = missing
                    .iter()
                    .map(|m| format!("{}: {}", m.field, m.message))
                    .collect();
                return Err(reprise_ops::error::AppError::Failed(format!(
                    "a demo request was refused: {}",
                    why.join("; ")
                )));
            }
        };
        let id = view.request.row.id;
        ids.push(id);
        match n {
            0 => {
                request::approve(ctx, id, "demo", Some("accord du responsable messagerie")).await?;
                let done = request::execute(ctx, id, "demo").await?;
                for c in done.request.doc.checks.iter().filter(|c| c.ok.is_none()) {
                    request::check(ctx, id, &c.asset, &c.key, true, None, "demo").await?;
                }
            }
            2 => {
                request::approve(ctx, id, "demo", Some("fenêtre validée par le métier")).await?;
            }
            _ => {}
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_configuration_is_valid_and_holds_both_seeds() {
        let parsed = reprise_workspace::config::parse(Path::new("reprise.toml"), CONFIG);
        assert!(parsed.diagnostics.is_empty(), "{:#?}", parsed.diagnostics);
        let inv = parsed.config.unwrap().inventory;
        assert_eq!(inv.sites.len(), 2);
        assert!(inv.asset("iredmail").is_some());
        assert!(inv.asset("cam-entree").is_some());
        // The router takes the whole seed 004 infrastructure with it.
        assert_eq!(inv.impact("router-vyos").len(), 6);
    }

    #[test]
    fn every_data_set_path_exists_once_created() {
        let dir = tempfile::tempdir().unwrap();
        let (ws, _) = create(&dir.path().join("demo"), 18080).unwrap();
        let loaded = ws.load().unwrap();
        assert!(
            loaded.disk_checks().is_empty(),
            "{:#?}",
            loaded.disk_checks()
        );
    }
}
