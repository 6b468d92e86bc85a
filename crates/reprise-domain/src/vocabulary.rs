//! The words of the seeds: criticality, state, category and zone risk. Each is read from
//! English or French (as written in the seed documents' tables), compared without case or
//! accents, and written back in canonical English for files and in either language for
//! people.

use std::fmt;

/// A word that is not one of the known values of a field; lists what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{word}` (expected one of: {expected})")]
pub struct UnknownWord {
    pub what: &'static str,
    pub word: String,
    pub expected: String,
}

/// Folds a French accented letter to its base letter, so that `Défaillant` and
/// `defaillant` read the same.
pub(crate) fn fold_accent(c: char) -> char {
    match c {
        'à' | 'â' | 'ä' | 'À' | 'Â' | 'Ä' => 'a',
        'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
        'î' | 'ï' | 'Î' | 'Ï' => 'i',
        'ô' | 'ö' | 'Ô' | 'Ö' => 'o',
        'ù' | 'û' | 'ü' | 'Ù' | 'Û' | 'Ü' => 'u',
        'ç' | 'Ç' => 'c',
        _ => c,
    }
}

/// Lowercases, folds accents and collapses separators, so that `Fonctionnel en partie`,
/// `fonctionnel_en_partie` and `FONCTIONNEL-EN-PARTIE` compare equal.
pub fn normalize_word(word: &str) -> String {
    let mut out = String::new();
    for c in word.trim().chars() {
        let c = fold_accent(c).to_ascii_lowercase();
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
    }
    out.trim_end().to_string()
}

macro_rules! vocabulary {
    (
        $(#[$doc:meta])* $name:ident, $what:literal {
            $( $(#[$vdoc:meta])* $variant:ident = $en:literal, $fr:literal, [$($alias:literal),*] ),+ $(,)?
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $( $(#[$vdoc])* $variant ),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Reads the English or French word for a value, ignoring case and accents.
            pub fn parse(word: &str) -> Result<Self, UnknownWord> {
                let norm = normalize_word(word);
                $(
                    if norm == normalize_word($en)
                        || norm == normalize_word($fr)
                        $(|| norm == normalize_word($alias))*
                    {
                        return Ok($name::$variant);
                    }
                )+
                Err(UnknownWord {
                    what: $what,
                    word: word.to_string(),
                    expected: Self::ALL
                        .iter()
                        .map(|v| v.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })
            }

            /// The canonical English word, as written in configuration files.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $en),+ }
            }

            /// The French word, as written in the seed documents.
            pub fn label_fr(self) -> &'static str {
                match self { $($name::$variant => $fr),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let word = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&word).map_err(serde::de::Error::custom)
            }
        }
    };
}

vocabulary!(
    /// How much the organisation suffers when the asset is down (R004.1).
    Criticality, "criticality" {
        Critical = "critical", "Critique", ["critic", "high"],
        Major = "major", "Majeur", ["majeure", "medium"],
        Minor = "minor", "Mineur", ["mineure", "low"],
    }
);

vocabulary!(
    /// Whether the asset works right now (R004.1, R004.4).
    AssetState, "state" {
        Working = "working", "Fonctionnel", ["ok", "up", "operational", "fonctionnelle"],
        Partial = "partial", "Fonctionnel en partie", ["degraded", "partially working", "fonctionnalite partielle", "partiel", "partielle"],
        Failed = "failed", "Défaillant", ["down", "out of service", "hs", "hors service", "defaillante", "en panne"],
    }
);

vocabulary!(
    /// Risk level of the physical zone an asset covers (R000.2): entrances, exits and
    /// zones defined with the client are high risk.
    ZoneRisk, "zone risk" {
        High = "high", "élevé", ["critical", "critique", "eleve", "elevee", "haut", "high risk", "risque eleve"],
        Low = "low", "moindre", ["faible", "bas", "low risk", "risque moindre", "normal"],
    }
);

vocabulary!(
    /// What kind of thing the asset is. Recovery rules and checklists depend on it.
    Category, "category" {
        Camera = "camera", "Caméra", ["cam", "ip camera"],
        Recorder = "recorder", "Enregistreur", ["nvr", "dvr"],
        Switch = "switch", "Commutateur", [],
        Router = "router", "Routeur", [],
        Firewall = "firewall", "Pare-feu", [],
        Network = "network", "Réseau", ["reseau"],
        Vpn = "vpn", "VPN", [],
        Server = "server", "Serveur", [],
        Vm = "vm", "Machine virtuelle", ["virtual machine"],
        Database = "database", "Base de données", ["db", "base de donnees"],
        Mail = "mail", "Messagerie", ["email", "e-mail", "messaging"],
        Supervision = "supervision", "Supervision", ["monitoring"],
        /// Video management: VMS servers and supervision stations of a video site (R000.2).
        Vms = "vms", "Supervision vidéo", ["video management", "vms server", "poste de supervision"],
        Storage = "storage", "Stockage", ["nas", "san"],
        Backup = "backup", "Sauvegarde", [],
        Application = "application", "Application", ["app"],
        Saas = "saas", "SaaS", ["saas tenant", "tenant"],
        Workstation = "workstation", "Poste de travail", ["poste", "pc"],
        Other = "other", "Autre", [],
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_seed_tables_in_french() {
        assert_eq!(Criticality::parse("Majeur").unwrap(), Criticality::Major);
        assert_eq!(AssetState::parse("Défaillant").unwrap(), AssetState::Failed);
        assert_eq!(
            AssetState::parse("Fonctionnel en partie").unwrap(),
            AssetState::Partial
        );
        assert_eq!(Category::parse("Messagerie").unwrap(), Category::Mail);
        assert_eq!(Category::parse("Réseau").unwrap(), Category::Network);
        assert_eq!(ZoneRisk::parse("Élevé").unwrap(), ZoneRisk::High);
    }

    #[test]
    fn an_unknown_word_lists_the_accepted_ones() {
        let err = Criticality::parse("urgent").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown criticality `urgent` (expected one of: critical, major, minor)"
        );
    }

    #[test]
    fn criticality_orders_from_most_to_least_critical() {
        assert!(Criticality::Critical < Criticality::Major);
        assert!(Criticality::Major < Criticality::Minor);
    }
}
