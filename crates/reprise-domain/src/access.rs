//! Who may do what, and on which part of the inventory (R002.5: access to archives
//! limited to authorised roles). Roles grant kinds of action; a scope limits an account
//! to some sites or tenants, so that a managed-service provider can give a client access
//! to its own site only.

use serde::Serialize;

use crate::Asset;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, accounts included.
    Admin,
    /// Backups, restores, verifications, drills, incidents, restore requests.
    Operator,
    /// Reads everything and exports evidence; changes nothing.
    Auditor,
    /// Dashboards: status, assets, alerts, runs.
    Viewer,
}

/// What a request does, as far as permission goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Dashboards: status, assets, runs, restore points, alerts, readiness.
    Read,
    /// Records that may hold personal data or describe a crisis: incidents, restore
    /// requests, reports.
    ReadRecords,
    /// The journal and evidence exports.
    Audit,
    /// Backups, restores, verifications, drills, incidents, restore requests.
    Operate,
    /// Accounts and tokens of others, approvals of targets.
    Administer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Operator, Role::Auditor, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Auditor => "auditor",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text.trim())
    }

    pub fn allows(self, action: Action) -> bool {
        use Action::*;
        match self {
            Role::Admin => true,
            Role::Operator => matches!(action, Read | ReadRecords | Operate),
            Role::Auditor => matches!(action, Read | ReadRecords | Audit),
            Role::Viewer => matches!(action, Read),
        }
    }

    /// Whether `self` grants nothing `other` does not: a token never has more rights
    /// than its account.
    pub fn within(self, other: Role) -> bool {
        [
            Action::Read,
            Action::ReadRecords,
            Action::Audit,
            Action::Operate,
            Action::Administer,
        ]
        .iter()
        .all(|a| !self.allows(*a) || other.allows(*a))
    }
}

/// Which part of the inventory an account sees: everything, or some sites and tenants.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Scope {
    /// Site ids.
    pub sites: Vec<String>,
    /// Tenants: assets whose environment is `tenant:NAME`.
    pub tenants: Vec<String>,
}

impl Scope {
    /// Parses `site:ID,tenant:NAME,…`; empty means everything.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut scope = Scope::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.split_once(':') {
                Some(("site", id)) if !id.is_empty() => scope.sites.push(id.to_string()),
                Some(("tenant", name)) if !name.is_empty() => scope.tenants.push(name.to_string()),
                _ => {
                    return Err(format!(
                        "`{part}` is not a scope: site:ID or tenant:NAME, separated by commas"
                    ));
                }
            }
        }
        Ok(scope)
    }

    pub fn is_everything(&self) -> bool {
        self.sites.is_empty() && self.tenants.is_empty()
    }

    pub fn covers(&self, asset: &Asset) -> bool {
        self.is_everything()
            || self.sites.iter().any(|s| s == asset.site.as_str())
            || asset
                .environment()
                .strip_prefix("tenant:")
                .is_some_and(|t| self.tenants.iter().any(|x| x == t))
    }

    /// Whether everything `self` covers is covered by `other`.
    pub fn within(&self, other: &Scope) -> bool {
        other.is_everything()
            || (!self.is_everything()
                && self.sites.iter().all(|s| other.sites.contains(s))
                && self.tenants.iter().all(|t| other.tenants.contains(t)))
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .sites
            .iter()
            .map(|s| format!("site:{s}"))
            .chain(self.tenants.iter().map(|t| format!("tenant:{t}")))
            .collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AssetId, Category, Criticality, SiteId};

    fn asset(site: &str, env: Option<&str>) -> Asset {
        let mut a = Asset::new(
            AssetId::parse("a").unwrap(),
            SiteId::parse(site).unwrap(),
            Category::Server,
            Criticality::Major,
        );
        a.environment = env.map(str::to_string);
        a
    }

    #[test]
    fn roles_grant_their_kinds_of_action_only() {
        assert!(Role::Operator.allows(Action::Operate));
        assert!(!Role::Operator.allows(Action::Audit));
        assert!(Role::Auditor.allows(Action::Audit));
        assert!(!Role::Auditor.allows(Action::Operate));
        assert!(!Role::Viewer.allows(Action::ReadRecords));
        assert!(Role::Viewer.within(Role::Auditor));
        assert!(!Role::Operator.within(Role::Auditor));
        assert!(Role::Auditor.within(Role::Admin));
    }

    #[test]
    fn a_scope_covers_its_sites_and_tenants() {
        let scope = Scope::parse("site:entrepot, tenant:acme").unwrap();
        assert!(scope.covers(&asset("entrepot", None)));
        assert!(scope.covers(&asset("siege", Some("tenant:acme"))));
        assert!(!scope.covers(&asset("siege", None)));
        assert!(Scope::default().covers(&asset("siege", None)));
        assert!(Scope::parse("site:entrepot").unwrap().within(&scope));
        assert!(!Scope::default().within(&scope));
        assert!(scope.within(&Scope::default()));
        assert_eq!(scope.to_string(), "site:entrepot,tenant:acme");
        assert!(Scope::parse("building:3").is_err());
    }
}
