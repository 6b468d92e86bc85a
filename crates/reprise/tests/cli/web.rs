//! The web UI in a real headless Chromium: sign in, read the dashboard, back up and
//! verify an asset and see its tile turn green without reloading, run an incident from
//! its plan to the signed report — in English, then in French. The screenshots of the
//! README are taken here.

use std::path::PathBuf;
use std::time::Duration;

use crate::browser::Browser;
use crate::serve::serve;
use crate::support::TestWorkspace;

const PASSWORD: &str = "correct horse battery staple";

/// Where screenshots go: `docs/screenshots` when `REPRISE_SCREENSHOTS` is set (to refresh
/// the README's), else the build directory.
fn shots() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    if std::env::var_os("REPRISE_SCREENSHOTS").is_some() {
        root.join("docs/screenshots")
    } else {
        root.join("target/screenshots")
    }
}

/// The demo with an account that has a password, and a new asset never backed up.
fn workspace() -> TestWorkspace {
    let ws = TestWorkspace::demo();
    std::fs::create_dir_all(ws.path().join("data/badges")).unwrap();
    std::fs::write(
        ws.path().join("data/badges/badges.csv"),
        "badge,holder\n12,alice\n",
    )
    .unwrap();
    let config = ws.config().replace(
        "# --- Siège: seed 004",
        "[[asset]]\nid = \"badges\"\nname = \"Serveur de badges\"\nsite = \"siege\"\ncategory = \"application\"\ncriticality = \"major\"\nrpo = \"24h\"\n\n[[asset.dataset]]\nname = \"badges\"\npaths = [\"data/badges\"]\ncategory = \"records\"\n\n[[asset]]\nid = \"kiosque\"\nname = \"Borne d'accueil\"\nsite = \"siege\"\ncategory = \"application\"\ncriticality = \"minor\"\nrpo = \"24h\"\n\n[[asset.dataset]]\nname = \"badges\"\npaths = [\"data/badges\"]\n\n# --- Siège: seed 004",
    );
    ws.write_config(&config);
    ws.cmd()
        .args(["user", "add", "ada", "--role", "admin", "--password-stdin"])
        .write_stdin(format!("{PASSWORD}\n"))
        .assert()
        .success();
    ws
}

fn sign_in(b: &Browser, base: &str) {
    b.goto(&format!("{base}/"));
    b.type_into("#user", "ada");
    b.type_into("#password", PASSWORD);
    b.click("#sign-in");
    b.find("#tile-router-vyos");
}

/// Clicks a form's button, then waits for the page that says `en` (or `fr`) in its
/// message: a form's answer is a new page, loaded after the click returns.
fn submit(b: &Browser, css: &str, fr: bool, en: &str, fr_text: &str) {
    b.click(css);
    let expected = if fr { fr_text } else { en };
    b.wait_for(expected, Duration::from_secs(60), |b| {
        b.text(".flash") == expected
    });
}

fn journey(lang: &str) {
    let ws = workspace();
    let server = serve(&ws);
    let base = server.base.clone();
    let b = Browser::start(lang);
    let fr = lang == "fr";
    let dir = shots();

    // Signing in lands on the dashboard, in the browser's language.
    sign_in(&b, &base);
    let heading = b.text("h1");
    assert_eq!(heading, if fr { "Tableau de bord" } else { "Dashboard" });
    assert_eq!(
        b.attribute("#tile-badges", "data-status").as_deref(),
        Some("never"),
        "a new asset is never verified"
    );
    // What is down is not green, whatever its RPO: the failed router leads, in red.
    assert_eq!(
        b.attribute("#tile-router-vyos", "data-state").as_deref(),
        Some("failed")
    );
    let look = b.attribute("#tile-router-vyos", "class").unwrap();
    assert!(look.contains("down") && !look.contains("ok"), "{look}");
    assert_eq!(
        b.text("#tile-router-vyos .badge.state-down"),
        if fr { "Défaillant" } else { "failed" }
    );
    assert_eq!(
        b.attribute("#site-siege + ul .tile", "id").as_deref(),
        Some("tile-router-vyos"),
        "the first tile of its site"
    );
    b.screenshot(&dir.join(format!("dashboard-{lang}.png")));

    // Back up and verify it from its page, then watch its tile turn green.
    b.click("#tile-badges");
    b.click("#back-up-now");
    b.wait_for("the backup's restore point", Duration::from_secs(60), |b| {
        b.exists("#points tbody tr")
    });
    b.click("#verify-now");
    b.wait_for("the verified point", Duration::from_secs(60), |b| {
        b.attribute("#asset-status", "data-status").as_deref() == Some("ok")
    });
    b.screenshot(&dir.join(format!("asset-{lang}.png")));
    b.goto(&format!("{base}/"));
    assert_eq!(
        b.attribute("#tile-badges", "data-status").as_deref(),
        Some("ok")
    );

    // An incident, from its plan to the signed report.
    b.goto(&format!("{base}/incidents"));
    b.type_into(
        "#title",
        if fr {
            "Routeur hors service"
        } else {
            "Router down"
        },
    );
    b.type_into("#assets", "router-vyos");
    b.click("#open-incident");
    b.find("#approve-plan");
    // Who commands, what the damage is (shared with the client), and the phase. A role
    // given to nobody is refused in the page's language.
    let room = b.current_url();
    b.click("#assign-role");
    let refusal = if fr {
        "Indiquez qui prend le rôle."
    } else {
        "Say who takes the role."
    };
    b.wait_for("the refusal", Duration::from_secs(30), |b| {
        b.text(".flash.error") == refusal
    });
    b.goto(&room);
    b.click("#role option[value='commander']");
    b.type_into("#role-who", "Mohamed");
    submit(&b, "#assign-role", fr, "Role assigned.", "Rôle attribué.");
    let roles = b.text("#roles");
    assert!(
        roles.contains(if fr {
            "Commandant d'incident : Mohamed"
        } else {
            "Incident commander: Mohamed"
        }),
        "{roles}"
    );
    b.click("#assessed-state option[value='failed']");
    b.type_into(
        "#assessed-nature",
        if fr {
            "alimentation coupée"
        } else {
            "power cut"
        },
    );
    b.click("#share-assessment");
    submit(
        &b,
        "#save-assessment",
        fr,
        "Assessment updated.",
        "Évaluation mise à jour.",
    );
    assert!(b.exists("#assessment-shared"));
    b.click("#phase option[value='containment']");
    submit(&b, "#change-phase", fr, "Phase changed.", "Phase changée.");
    assert_eq!(
        b.text("#incident-phase"),
        if fr { "confinement" } else { "containment" }
    );
    submit(&b, "#approve-plan", fr, "Plan approved.", "Plan approuvé.");
    submit(
        &b,
        "#start-router-vyos",
        fr,
        "Step updated.",
        "Étape mise à jour.",
    );
    // The incident room draws the plan as a timeline: predicted beside actual, the
    // critical path outlined, in the page's language.
    assert!(b.exists("#plan-timeline .predicted.critical"));
    assert!(b.exists("#plan-timeline .actual"));
    let label = b
        .attribute("#plan-timeline", "aria-label")
        .unwrap_or_default();
    assert!(
        label.starts_with(if fr {
            "Déroulé du plan"
        } else {
            "The plan over time"
        }),
        "{label}"
    );
    // The dashboard leads with the open incident: its phase, next update, who is on it.
    b.goto(&format!("{base}/"));
    let panel = b.text("#open-incidents");
    assert!(
        panel.contains(if fr {
            "Routeur hors service"
        } else {
            "Router down"
        }) && panel.contains("Mohamed")
            && panel.contains(if fr {
                "Prochain point d'étape"
            } else {
                "Next update due"
            }),
        "{panel}"
    );
    assert!(
        b.exists("a[href='/incidents'] #count-incidents"),
        "counters link to their lists"
    );
    b.goto(&room);
    // Done is refused while its checks are not recorded.
    b.click("#done-router-vyos");
    b.wait_for("the refusal", Duration::from_secs(30), |b| {
        b.exists(".flash.error") && b.text(".flash.error").contains("checks nobody recorded")
    });
    b.goto(&room);
    // One check accepted with a reservation to lift by a date, the others passed.
    let reserve = b.attribute("[id^='reserve-router-vyos-']", "id").unwrap();
    let key = reserve
        .trim_start_matches("reserve-router-vyos-")
        .to_string();
    b.type_into(
        &format!("#deadline-router-vyos-{key}"),
        "12122026", // the same in either order of day and month
    );
    submit(
        &b,
        &format!("#{reserve}"),
        fr,
        "Check recorded.",
        "Contrôle enregistré.",
    );
    let result = b.text(&format!("#result-router-vyos-{key}"));
    assert!(
        result.contains(if fr {
            "réserve · à lever avant le 12/12/2026"
        } else {
            "reserved · lift by 2026-12-12"
        }),
        "{result}"
    );
    while b.exists("[id^='pass-router-vyos-']") {
        submit(
            &b,
            "[id^='pass-router-vyos-']",
            fr,
            "Check recorded.",
            "Contrôle enregistré.",
        );
    }
    submit(
        &b,
        "#done-router-vyos",
        fr,
        "Step updated.",
        "Étape mise à jour.",
    );
    // The state flows back: the router is working on the dashboard and on its page,
    // with since when, who said so, its procedure and its history drawn.
    b.goto(&format!("{base}/"));
    assert_eq!(
        b.attribute("#tile-router-vyos", "data-state").as_deref(),
        Some("working")
    );
    b.goto(&format!("{base}/assets/router-vyos"));
    assert_eq!(
        b.attribute("#asset-state", "data-state").as_deref(),
        Some("working")
    );
    let line = b.text("#asset-state");
    assert!(line.contains(if fr { "depuis" } else { "since" }), "{line}");
    assert!(b.exists("#asset-procedure"));
    assert!(b.exists("#chart-age .rpo") || b.exists("#chart-age .age"));
    assert!(b.exists("#chart-sizes .added"));
    b.screenshot(&dir.join(format!("asset-router-{lang}.png")));
    b.goto(&room);
    submit(
        &b,
        "#send-update",
        fr,
        "Update sent.",
        "Point d'étape envoyé.",
    );
    submit(&b, "#sign-pv", fr, "Report signed.", "Procès-verbal signé.");
    let page = b.text("main");
    assert!(page.contains("SHA-256"), "{page}");
    if fr {
        assert!(
            page.contains("Procès-verbal de remise en service"),
            "{page}"
        );
        assert!(
            page.contains("Liste de contrôle") || page.contains("Vague"),
            "{page}"
        );
        // The timeline, written by Reprise, speaks French too.
        for french in [
            "plan de reprise approuvé",
            "router-vyos : démarré",
            "évaluation partagée",
            "point de situation envoyé",
        ] {
            assert!(page.contains(french), "`{french}` missing:\n{page}");
        }
        for english in [
            "Recovery plan",
            "Timeline",
            "Checklist",
            "Dashboard",
            "recovery plan approved",
            ": started",
            "assessment shared",
            "update sent",
            "→ recovery",
        ] {
            assert!(
                !page.contains(english),
                "`{english}` on a French page:\n{page}"
            );
        }
    } else {
        assert!(page.contains("Return-to-service report"), "{page}");
    }
    b.screenshot(&dir.join(format!("incident-{lang}.png")));
    // The post-incident review closes it.
    b.type_into(
        "#root-cause",
        if fr {
            "onduleur absent"
        } else {
            "no UPS on the rack"
        },
    );
    b.type_into(
        "#action",
        if fr {
            "Installer un onduleur"
        } else {
            "Install a UPS"
        },
    );
    b.type_into("#owner", "Mohamed");
    // A date field takes the digits in the browser's order.
    b.type_into("#due", if fr { "15122026" } else { "12152026" });
    b.click("#close-incident");
    submit(
        &b,
        "#save-review",
        fr,
        "Review saved.",
        "Revue enregistrée.",
    );
    assert!(b.text("main").contains("Mohamed"), "{}", b.text("main"));

    // The report downloads as a PDF with the session of the browser.
    let href = b.attribute("#pv-pdf", "href").unwrap();
    let pdf = reqwest::blocking::Client::new()
        .get(if href.starts_with("http") {
            href
        } else {
            format!("{base}{href}")
        })
        .header(
            "Cookie",
            format!("reprise_session={}", b.cookie("reprise_session")),
        )
        .send()
        .unwrap();
    assert_eq!(pdf.status().as_u16(), 200);
    assert!(pdf.bytes().unwrap().starts_with(b"%PDF"));

    // A restore request: checking an empty form names what is missing, a complete one
    // shows its feasibility before it is submitted, then an operator approves it.
    b.goto(&format!("{base}/requests"));
    b.click("#check-request");
    b.wait_for("what is missing", Duration::from_secs(30), |b| {
        b.exists("#missing")
    });
    let missing = b.text("#missing");
    assert!(missing.contains("requester"), "{missing}");
    b.type_into("#requester", "Paul, support");
    b.type_into("#datasets", "badges/badges");
    // The state one minute from now, in the demo's zone: after the backup just taken.
    let now = (jiff::Timestamp::now() + jiff::SignedDuration::from_mins(1))
        .to_zoned(jiff::tz::TimeZone::get("Europe/Paris").unwrap())
        .strftime("%Y-%m-%d %H:%M")
        .to_string();
    b.type_into("#at", &now);
    b.click("#kind option[value='faulty-import']");
    b.type_into("#description", "an import removed badges");
    b.click("#urgency option[value='normal']");
    b.type_into("#impact", "visitors cannot get a badge");
    b.click("#downtime option[value='no']");
    b.click("#check-request");
    b.wait_for("the feasibility", Duration::from_secs(30), |b| {
        b.exists("#feasibility")
    });
    let feasibility = b.text("#feasibility");
    assert!(
        feasibility.contains(if fr { "Faisable" } else { "Feasible" }),
        "{feasibility}"
    );
    b.click("#submit-request");
    let awaiting = if fr {
        "en attente d'approbation"
    } else {
        "awaiting-approval"
    };
    b.wait_for("the recorded request", Duration::from_secs(30), |b| {
        b.text("#request-state") == awaiting
    });
    submit(
        &b,
        "#approve-request",
        fr,
        "Request approved.",
        "Demande approuvée.",
    );
    assert_eq!(
        b.text("#request-state"),
        if fr { "planifiée" } else { "scheduled" }
    );
    if fr {
        let page = b.text("main");
        assert!(page.contains("faisable depuis"), "{page}");
        for english in ["feasible from", "scheduled in", "to run now"] {
            assert!(
                !page.contains(english),
                "`{english}` on a French page:\n{page}"
            );
        }
    }
    b.screenshot(&dir.join(format!("request-{lang}.png")));
    for page in ["/drills", "/readiness", "/alerts"] {
        b.goto(&format!("{base}{page}"));
        let heading = b.text("h1");
        assert!(!heading.is_empty(), "{page}");
    }
    // The demo's camera: read, changed, backed up; the diff masks its password.
    b.goto(&format!("{base}/devices"));
    let row = b.text("#device-cam-entree-config");
    assert!(row.contains("http") && row.contains("15m"), "{row}");
    let change = b.text("#change-cam-entree-config");
    assert!(change.contains("\"recording\": \"motion\""), "{change}");
    assert!(
        !change.contains("Quai-2026") && change.contains("********"),
        "{change}"
    );
    assert!(
        change.contains(if fr {
            "secrets masqués"
        } else {
            "secrets masked"
        }),
        "{change}"
    );
    // Someone is on an alert (the kiosk, never backed up): it says who, and stays open.
    b.goto(&format!("{base}/alerts"));
    {
        submit(
            &b,
            "#ack-1",
            fr,
            "Alert acknowledged: it stays open until its cause is gone.",
            "Alerte prise en compte : elle reste ouverte jusqu'à ce que sa cause disparaisse.",
        );
        let table = b.text("table");
        assert!(table.contains("ada"), "{table}");
        if fr {
            assert!(
                table.contains("Borne d'accueil"),
                "alerts in French: {table}"
            );
        }
    }
    b.goto(&format!("{base}/drills"));
    submit(
        &b,
        "#run-drill",
        fr,
        "Restore test started: it appears here when done.",
        "Test de restauration lancé : il apparaît ici une fois terminé.",
    );

    // The language link switches the pages and becomes the account's language.
    let other = if fr { "en" } else { "fr" };
    b.click("#switch-language");
    b.wait_for("the other language", Duration::from_secs(30), |b| {
        b.attribute("html", "lang").as_deref() == Some(other)
    });
    let users = ws.cmd().args(["user", "list", "--json"]).output().unwrap();
    let users: serde_json::Value = serde_json::from_slice(&users.stdout).unwrap();
    let ada = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "ada")
        .unwrap();
    assert_eq!(ada["lang"], other, "{ada}");

    // Signing out ends the session: the pages ask to sign in again.
    b.click("#sign-out");
    b.goto(&format!("{base}/assets"));
    b.find("#password");
}

#[test]
fn an_operator_runs_the_day_in_english_in_a_real_browser() {
    journey("en");
}

#[test]
fn un_operateur_fait_sa_journee_en_francais_dans_un_vrai_navigateur() {
    journey("fr");
}

#[test]
fn forms_without_the_session_token_are_refused() {
    let ws = workspace();
    let server = serve(&ws);
    let b = Browser::start("en");
    sign_in(&b, &server.base);
    // Another site could make the browser post, but not know the form's token.
    let session = b.cookie("reprise_session");
    let answer = reqwest::blocking::Client::new()
        .post(format!("{}/assets/badges/backup", server.base))
        .header("Cookie", format!("reprise_session={session}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("csrf=guessed")
        .send()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 403);
    // Reports for auditors download with the session: the evidence pack, a CSV export,
    // and an empty export says why.
    let http = reqwest::blocking::Client::new();
    let get = |path: &str| {
        http.get(format!("{}{path}", server.base))
            .header("Cookie", format!("reprise_session={session}"))
            .send()
            .unwrap()
    };
    b.goto(&format!("{}/reports", server.base));
    assert_eq!(b.text("h1"), "Reports");
    let month = jiff::Timestamp::now().strftime("%Y-%m").to_string();
    let pack = get(&format!("/reports/evidence?period={month}"));
    assert_eq!(pack.status().as_u16(), 200);
    assert_eq!(&pack.bytes().unwrap()[..2], &[0x1f, 0x8b]);
    let csv = get("/reports/export?kind=inventory&site=entrepot");
    assert_eq!(csv.status().as_u16(), 200);
    let text = csv.text().unwrap();
    assert!(
        text.starts_with("id,name,site") && text.contains("cam-entree"),
        "{text}"
    );
    let empty = get("/reports/export?kind=runs&since=2020-01-01&until=2020-01-31");
    assert_eq!(empty.status().as_u16(), 404);
    assert!(empty.text().unwrap().contains("widen the period"));
    assert!(get("/reports/runbook").text().unwrap().contains("<html"));

    // And a page without a session sends to the sign-in form.
    let anonymous = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/assets", server.base))
        .send()
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 303);
    assert!(
        anonymous.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
}

#[test]
fn a_page_left_open_while_someone_else_changed_the_incident_asks_to_reload() {
    let ws = workspace();
    let server = serve(&ws);
    let b = Browser::start("fr");
    sign_in(&b, &server.base);
    ws.cmd()
        .args([
            "incident",
            "open",
            "Routeur hors service",
            "--asset",
            "router-vyos",
        ])
        .assert()
        .success();
    let room = format!("{}/incidents/1", server.base);
    b.goto(&room);
    b.find("#change-phase");
    // Meanwhile, at the command line, someone else takes command.
    ws.cmd()
        .args(["incident", "assign", "1", "commander", "Claire"])
        .assert()
        .success();
    b.click("#phase option[value='containment']");
    b.click("#change-phase");
    let stale = "Quelqu'un l'a modifié entre-temps : rechargez la page pour voir sa modification, puis recommencez.";
    b.wait_for("the stale-page message", Duration::from_secs(30), |b| {
        b.text(".flash.error") == stale
    });
    let shown = ws.json(&["incident", "show", "1", "--json"]);
    assert_eq!(shown["phase"], "assessment", "nothing was changed");
    // Reloaded, the page shows the other person's change, and the same action passes.
    b.goto(&room);
    assert!(b.text("#roles").contains("Claire"), "{}", b.text("#roles"));
    b.click("#phase option[value='containment']");
    submit(
        &b,
        "#change-phase",
        true,
        "Phase changed.",
        "Phase changée.",
    );
    assert_eq!(b.text("#incident-phase"), "confinement");
}

#[test]
fn an_administrator_clears_a_suspect_backup_from_the_asset_page() {
    let ws = workspace();
    // A ransom note in the badge server's data: its first backup is suspect.
    std::fs::write(
        ws.path().join("data/badges/HOW_TO_DECRYPT.txt"),
        "your files are encrypted\n",
    )
    .unwrap();
    ws.cmd().args(["backup", "badges"]).assert().code(3);
    let server = serve(&ws);
    let b = Browser::start("en");
    sign_in(&b, &server.base);
    b.goto(&format!("{}/assets/badges", server.base));
    assert!(
        b.text("#points").contains("SUSPECT"),
        "{}",
        b.text("#points")
    );
    b.type_into("#clear-reason", "a note left by the security team's drill");
    submit(
        &b,
        "#clear-suspicion",
        false,
        "Suspicion cleared: the point and the ones after it count again.",
        "",
    );
    assert!(
        !b.text("#points").contains("SUSPECT"),
        "{}",
        b.text("#points")
    );
    assert!(!b.exists("#clear-suspicion"));
    let cleared = ws.json(&["snapshots", "suspect", "badges", "--json"]);
    assert_eq!(
        cleared[0]["clearance"],
        "a note left by the security team's drill"
    );
    assert_eq!(cleared[0]["cleared_by"], "ada");
}
