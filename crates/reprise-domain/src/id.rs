//! Identifiers: short, stable, lowercase names that appear in configuration files,
//! snapshot tags and command lines. Validated once, at the edge.

use std::fmt;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a valid id: use 1 to 64 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit"
)]
pub struct IdError(pub String);

fn check(raw: &str) -> Result<(), IdError> {
    let mut chars = raw.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = raw
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if first_ok && rest_ok && raw.len() <= 64 {
        Ok(())
    } else {
        Err(IdError(raw.to_string()))
    }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parses an identifier, refusing anything but lowercase ASCII names.
            pub fn parse(raw: &str) -> Result<Self, IdError> {
                check(raw).map(|()| Self(raw.to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(
    /// The id of an asset (`router-vyos`, `cam-entree-1`).
    AssetId
);
id_type!(
    /// The id of a site (`hq`, `warehouse-lyon`).
    SiteId
);
id_type!(
    /// The id of a backup policy (`daily`).
    PolicyId
);
id_type!(
    /// The id of a repository (`local`, `offsite-s3`).
    RepoId
);

/// Turns a free-text name into an id candidate: `Serveur Iredmail` → `serveur-iredmail`.
/// Used when an imported table has names but no ids.
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = crate::vocabulary::fold_accent(c).to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out.truncate(64);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_lowercase_names_and_refuse_the_rest() {
        assert!(AssetId::parse("router-vyos").is_ok());
        assert!(AssetId::parse("cam.entree_1").is_ok());
        assert!(AssetId::parse("Router").is_err());
        assert!(AssetId::parse("-router").is_err());
        assert!(AssetId::parse("").is_err());
        assert!(AssetId::parse("a b").is_err());
        assert!(AssetId::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn slugify_folds_french_names() {
        assert_eq!(slugify("Serveur Iredmail"), "serveur-iredmail");
        assert_eq!(
            slugify("Serveur GUI : Disques de sauvegarde et stockage"),
            "serveur-gui-disques-de-sauvegarde-et-stockage"
        );
        assert_eq!(slugify("Caméra Entrée"), "camera-entree");
    }
}
