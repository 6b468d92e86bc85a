//! Hostile input: the configuration reader, the CSV import, restore-request files and the
//! small parsers get mutated versions of valid inputs for a bounded time
//! (`REPRISE_FUZZ_SECONDS`, CI sets it) and must never panic or take long: bad input gets
//! an error, nothing else.

use std::path::Path;
use std::time::Duration;

use reprise_testkit::fuzz;

const CSV: &str = "\
Élément;Catégorie;Criticité;État;Dépend de;Date de résolution prévue;Action de reprise
Serveur Iredmail;Messagerie;Majeur;Défaillant;Routeur Vyos;En attente;Vérifier et redémarrer les services.
Routeur Vyos;Réseau;Critique;Défaillant;;En attente;Redémarrer et vérifier la configuration.
id,name,site,category,criticality,state,depends_on,rpo,rto
cam-1,Caméra,entrepot,camera,minor,working,nvr-1,24h,8h
";

fn budget() -> Duration {
    fuzz::budget(3)
}

/// Each parser is given this long per input at most (debug builds, a loaded machine).
const SLOW: Duration = Duration::from_secs(2);

#[test]
fn the_configuration_reader_never_panics() {
    let seeds = vec![
        reprise_oversight::demo::CONFIG.as_bytes().to_vec(),
        reprise_workspace::workspace::INIT_TEMPLATE
            .as_bytes()
            .to_vec(),
    ];
    fuzz::run("config", &seeds, budget(), SLOW, |input| {
        let text = String::from_utf8_lossy(input);
        let _ = reprise_workspace::config::parse(Path::new("reprise.toml"), &text);
    });
}

#[test]
fn the_csv_import_never_panics() {
    let seeds = vec![CSV.as_bytes().to_vec(), b"id;name\n;;\n".to_vec()];
    let config = reprise_oversight::demo::CONFIG;
    fuzz::run("import", &seeds, budget(), SLOW, |input| {
        let text = String::from_utf8_lossy(input);
        let _ =
            reprise_workspace::import::plan(config, Path::new("assets.csv"), &text, Some("siege"));
    });
}

#[test]
fn restore_request_files_never_panic() {
    let parsed = reprise_workspace::config::parse(
        Path::new("reprise.toml"),
        reprise_oversight::demo::CONFIG,
    );
    let inventory = parsed
        .config
        .expect("the demo configuration is valid")
        .inventory;
    let seeds = vec![
        reprise_recovery::request::template(reprise_domain::plan::Lang::En)
            .as_bytes()
            .to_vec(),
        reprise_recovery::request::template(reprise_domain::plan::Lang::Fr)
            .as_bytes()
            .to_vec(),
        br#"{"requester":"x","environment":"tenant:acme","scope":{"sites":["entrepot"],"categories":["records"]},"target":{"from":"2026-11-20","to":"2026-11-21"},"context":{"kind":"change","description":"d","incident":3},"urgency":"low","impact":"i","downtime":{"approved":true,"window":"2026-11-24 20:00/2026-11-24 22:00"}}"#.to_vec(),
    ];
    let tz = jiff::tz::TimeZone::UTC;
    fuzz::run("request", &seeds, budget(), SLOW, |input| {
        let text = String::from_utf8_lossy(input);
        if let Ok(draft) = reprise_recovery::request::read_draft(&text, "request.toml")
            && let Ok(request) = reprise_domain::request::validate(&draft, &tz)
        {
            let _ = reprise_domain::request::resolve(&inventory, &request);
        }
    });
}

#[test]
fn the_small_parsers_never_panic() {
    let seeds: Vec<Vec<u8>> = [
        "15m",
        "1h30m",
        "daily at 02:00",
        "weekly on sunday at 03:00",
        "0 */6 * * *",
        "every 6h",
        "site:entrepot,tenant:acme",
        "2026-11-20 18:00",
        "2026-11-20T18:00:00Z",
        "22/09/2024",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let tz = jiff::tz::TimeZone::UTC;
    fuzz::run("small parsers", &seeds, budget(), SLOW, |input| {
        let text = String::from_utf8_lossy(input);
        let _ = reprise_domain::Interval::parse(&text);
        let _ = reprise_domain::Schedule::parse(&text);
        let _ = reprise_domain::access::Scope::parse(&text);
        let _ = reprise_domain::request::parse_environment(&text);
        let _ = reprise_workspace::dates::parse_date(&text);
        let _ = reprise_workspace::dates::parse_time(&text, &tz);
    });
}
