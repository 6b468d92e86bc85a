//! Importing an inventory table (CSV) into `reprise.toml`, so that the configuration stays
//! the source of truth. Built for tables like seed 004's: headers and values in English or
//! French, `,`, `;` or tab separated (spreadsheets in French locales export `;`).
//!
//! Plan, then write: [`plan`] computes the new configuration text and validates it as a
//! whole; the caller writes it (or shows it, for a dry run). Nothing is half-imported: a
//! single bad row, an unknown column or an import that would leave the configuration
//! invalid refuses the whole file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use reprise_domain::{
    AssetId, AssetState, Category, Criticality, Interval, SiteId, ZoneRisk, slugify,
};
use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, value};

use crate::config::{self, Diagnostic};
use crate::dates::parse_date;

/// The columns an inventory table may have, each with the headers that name it.
const COLUMNS: &[(Column, &[&str])] = &[
    (Column::Id, &["id", "identifiant", "identifier"]),
    (
        Column::Name,
        &["name", "nom", "element", "equipement", "asset"],
    ),
    (Column::Site, &["site"]),
    (Column::Category, &["category", "categorie"]),
    (Column::Criticality, &["criticality", "criticite"]),
    (Column::State, &["state", "etat", "status", "statut"]),
    (
        Column::DependsOn,
        &[
            "depends on",
            "dependencies",
            "depend de",
            "depend du",
            "dependances",
        ],
    ),
    (
        Column::Zone,
        &["zone", "zone risk", "zone a risque", "risque"],
    ),
    (Column::Location, &["location", "emplacement"]),
    (Column::Function, &["function", "fonction"]),
    (
        Column::Priority,
        &["priority", "priorite", "tier", "niveau"],
    ),
    (Column::Owner, &["owner", "responsable", "proprietaire"]),
    (Column::Rpo, &["rpo"]),
    (Column::Rto, &["rto"]),
    (
        Column::Procedure,
        &["procedure", "recovery action", "action de reprise"],
    ),
    (
        Column::PlannedResolution,
        &[
            "planned resolution date",
            "planned resolution",
            "date de resolution prevue",
            "date de resolution",
        ],
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Id,
    Name,
    Site,
    Category,
    Criticality,
    State,
    DependsOn,
    Zone,
    Location,
    Function,
    Priority,
    Owner,
    Rpo,
    Rto,
    Procedure,
    PlannedResolution,
}

impl Column {
    /// The configuration key the column fills.
    fn key(self) -> &'static str {
        match self {
            Column::Id => "id",
            Column::Name => "name",
            Column::Site => "site",
            Column::Category => "category",
            Column::Criticality => "criticality",
            Column::State => "state",
            Column::DependsOn => "depends_on",
            Column::Zone => "zone",
            Column::Location => "location",
            Column::Function => "function",
            Column::Priority => "priority",
            Column::Owner => "owner",
            Column::Rpo => "rpo",
            Column::Rto => "rto",
            Column::Procedure => "procedure",
            Column::PlannedResolution => "planned_resolution",
        }
    }
}

/// The headers accepted, for error messages: `id, name/élément, …`.
pub(crate) fn known_columns() -> String {
    [
        "id",
        "name/élément",
        "site",
        "category/catégorie",
        "criticality/criticité",
        "state/état",
        "depends_on/dépend de",
        "zone",
        "location/emplacement",
        "function/fonction",
        "priority/priorité",
        "owner/responsable",
        "rpo",
        "rto",
        "procedure/action de reprise",
        "planned resolution date/date de résolution prévue",
    ]
    .join(", ")
}

/// A problem in one row (or the header) of the table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    pub line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} has {} problem(s); nothing was imported", file.display(), errors.len())]
    Rows {
        file: PathBuf,
        errors: Vec<RowError>,
    },
    #[error("importing {} would leave the configuration invalid; nothing was imported", file.display())]
    Invalid {
        file: PathBuf,
        diagnostics: Vec<Diagnostic>,
    },
    #[error("the configuration cannot be edited: {0}")]
    Config(String),
}

/// What an import will do, and the configuration text that does it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImportPlan {
    pub added: Vec<String>,
    pub updated: Vec<String>,
    pub new_sites: Vec<String>,
    #[serde(skip)]
    pub new_config: String,
}

/// One row, read and checked, with the fields it sets.
struct Row {
    line: u64,
    id: String,
    fields: Vec<(Column, Item)>,
    site: Option<String>,
    depends_on: Option<Vec<String>>,
}

fn detect_delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or("");
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| header.bytes().filter(|b| b == d).count())
        .unwrap_or(b',')
}

/// Cells that mean "no value" in inventory tables.
fn is_blank(cell: &str) -> bool {
    matches!(
        reprise_domain::normalize_word(cell).as_str(),
        "" | "en attente" | "pending" | "tbd" | "n a" | "na" | "none" | "aucun" | "aucune"
    ) || cell.trim() == "-"
}

/// Plans the import of `csv_text` (read from `csv_file`) into the configuration
/// `config_text`. `default_site` applies to rows without a site.
pub fn plan(
    config_text: &str,
    csv_file: &Path,
    csv_text: &str,
    default_site: Option<&str>,
) -> Result<ImportPlan, ImportError> {
    let csv_text = csv_text.strip_prefix('\u{feff}').unwrap_or(csv_text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(detect_delimiter(csv_text))
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(csv_text.as_bytes());
    let rows_error = |errors| ImportError::Rows {
        file: csv_file.to_path_buf(),
        errors,
    };
    let headers = reader
        .headers()
        .map_err(|e| {
            rows_error(vec![RowError {
                line: 1,
                column: None,
                message: e.to_string(),
            }])
        })?
        .clone();

    let mut columns = Vec::new();
    let mut errors = Vec::new();
    for header in headers.iter() {
        let norm = reprise_domain::normalize_word(header).replace('_', " ");
        match COLUMNS
            .iter()
            .find(|(_, names)| names.contains(&norm.as_str()))
        {
            Some((column, _)) if columns.contains(column) => errors.push(RowError {
                line: 1,
                column: Some(header.to_string()),
                message: format!("column `{header}` appears twice"),
            }),
            Some((column, _)) => columns.push(*column),
            None => errors.push(RowError {
                line: 1,
                column: Some(header.to_string()),
                message: format!(
                    "unknown column `{header}` (known columns: {})",
                    known_columns()
                ),
            }),
        }
    }
    if !columns.contains(&Column::Id) && !columns.contains(&Column::Name) {
        errors.push(RowError {
            line: 1,
            column: None,
            message: "the table needs an `id` or a `name`/`élément` column".into(),
        });
    }
    if !errors.is_empty() {
        return Err(rows_error(errors));
    }

    let mut doc: DocumentMut = config_text
        .parse()
        .map_err(|e: toml_edit::TomlError| ImportError::Config(e.to_string()))?;
    let existing = ExistingNames::read(&doc);

    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(RowError {
                    line,
                    column: None,
                    message: e.to_string(),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() != columns.len() {
            errors.push(RowError {
                line,
                column: None,
                message: format!(
                    "expected {} cells like the header, found {}",
                    columns.len(),
                    record.len()
                ),
            });
            continue;
        }
        match read_row(line, &columns, &record, &existing) {
            Ok(row) => rows.push(row),
            Err(mut e) => errors.append(&mut e),
        }
    }
    let mut seen: HashMap<&str, u64> = HashMap::new();
    for row in &rows {
        if let Some(first) = seen.insert(&row.id, row.line) {
            errors.push(RowError {
                line: row.line,
                column: Some("id".into()),
                message: format!("asset `{}` already appears on line {first}", row.id),
            });
        }
    }
    if !errors.is_empty() {
        return Err(rows_error(errors));
    }

    let plan = apply(&mut doc, rows, &existing, default_site).map_err(rows_error)?;
    let new_config = doc.to_string();
    let parsed = config::parse(Path::new(crate::workspace::CONFIG_FILE), &new_config);
    if parsed.config.is_none() {
        return Err(ImportError::Invalid {
            file: csv_file.to_path_buf(),
            diagnostics: parsed.diagnostics,
        });
    }
    Ok(ImportPlan { new_config, ..plan })
}

/// Ids and names already in the configuration, to resolve references written as names.
struct ExistingNames {
    asset_ids: Vec<String>,
    /// Normalised asset name → id.
    asset_names: HashMap<String, String>,
    site_ids: Vec<String>,
    site_names: HashMap<String, String>,
}

impl ExistingNames {
    fn read(doc: &DocumentMut) -> Self {
        let mut out = ExistingNames {
            asset_ids: vec![],
            asset_names: HashMap::new(),
            site_ids: vec![],
            site_names: HashMap::new(),
        };
        let entries = |key: &str| -> Vec<(String, String)> {
            doc.get(key)
                .and_then(Item::as_array_of_tables)
                .map(|tables| {
                    tables
                        .iter()
                        .filter_map(|t| {
                            let id = t.get("id")?.as_str()?.to_string();
                            let name = t.get("name").and_then(Item::as_str).unwrap_or(&id);
                            Some((id.clone(), reprise_domain::normalize_word(name)))
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        for (id, name) in entries("asset") {
            out.asset_names.insert(name, id.clone());
            out.asset_ids.push(id);
        }
        for (id, name) in entries("site") {
            out.site_names.insert(name, id.clone());
            out.site_ids.push(id);
        }
        out
    }
}

fn read_row(
    line: u64,
    columns: &[Column],
    record: &csv::StringRecord,
    existing: &ExistingNames,
) -> Result<Row, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut fields = Vec::new();
    let mut id = None;
    let mut name = None;
    let mut site = None;
    let mut depends_on = None;
    for (column, cell) in columns.iter().zip(record.iter()) {
        let mut fail = |message: String| {
            errors.push(RowError {
                line,
                column: Some(column.key().to_string()),
                message,
            })
        };
        if is_blank(cell) {
            if *column == Column::DependsOn {
                depends_on = Some(Vec::new());
            }
            continue;
        }
        match column {
            Column::Id => match AssetId::parse(cell) {
                Ok(v) => id = Some(v.to_string()),
                Err(e) => fail(e.to_string()),
            },
            Column::Name => {
                name = Some(cell.to_string());
                fields.push((*column, value(cell)));
            }
            Column::Site => site = Some(cell.to_string()),
            Column::Category => match Category::parse(cell) {
                Ok(v) => fields.push((*column, value(v.as_str()))),
                Err(e) => fail(e.to_string()),
            },
            Column::Criticality => match Criticality::parse(cell) {
                Ok(v) => fields.push((*column, value(v.as_str()))),
                Err(e) => fail(e.to_string()),
            },
            Column::State => match AssetState::parse(cell) {
                Ok(v) => fields.push((*column, value(v.as_str()))),
                Err(e) => fail(e.to_string()),
            },
            Column::Zone => match ZoneRisk::parse(cell) {
                Ok(v) => fields.push((*column, value(v.as_str()))),
                Err(e) => fail(e.to_string()),
            },
            Column::Priority => match priority(cell) {
                Some(p) => fields.push((*column, value(i64::from(p)))),
                None => fail(format!(
                    "`{cell}` is not a priority (write 1 for first, 2, 3…, or `Priorité 1`)"
                )),
            },
            Column::Rpo | Column::Rto => match Interval::parse(cell) {
                Ok(v) => fields.push((*column, value(v.to_string()))),
                Err(e) => fail(e.to_string()),
            },
            Column::PlannedResolution => match parse_date(cell) {
                Some(d) => fields.push((*column, value(d.to_string()))),
                None => fail(format!(
                    "`{cell}` is not a date (write 2024-09-22 or 22/09/2024, or leave it empty)"
                )),
            },
            Column::DependsOn => {
                let refs = cell
                    .split([';', ','])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|r| resolve_asset(r, existing))
                    .collect();
                depends_on = Some(refs);
            }
            Column::Location | Column::Function | Column::Owner | Column::Procedure => {
                fields.push((*column, value(cell)))
            }
        }
    }
    let id = match (id, &name) {
        (Some(id), _) => Some(id),
        (None, Some(name)) => {
            let slug = slugify(name);
            // A row without an id keeps the id of an existing asset of the same name.
            existing
                .asset_names
                .get(&reprise_domain::normalize_word(name))
                .cloned()
                .or_else(|| (!slug.is_empty()).then_some(slug))
        }
        (None, None) => None,
    };
    let Some(id) = id else {
        if errors.is_empty() {
            errors.push(RowError {
                line,
                column: Some("id".into()),
                message: "the row has neither an id nor a name".into(),
            });
        }
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Row {
        line,
        id,
        fields,
        site,
        depends_on,
    })
}

/// A priority as the seeds write it: `1`, `P1`, `Priorité 1`, `Critique (Priorité 1)`:
/// the first number, from 1.
fn priority(cell: &str) -> Option<u32> {
    let digits: String = cell
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok().filter(|p| *p >= 1)
}

/// A reference to an asset, written as its id or its name.
fn resolve_asset(reference: &str, existing: &ExistingNames) -> String {
    if existing.asset_ids.iter().any(|id| id == reference) || AssetId::parse(reference).is_ok() {
        return reference.to_string();
    }
    existing
        .asset_names
        .get(&reprise_domain::normalize_word(reference))
        .cloned()
        .unwrap_or_else(|| slugify(reference))
}

/// Writes the rows into the document: updates existing assets in place, appends new ones,
/// and declares sites the table names but the configuration does not have yet.
fn apply(
    doc: &mut DocumentMut,
    rows: Vec<Row>,
    existing: &ExistingNames,
    default_site: Option<&str>,
) -> Result<ImportPlan, Vec<RowError>> {
    let mut plan = ImportPlan {
        added: vec![],
        updated: vec![],
        new_sites: vec![],
        new_config: String::new(),
    };
    // Names given to rows in this table count too: a dependency may name an asset that
    // is being imported.
    let imported_names: HashMap<String, String> = rows
        .iter()
        .filter_map(|r| {
            r.fields
                .iter()
                .find(|(c, _)| *c == Column::Name)
                .and_then(|(_, v)| {
                    v.as_str()
                        .map(|n| (reprise_domain::normalize_word(n), r.id.clone()))
                })
        })
        .collect();
    let only_site = (existing.site_ids.len() == 1).then(|| existing.site_ids[0].clone());
    let mut errors = Vec::new();
    let mut new_sites: Vec<(String, String)> = Vec::new();
    for row in rows {
        let is_new = !existing.asset_ids.contains(&row.id);
        let site_text = row
            .site
            .clone()
            .or_else(|| default_site.map(str::to_string))
            .or_else(|| if is_new { only_site.clone() } else { None });
        let site_id = match site_text {
            None if is_new => {
                errors.push(RowError {
                    line: row.line,
                    column: Some("site".into()),
                    message: "no site: add a `site` column, or pass --site".into(),
                });
                continue;
            }
            None => None,
            Some(text) => Some(resolve_site(&text, existing, &mut new_sites)),
        };
        if is_new {
            for (column, label) in [
                (Column::Name, "name"),
                (Column::Category, "category"),
                (Column::Criticality, "criticality"),
            ] {
                if !row.fields.iter().any(|(c, _)| *c == column) {
                    errors.push(RowError {
                        line: row.line,
                        column: Some(label.into()),
                        message: format!("a new asset needs a {label}"),
                    });
                }
            }
        }
        let depends_on = row.depends_on.map(|refs| {
            refs.into_iter()
                .map(|r| {
                    imported_names
                        .get(&reprise_domain::normalize_word(&r))
                        .cloned()
                        .unwrap_or(r)
                })
                .collect::<Vec<_>>()
        });
        let mut fields = row.fields;
        if let Some(site) = site_id {
            fields.push((Column::Site, value(site)));
        }
        // A blank cell clears the dependencies of an existing asset; a new asset simply
        // has none.
        if let Some(deps) = depends_on.filter(|d| !(is_new && d.is_empty())) {
            let mut array = Array::new();
            for d in deps {
                array.push(d);
            }
            fields.push((Column::DependsOn, value(array)));
        }
        if is_new {
            let mut table = Table::new();
            table.insert("id", value(row.id.clone()));
            // Keys in a fixed, readable order whatever the table's column order.
            for (column, _) in COLUMNS {
                if let Some((_, v)) = fields.iter().find(|(c, _)| c == column) {
                    table.insert(column.key(), v.clone());
                }
            }
            assets(doc).push(table);
            plan.added.push(row.id);
        } else {
            let table = assets(doc)
                .iter_mut()
                .find(|t| t.get("id").and_then(Item::as_str) == Some(row.id.as_str()))
                .expect("existing asset is in the document");
            for (column, v) in fields {
                table.insert(column.key(), v);
            }
            plan.updated.push(row.id);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    for (id, name) in new_sites {
        let mut table = Table::new();
        table.insert("id", value(id.clone()));
        table.insert("name", value(name));
        sites(doc).push(table);
        plan.new_sites.push(id);
    }
    Ok(plan)
}

fn resolve_site(
    text: &str,
    existing: &ExistingNames,
    new_sites: &mut Vec<(String, String)>,
) -> String {
    if existing.site_ids.iter().any(|s| s == text) {
        return text.to_string();
    }
    if let Some(id) = existing
        .site_names
        .get(&reprise_domain::normalize_word(text))
    {
        return id.clone();
    }
    let id = SiteId::parse(text).map_or_else(|_| slugify(text), |s| s.to_string());
    if !new_sites.iter().any(|(s, _)| *s == id) {
        new_sites.push((id.clone(), text.to_string()));
    }
    id
}

fn array_of_tables<'d>(doc: &'d mut DocumentMut, key: &str) -> &'d mut ArrayOfTables {
    let item = doc
        .entry(key)
        .or_insert(Item::ArrayOfTables(ArrayOfTables::new()));
    item.as_array_of_tables_mut()
        .expect("checked by the configuration parser to be an array of tables")
}

fn assets(doc: &mut DocumentMut) -> &mut ArrayOfTables {
    array_of_tables(doc, "asset")
}

fn sites(doc: &mut DocumentMut) -> &mut ArrayOfTables {
    array_of_tables(doc, "site")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "[[site]]\nid = \"hq\"\nname = \"Siège\"\n";

    #[test]
    fn imports_seed_004_in_french_with_names_as_references() {
        let csv = "Élément;Catégorie;Criticité;État;Dépend de;Date de résolution prévue\n\
                   Routeur Vyos;Réseau;Critique;Défaillant;;En attente\n\
                   Serveur Iredmail;Messagerie;Majeur;Défaillant;Routeur Vyos;22/09/2024\n";
        let plan = plan(CONFIG, Path::new("t.csv"), csv, None).unwrap();
        assert_eq!(plan.added, vec!["routeur-vyos", "serveur-iredmail"]);
        let parsed = config::parse(Path::new("reprise.toml"), &plan.new_config);
        let inv = parsed.config.unwrap().inventory;
        let mail = inv.asset("serveur-iredmail").unwrap();
        assert_eq!(mail.depends_on[0].as_str(), "routeur-vyos");
        assert_eq!(mail.criticality, Criticality::Major);
        assert_eq!(mail.state, AssetState::Failed);
        assert_eq!(mail.site.as_str(), "hq");
        assert_eq!(
            mail.planned_resolution,
            Some(jiff::civil::date(2024, 9, 22))
        );
    }

    #[test]
    fn an_unknown_column_lists_the_known_ones() {
        let csv = "id,name,colour\nr,Router,red\n";
        let Err(ImportError::Rows { errors, .. }) = plan(CONFIG, Path::new("t.csv"), csv, None)
        else {
            panic!("must fail");
        };
        assert_eq!(errors[0].line, 1);
        assert!(errors[0].message.contains("unknown column `colour`"));
        assert!(errors[0].message.contains("criticality/criticité"));
    }

    #[test]
    fn bad_rows_are_reported_with_their_line_and_nothing_is_planned() {
        let csv = "id,name,category,criticality\nr,Router,router,critical\nm,Mail,mail,urgent\nx,X,toaster,minor\n";
        let Err(ImportError::Rows { errors, .. }) = plan(CONFIG, Path::new("t.csv"), csv, None)
        else {
            panic!("must fail");
        };
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4]);
    }
}
