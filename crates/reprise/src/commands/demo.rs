//! `reprise demo [DIR]`.

use std::path::PathBuf;

use jiff::Timestamp;
use reprise_oversight::demo;
use reprise_workspace::workspace;

use crate::cli::Global;
use crate::exit;

/// The demo camera's account (the demo keeps its password in the secret store).
const CAMERA_USER: &str = "admin";
const CAMERA_PASSWORD: &str = "demo-camera-pass";

pub async fn run(global: &Global, dir: PathBuf) -> anyhow::Result<u8> {
    // The entrance camera, played on loopback while the demo runs: it serves the export
    // file of the workspace, behind digest authentication, as IP cameras do.
    let export = std::path::absolute(dir.join(demo::CAMERA_FILE))?;
    let camera =
        reprise_oversight::camera::Camera::start(export.clone(), CAMERA_USER, CAMERA_PASSWORD)?;
    let (ws, created) = demo::create(&dir, camera.port)?;
    reprise_ops::secrets::set(&ws, "cam-entree", CAMERA_PASSWORD, Timestamp::now())?;
    let loaded = std::sync::Arc::new(ws.load()?);
    let location = ws.catalog_location(Some(&loaded.config), global.catalog.as_deref());
    let catalog = crate::catalog::open_journaled(&ws, &location, "demo").await?;
    workspace::record_inventory(&*catalog, &loaded.config.inventory, Timestamp::now()).await?;
    for repo in &loaded.config.inventory.repositories {
        reprise_ops::repos::init(&ws, repo).await?;
    }
    // A first backup of everything, then a full verification, so restore points, their
    // integrity and the RPO status have real content from the first command on.
    let ctx = reprise_ops::context::Ctx {
        loaded: loaded.clone(),
        catalog: &*catalog,
        progress: crate::progress::for_terminal(),
    };
    let outcomes = reprise_ops::backup::run(
        &ctx,
        &reprise_ops::backup::Selection {
            all: true,
            ..Default::default()
        },
    )
    .await?;
    // The file server is another machine: its agent, enrolled with a one-time code,
    // backs it up through the server, and restores and drills it there.
    let agent = DemoAgent::start(&ctx, &location).await?;
    let agent_job = agent.back_up(&ctx).await?;
    // Someone changes the camera (motion recording, a new password): the next read sees
    // it and backs it up at once, with the change alerted, its password masked.
    std::fs::write(&export, demo::CAMERA_CHANGED)?;
    let watched = reprise_ops::watch::check(
        &ctx,
        &[reprise_ops::devices::find(
            &ctx,
            "cam-entree",
            Some("config"),
        )?],
    )
    .await?;
    // The camera goes with the demo: from now on, reading it says it is unreachable.
    drop(camera);
    let verified = reprise_ops::verify::run(&ctx, &[], reprise_ops::verify::Mode::ReadAll).await?;
    // A first restore test of everything, so drill history and measured RTOs are real.
    let drills = reprise_recovery::drill::run(
        &ctx,
        &reprise_recovery::drill::DrillOptions {
            scenario: Some("démonstration : restauration de chaque jeu de données".into()),
            ..Default::default()
        },
        "demo",
    )
    .await?;
    agent.stop().await;
    // Restore requests: one completed, one infeasible, one waiting for its window.
    let requests = reprise_oversight::demo::requests(&ctx).await?;
    // A consent withdrawn: the form is erased from every restore point, with proof.
    let erasure = reprise_oversight::demo::erasure(&ctx).await?;
    // Ransomware on the storage's shares: the next backup is suspect, the one before is
    // the last clean point.
    let attacked = reprise_oversight::demo::ransomware(&ctx).await?;
    // The week's CSV exports, as the server writes them every Monday.
    let export = reprise_oversight::export::run_configured(&ctx, "hebdo", Timestamp::now()).await?;
    // Reprise's own catalog and configuration, so that `init --from-repository` works too.
    let protected = reprise_ops::selfbackup::run(&ctx).await?;
    // The offline runbook, ready to print.
    let runbook = ws.root.join("runbook.html");
    std::fs::write(
        &runbook,
        reprise_recovery::runbook::export(&ctx, true, Timestamp::now()).await?,
    )?;
    let token = reprise_ops::tokens::first_admin(&*catalog, Timestamp::now()).await?;
    // Accounts of each role; the warehouse's contractor sees only the warehouse.
    for (name, role, scope) in [
        ("prestataire-entrepot", "operator", "site:entrepot"),
        ("auditeur", "auditor", ""),
        ("direction", "viewer", ""),
    ] {
        reprise_ops::tokens::add_user(&*catalog, name, role, scope, None, Timestamp::now()).await?;
    }
    let inv = &loaded.config.inventory;
    super::init::print_created("Created the Reprise demo", &created, &catalog.location());
    println!();
    println!(
        "It holds {} sites and {} assets: seed 004's infrastructure after a power failure",
        inv.sites.len(),
        inv.assets.len()
    );
    println!("(router, mail, VPN, Zabbix down) and seed 000's video-surveillance site.");
    println!(
        "Every data set is backed up ({} restore points) and verified ({}).",
        outcomes.iter().filter(|o| o.ok).count(),
        if verified.iter().all(|r| r.ok) {
            "intact"
        } else {
            "FAILED"
        }
    );
    println!(
        "The file server `{}` is another machine: its agent (reprise agent), enrolled with a one-time code, backed it up through the server ({}) and ran its restore test there.",
        demo::AGENT_HOST,
        agent_job.state.as_str()
    );
    if let Some(w) = watched.first() {
        println!(
            "The entrance camera was read over HTTP (digest authentication) and then changed: {} (+{} −{} lines), backed up at once.",
            if w.result == "changed" {
                "change seen"
            } else {
                w.result
            },
            w.added,
            w.removed
        );
    }
    println!(
        "Each data set was also restored into a sandbox and verified ({} of {} drills passed).",
        drills.iter().filter(|d| d.ok).count(),
        drills.len()
    );
    println!(
        "{} restore requests show the workflow: completed, infeasible (older than retention), scheduled.",
        requests.len()
    );
    println!(
        "A withdrawn consent was erased from every restore point and copy, with proof (erasure {erasure})."
    );
    if attacked.iter().any(|o| !o.suspect.is_empty()) {
        println!(
            "Then ransomware encrypted the storage's shares (files renamed .locked, a ransom note): its backup is SUSPECT, and the point before it is the last clean one."
        );
    }
    if let Some(dir) = &export.directory {
        println!("This week's CSV exports are in {}.", dir.display());
    }
    println!(
        "Reprise's own catalog and configuration are backed up too ({} of {} repositories).",
        protected.iter().filter(|o| o.ok).count(),
        protected.len()
    );
    println!(
        "The offline runbook (in French, like the seeds) is in {}.",
        runbook.display()
    );
    println!();
    println!("Look around:");
    println!("  cd {}", dir.display());
    println!("  reprise inventory list");
    println!("  reprise inventory impact router-vyos");
    println!("  reprise inventory graph --format mermaid");
    println!("  reprise snapshots iredmail");
    println!("  reprise status");
    println!("  reprise restore iredmail --target /tmp/iredmail-restored");
    println!(
        "  reprise plan --lang fr                      # the recovery order of seed 004, explained"
    );
    println!("  reprise incident open \"Coupure électrique\" --severity SEV1");
    println!("  reprise incident plan 1 --approve && reprise incident step 1 router-vyos start");
    println!("  reprise drill history                       # restore tests with measured RTO");
    println!("  reprise request list --all                  # restore requests and their states");
    println!("  reprise request report 1                    # what was restored, checks, timeline");
    println!("  reprise request template --lang fr          # a request to fill in");
    println!(
        "  reprise devices                             # routers, switches, cameras: reads and changes"
    );
    println!(
        "  reprise devices diff cam-entree             # what changed on the camera, password masked"
    );
    println!(
        "  reprise alerts                              # the suspect backup is a critical alert"
    );
    println!(
        "  reprise snapshots suspect                   # why the storage's last backup looks like an attack"
    );
    println!(
        "  reprise restore gui-storage --target /tmp/shares   # the last clean point, not the encrypted one"
    );
    println!(
        "  reprise categories                          # what each data category keeps, until when, where"
    );
    println!(
        "  reprise erase show {erasure}                        # the proof of an erasure (GDPR)"
    );
    println!("  reprise export csv runs --site entrepot --out exports/entrepot");
    println!(
        "  reprise evidence --period {}              # the auditors' pack: controls and evidence",
        Timestamp::now().strftime("%Y-%m")
    );
    println!("  reprise user list                           # accounts: roles and scopes");
    println!(
        "  reprise journal verify                      # every change and record, sealed; the head kept outside"
    );
    println!(
        "  reprise inventory set-state gui-storage défaillant --since \"2024-09-22 08:10\"   # the state of the day"
    );
    println!(
        "  reprise status                              # 3-2-1 by where copies really are: the demo's disk is a folder"
    );
    println!(
        "  reprise agent list                          # hosts backed up by their agent: last seen, last backup"
    );
    println!("  reprise check");
    println!("  reprise serve                # API, metrics, scheduler: the token is below");
    println!();
    println!("API token for `reprise serve` (shown once, stored only as a hash):");
    println!("  {token}");
    Ok(exit::SUCCESS)
}

/// The file server's agent, for the demo: a server on loopback for it to reach (the
/// routes only: the demo drives the work), the agent enrolled with a one-time code and
/// checking in beside the demo, standing in for the host.
struct DemoAgent {
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    agent: tokio::task::JoinHandle<()>,
}

impl DemoAgent {
    async fn start(
        ctx: &reprise_ops::context::Ctx<'_>,
        location: &reprise_workspace::workspace::CatalogLocation,
    ) -> anyhow::Result<Self> {
        let ws = ctx.workspace();
        let catalog = crate::catalog::open_journaled(ws, location, "demo").await?;
        let state = reprise_server::State::new(ctx.loaded.clone(), catalog);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(reprise_server::serve_requests(listener, state, async {
            let _ = stopped.await;
        }));
        let invite = reprise_agents::fleet::invite(
            ctx,
            demo::AGENT_HOST,
            reprise_domain::Interval::from_secs(600),
            Timestamp::now(),
        )
        .await?;
        let home = ws
            .root
            .join(demo::HOSTS)
            .join(demo::AGENT_HOST)
            .join("agent");
        reprise_agents::host::enroll(&address, demo::AGENT_HOST, &invite.code, None, None, &home)
            .await?;
        let host = reprise_agents::host::Agent::open(&home)?;
        let agent = tokio::spawn(async move {
            loop {
                let _ = host.pass(reprise_agents::host::quiet()).await;
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        });
        Ok(Self {
            stop,
            server,
            agent,
        })
    }

    /// A backup of the file server by its agent, waited for.
    async fn back_up(
        &self,
        ctx: &reprise_ops::context::Ctx<'_>,
    ) -> anyhow::Result<reprise_catalog::AgentJob> {
        let id = reprise_agents::fleet::queue_backup(
            ctx,
            demo::AGENT_HOST,
            &[],
            Some("démonstration"),
            Timestamp::now(),
        )
        .await?;
        loop {
            let job = ctx.catalog.agent_job(id).await?;
            match job {
                Some(job) if !job.state.is_open() => return Ok(job),
                Some(_) => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
                None => anyhow::bail!("job {id} vanished"),
            }
        }
    }

    async fn stop(self) {
        self.agent.abort();
        let _ = self.stop.send(());
        let _ = self.server.await;
    }
}
