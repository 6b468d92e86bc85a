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
        "[[asset]]\nid = \"badges\"\nname = \"Serveur de badges\"\nsite = \"siege\"\ncategory = \"application\"\ncriticality = \"major\"\nrpo = \"24h\"\n\n[[asset.dataset]]\nname = \"badges\"\npaths = [\"data/badges\"]\ncategory = \"records\"\n\n# --- Siège: seed 004",
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
    b.click("#approve-plan");
    b.click("#start-router-vyos");
    b.click("#done-router-vyos");
    while b.exists("[id^='pass-router-vyos-']") {
        b.click("[id^='pass-router-vyos-']");
    }
    b.click("#send-update");
    b.find(".flash");
    b.click("#sign-pv");
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
        for english in ["Recovery plan", "Timeline", "Checklist", "Dashboard"] {
            assert!(
                !page.contains(english),
                "`{english}` on a French page:\n{page}"
            );
        }
    } else {
        assert!(page.contains("Return-to-service report"), "{page}");
    }
    b.screenshot(&dir.join(format!("incident-{lang}.png")));

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
