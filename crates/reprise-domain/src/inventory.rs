//! The inventory as a whole: sites, assets, policies and repositories, the dependency graph
//! between assets, and the rules that make an inventory valid.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;

use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;

use crate::{Asset, AssetId, Interval, Policy, PolicyId, Repository, SiteId};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Site {
    pub id: SiteId,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

/// Everything the configuration declares. Built by the configuration layer, checked by
/// [`Inventory::validate`], then queried by every use case.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Inventory {
    pub sites: Vec<Site>,
    pub assets: Vec<Asset>,
    pub policies: Vec<Policy>,
    pub repositories: Vec<Repository>,
    /// The policy of assets that name none.
    pub default_policy: Option<PolicyId>,
    /// Where alerts are sent.
    pub notifiers: Vec<crate::Notifier>,
    /// People to call on the worst day, with their role (R001.2, R004.5).
    pub contacts: Vec<Contact>,
    /// Data categories declared by the user; the built-in ones exist without it.
    pub categories: Vec<crate::DataCategory>,
    /// Device models declared by the user (`[[device_model]]`), over the built-in ones.
    pub device_models: Vec<crate::device::DeviceModel>,
    /// Settings of the hosts whose agents back up assets (`[[host]]`); a host named by an
    /// asset needs none.
    pub hosts: Vec<Host>,
}

/// A host whose agent backs up assets, as `[[host]]` tunes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Host {
    pub name: String,
    /// Silence after which its agent is reported (default: twice its assets' shortest
    /// schedule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub silent_after: Option<Interval>,
}

/// Someone to reach during a recovery, written down where the runbook can carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub name: String,
    /// `incident commander`, `on call`, `communications`, `technician`, `provider`…
    pub role: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// What a problem is about: the n-th site, asset, policy or repository of the inventory,
/// and which of its fields. The configuration layer turns this into a file position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    SiteId(usize),
    AssetId(usize),
    AssetSite(usize),
    /// The `index`-th entry of an asset's `depends_on`.
    AssetDependsOn {
        asset: usize,
        index: usize,
    },
    AssetPolicy(usize),
    AssetRpo(usize),
    AssetDataSet {
        asset: usize,
        index: usize,
    },
    PolicyId(usize),
    PolicyRepository(usize),
    PolicyCopyTo {
        policy: usize,
        index: usize,
    },
    RepositoryId(usize),
    DefaultPolicy,
    /// The `index`-th data set's `category` of the `asset`-th asset.
    DataSetCategory {
        asset: usize,
        index: usize,
    },
    /// The `n`-th `[[category]]`.
    Category(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    DuplicateSite(SiteId),
    DuplicateAsset(AssetId),
    DuplicatePolicy(PolicyId),
    DuplicateRepository(String),
    DuplicateDataSet(String),
    UnknownSite(String),
    UnknownDependency(String),
    SelfDependency,
    /// Assets in dependency order around the cycle; the first one is repeated at the end.
    Cycle(Vec<AssetId>),
    UnknownPolicy(String),
    UnknownRepository(String),
    CopyToItself(String),
    RpoNeverMet {
        rpo: Interval,
        policy: PolicyId,
        schedule: String,
        gap: Option<Interval>,
    },
    RpoWithoutBackup {
        rpo: Interval,
    },
    UnknownCategory(String),
    DuplicateCategory(String),
    /// A category whose minimum exceeds its maximum.
    CategoryBounds {
        min: Interval,
        max: Interval,
    },
    /// A data set's policy keeps it past its category's bounds.
    CategoryBreach {
        category: String,
        policy: PolicyId,
        breach: crate::Breach,
    },
    /// A device's configuration is read by the server, never by a host's agent.
    DeviceOnHost {
        host: String,
    },
    /// An agent reads the repository it writes to: it must hold that host's data only.
    RepositoryShared {
        repository: String,
        host: String,
        others: Vec<String>,
    },
}

/// One thing wrong with an inventory, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: Field,
    pub kind: ProblemKind,
}

impl Problem {
    /// Warnings describe something that works but will surprise; errors make the
    /// configuration unusable.
    pub fn is_warning(&self) -> bool {
        matches!(self.kind, ProblemKind::RpoWithoutBackup { .. })
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemKind::DuplicateSite(id) => write!(f, "site `{id}` is declared twice"),
            ProblemKind::DuplicateAsset(id) => write!(f, "asset `{id}` is declared twice"),
            ProblemKind::DuplicatePolicy(id) => write!(f, "policy `{id}` is declared twice"),
            ProblemKind::DuplicateRepository(id) => {
                write!(f, "repository `{id}` is declared twice")
            }
            ProblemKind::DuplicateDataSet(name) => {
                write!(f, "data set `{name}` is declared twice for this asset")
            }
            ProblemKind::UnknownSite(id) => write!(f, "unknown site `{id}`"),
            ProblemKind::UnknownDependency(id) => write!(f, "unknown asset `{id}`"),
            ProblemKind::SelfDependency => f.write_str("an asset cannot depend on itself"),
            ProblemKind::Cycle(path) => {
                let names: Vec<&str> = path.iter().map(AssetId::as_str).collect();
                write!(f, "dependency cycle: {}", names.join(" → "))
            }
            ProblemKind::UnknownPolicy(id) => write!(f, "unknown policy `{id}`"),
            ProblemKind::UnknownRepository(id) => write!(f, "unknown repository `{id}`"),
            ProblemKind::CopyToItself(id) => {
                write!(f, "repository `{id}` is both the target and a copy")
            }
            ProblemKind::RpoNeverMet {
                rpo,
                policy,
                schedule,
                gap: Some(gap),
            } => write!(
                f,
                "RPO {rpo} can never be met: policy `{policy}` runs `{schedule}`, up to {gap} apart"
            ),
            ProblemKind::RpoNeverMet {
                rpo,
                policy,
                schedule,
                gap: None,
            } => write!(
                f,
                "RPO {rpo} can never be met: policy `{policy}` runs `{schedule}`, which takes no backup on its own"
            ),
            ProblemKind::RpoWithoutBackup { rpo } => write!(
                f,
                "RPO {rpo} is set but the asset has no data set or policy, so no backup will ever meet it"
            ),
            ProblemKind::UnknownCategory(name) => {
                let known: Vec<&str> = crate::BUILT_IN_CATEGORIES.iter().map(|c| c.0).collect();
                write!(
                    f,
                    "unknown data category `{name}`: declare it with [[category]] or use one of {}",
                    known.join(", ")
                )
            }
            ProblemKind::DuplicateCategory(name) => {
                write!(f, "data category `{name}` is declared twice")
            }
            ProblemKind::CategoryBounds { min, max } => {
                write!(f, "min_retention {min} is longer than max_retention {max}")
            }
            ProblemKind::CategoryBreach {
                category,
                policy,
                breach: crate::Breach::TooLong { max, kept },
            } => match kept {
                Some(kept) => write!(
                    f,
                    "policy `{policy}` keeps restore points up to {kept}, longer than data category `{category}` allows ({max}): lower its keep rules or set max_age"
                ),
                None => write!(
                    f,
                    "policy `{policy}` may keep restore points forever, longer than data category `{category}` allows ({max}): set max_age"
                ),
            },
            ProblemKind::DeviceOnHost { host } => write!(
                f,
                "a device's configuration is read by the server, not by the agent of host `{host}`: remove `host` or move this data set to an asset of its own"
            ),
            ProblemKind::RepositoryShared {
                repository,
                host,
                others,
            } => write!(
                f,
                "repository `{repository}` also keeps data of {}: the agent of host `{host}` reads the repository it writes to, so give this host a repository of its own",
                others.join(", ")
            ),
            ProblemKind::CategoryBreach {
                category,
                policy,
                breach: crate::Breach::TooShort { min, kept },
            } => write!(
                f,
                "policy `{policy}` keeps restore points at most {kept}, shorter than data category `{category}` requires ({min})"
            ),
        }
    }
}

/// An asset affected, directly or not, by the failure of another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Impact {
    pub asset: AssetId,
    /// 1 for a direct dependent, 2 for a dependent of a dependent, and so on.
    pub depth: usize,
    /// The dependency through which it is affected.
    pub via: AssetId,
}

/// The ids declared in the inventory, for checking what refers to them.
struct Known<'a> {
    sites: HashSet<&'a str>,
    policies: HashSet<&'a str>,
    assets: HashSet<&'a str>,
}

impl Inventory {
    /// The device model named `name`: the user's, or a built-in one.
    pub fn device_model(&self, name: &str) -> Option<crate::device::DeviceModel> {
        self.device_models
            .iter()
            .find(|m| m.name == name)
            .cloned()
            .or_else(|| {
                crate::device::builtin_models()
                    .into_iter()
                    .find(|m| m.name == name)
            })
    }

    /// Every data set collected from a device: asset, data set, how.
    pub fn devices(
        &self,
    ) -> impl Iterator<Item = (&Asset, &crate::DataSet, &crate::device::Collect)> {
        self.assets.iter().flat_map(|a| {
            a.datasets.iter().filter_map(move |d| match &d.source {
                crate::DataSource::Device { collect, .. } => Some((a, d, &**collect)),
                _ => None,
            })
        })
    }

    pub fn asset(&self, id: &str) -> Option<&Asset> {
        self.assets.iter().find(|a| a.id.as_str() == id)
    }

    pub fn site(&self, id: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.id.as_str() == id)
    }

    pub fn policy(&self, id: &str) -> Option<&Policy> {
        self.policies.iter().find(|p| p.id.as_str() == id)
    }

    /// The policy that applies to an asset: its own, or the default one.
    pub fn policy_of(&self, asset: &Asset) -> Option<&Policy> {
        asset
            .policy
            .as_ref()
            .or(self.default_policy.as_ref())
            .and_then(|id| self.policy(id.as_str()))
    }

    /// Assets that depend directly on `id`, in inventory order.
    pub fn dependents(&self, id: &str) -> Vec<&Asset> {
        self.assets
            .iter()
            .filter(|a| a.depends_on.iter().any(|d| d.as_str() == id))
            .collect()
    }

    /// Every asset that depends on `id`, directly or transitively, nearest first; within
    /// one depth, in inventory order. Each asset appears once, at its smallest depth.
    pub fn impact(&self, id: &str) -> Vec<Impact> {
        let mut reverse: HashMap<&str, Vec<&AssetId>> = HashMap::new();
        for asset in &self.assets {
            for dep in &asset.depends_on {
                reverse.entry(dep.as_str()).or_default().push(&asset.id);
            }
        }
        let mut seen: HashSet<&str> = HashSet::from([id]);
        let mut queue: VecDeque<(&str, usize)> = VecDeque::from([(id, 0)]);
        let mut out = Vec::new();
        while let Some((current, depth)) = queue.pop_front() {
            let Some(children) = reverse.get(current) else {
                continue;
            };
            for child in children {
                if seen.insert(child.as_str()) {
                    out.push(Impact {
                        asset: (*child).clone(),
                        depth: depth + 1,
                        via: AssetId::parse(current).expect("ids in the graph are valid"),
                    });
                    queue.push_back((child.as_str(), depth + 1));
                }
            }
        }
        out
    }

    /// Every problem in the inventory, in file order within each kind. An empty list
    /// means the inventory is usable.
    /// The category called `name`: the user's declaration, else a built-in one.
    pub fn category(&self, name: &str) -> Option<crate::DataCategory> {
        self.categories
            .iter()
            .find(|c| c.name == name)
            .cloned()
            .or_else(|| crate::DataCategory::built_in(name))
    }

    /// Every category: the built-in ones (as declared, if they are), then the user's own.
    pub fn all_categories(&self) -> Vec<crate::DataCategory> {
        let mut all: Vec<crate::DataCategory> = crate::BUILT_IN_CATEGORIES
            .iter()
            .filter_map(|(name, ..)| self.category(name))
            .collect();
        for c in &self.categories {
            if !all.iter().any(|a| a.name == c.name) {
                all.push(c.clone());
            }
        }
        all
    }

    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut push = |field, kind| problems.push(Problem { field, kind });
        let (site_ids, repo_ids) = self.site_and_repository_problems(&mut push);
        let policy_ids = self.policy_problems(&repo_ids, &mut push);
        let known = Known {
            sites: site_ids,
            policies: policy_ids,
            assets: self.asset_id_problems(&mut push),
        };
        self.asset_problems(&known, &mut push);
        self.category_problems(&mut push);
        self.cycle_problems(&mut push);
        self.host_problems(&mut push);
        problems
    }

    /// Assets on other hosts: their agent reads their repository, which must then hold
    /// that host's data only; devices stay with the server.
    fn host_problems(&self, push: &mut dyn FnMut(Field, ProblemKind)) {
        // Who keeps points in each repository: a host, or the server ("the server").
        let mut keepers: std::collections::BTreeMap<&str, std::collections::BTreeSet<String>> =
            Default::default();
        for asset in self.assets.iter().filter(|a| !a.datasets.is_empty()) {
            let Some(policy) = self.policy_of(asset) else {
                continue;
            };
            let who = match asset.host() {
                Some(h) => format!("host `{h}`"),
                None => "the server".to_string(),
            };
            for repo in std::iter::once(&policy.repository).chain(&policy.copy_to) {
                keepers
                    .entry(repo.as_str())
                    .or_default()
                    .insert(who.clone());
            }
        }
        for (i, asset) in self.assets.iter().enumerate() {
            let Some(host) = asset.host() else { continue };
            for (j, set) in asset.datasets.iter().enumerate() {
                if matches!(set.source, crate::DataSource::Device { .. }) {
                    push(
                        Field::AssetDataSet { asset: i, index: j },
                        ProblemKind::DeviceOnHost {
                            host: host.to_string(),
                        },
                    );
                }
            }
            let Some(policy) = self.policy_of(asset).filter(|_| !asset.datasets.is_empty()) else {
                continue;
            };
            let me = format!("host `{host}`");
            let others: Vec<String> = keepers
                .get(policy.repository.as_str())
                .into_iter()
                .flatten()
                .filter(|w| **w != me)
                .cloned()
                .collect();
            if !others.is_empty() {
                push(
                    Field::AssetPolicy(i),
                    ProblemKind::RepositoryShared {
                        repository: policy.repository.to_string(),
                        host: host.to_string(),
                        others,
                    },
                );
            }
        }
    }

    /// Sites and repositories declared twice; the ids of each.
    fn site_and_repository_problems(
        &self,
        push: &mut dyn FnMut(Field, ProblemKind),
    ) -> (HashSet<&str>, HashSet<&str>) {
        let mut site_ids = HashSet::new();
        for (i, site) in self.sites.iter().enumerate() {
            if !site_ids.insert(site.id.as_str()) {
                push(
                    Field::SiteId(i),
                    ProblemKind::DuplicateSite(site.id.clone()),
                );
            }
        }
        let mut repo_ids = HashSet::new();
        for (i, repo) in self.repositories.iter().enumerate() {
            if !repo_ids.insert(repo.id.as_str()) {
                push(
                    Field::RepositoryId(i),
                    ProblemKind::DuplicateRepository(repo.id.to_string()),
                );
            }
        }
        (site_ids, repo_ids)
    }

    /// Policies declared twice or naming unknown repositories; the policy ids.
    fn policy_problems(
        &self,
        repo_ids: &HashSet<&str>,
        push: &mut dyn FnMut(Field, ProblemKind),
    ) -> HashSet<&str> {
        let mut policy_ids = HashSet::new();
        for (i, policy) in self.policies.iter().enumerate() {
            if !policy_ids.insert(policy.id.as_str()) {
                push(
                    Field::PolicyId(i),
                    ProblemKind::DuplicatePolicy(policy.id.clone()),
                );
            }
            if !repo_ids.contains(policy.repository.as_str()) {
                push(
                    Field::PolicyRepository(i),
                    ProblemKind::UnknownRepository(policy.repository.to_string()),
                );
            }
            for (j, copy) in policy.copy_to.iter().enumerate() {
                let field = Field::PolicyCopyTo {
                    policy: i,
                    index: j,
                };
                if copy == &policy.repository {
                    push(field, ProblemKind::CopyToItself(copy.to_string()));
                } else if !repo_ids.contains(copy.as_str()) {
                    push(field, ProblemKind::UnknownRepository(copy.to_string()));
                }
            }
        }
        if let Some(default) = &self.default_policy
            && !policy_ids.contains(default.as_str())
        {
            push(
                Field::DefaultPolicy,
                ProblemKind::UnknownPolicy(default.to_string()),
            );
        }

        policy_ids
    }

    fn asset_id_problems(&self, push: &mut dyn FnMut(Field, ProblemKind)) -> HashSet<&str> {
        let mut asset_ids = HashSet::new();
        for (i, asset) in self.assets.iter().enumerate() {
            if !asset_ids.insert(asset.id.as_str()) {
                push(
                    Field::AssetId(i),
                    ProblemKind::DuplicateAsset(asset.id.clone()),
                );
            }
        }
        asset_ids
    }

    /// What each asset names (site, dependencies, policy) must exist; its data sets are
    /// named once; its RPO must be one its policy can meet.
    fn asset_problems(&self, known: &Known<'_>, push: &mut dyn FnMut(Field, ProblemKind)) {
        for (i, asset) in self.assets.iter().enumerate() {
            if !known.sites.contains(asset.site.as_str()) {
                push(
                    Field::AssetSite(i),
                    ProblemKind::UnknownSite(asset.site.to_string()),
                );
            }
            for (j, dep) in asset.depends_on.iter().enumerate() {
                let field = Field::AssetDependsOn { asset: i, index: j };
                if dep == &asset.id {
                    push(field, ProblemKind::SelfDependency);
                } else if !known.assets.contains(dep.as_str()) {
                    push(field, ProblemKind::UnknownDependency(dep.to_string()));
                }
            }
            let mut names = HashSet::new();
            for (j, set) in asset.datasets.iter().enumerate() {
                if !names.insert(set.name.as_str()) {
                    push(
                        Field::AssetDataSet { asset: i, index: j },
                        ProblemKind::DuplicateDataSet(set.name.clone()),
                    );
                }
            }
            if let Some(policy_id) = &asset.policy
                && !known.policies.contains(policy_id.as_str())
            {
                push(
                    Field::AssetPolicy(i),
                    ProblemKind::UnknownPolicy(policy_id.to_string()),
                );
            }
            if let Some(rpo) = asset.rpo {
                match self.policy_of(asset) {
                    _ if asset.datasets.is_empty() => {
                        push(Field::AssetRpo(i), ProblemKind::RpoWithoutBackup { rpo });
                    }
                    Some(policy) => {
                        if let Some(kind) = rpo_problem(rpo, policy) {
                            push(Field::AssetRpo(i), kind);
                        }
                    }
                    // An unknown policy is reported above; no policy at all is a warning.
                    None if asset.policy.is_some() => {}
                    None => push(Field::AssetRpo(i), ProblemKind::RpoWithoutBackup { rpo }),
                }
            }
        }
    }

    /// Data categories declared twice or with bounds upside down, and data sets whose
    /// category is unknown or breached by their policy.
    fn category_problems(&self, push: &mut dyn FnMut(Field, ProblemKind)) {
        let mut category_names = HashSet::new();
        for (i, category) in self.categories.iter().enumerate() {
            if !category_names.insert(category.name.as_str()) {
                push(
                    Field::Category(i),
                    ProblemKind::DuplicateCategory(category.name.clone()),
                );
            }
            if let (Some(min), Some(max)) = (category.min_retention, category.max_retention)
                && min > max
            {
                push(Field::Category(i), ProblemKind::CategoryBounds { min, max });
            }
        }
        for (i, asset) in self.assets.iter().enumerate() {
            for (j, set) in asset.datasets.iter().enumerate() {
                let Some(name) = &set.category else { continue };
                let field = Field::DataSetCategory { asset: i, index: j };
                let Some(category) = self.category(name) else {
                    push(field, ProblemKind::UnknownCategory(name.clone()));
                    continue;
                };
                let Some(policy) = self.policy_of(asset) else {
                    continue;
                };
                if let Err(breach) =
                    category.check(&policy.retention, policy.schedule.longest_gap())
                {
                    push(
                        field,
                        ProblemKind::CategoryBreach {
                            category: name.clone(),
                            policy: policy.id.clone(),
                            breach,
                        },
                    );
                }
            }
        }
    }

    fn cycle_problems(&self, push: &mut dyn FnMut(Field, ProblemKind)) {
        for cycle in self.cycles() {
            let (first, next) = (&cycle[0], &cycle[1]);
            // The asset (of that id: ids may be duplicated) whose dependency closes it.
            let found = self.assets.iter().enumerate().find_map(|(i, a)| {
                let index = a.depends_on.iter().position(|d| d == next)?;
                (&a.id == first).then_some((i, index))
            });
            let Some((i, index)) = found else { continue };
            push(
                Field::AssetDependsOn { asset: i, index },
                ProblemKind::Cycle(cycle),
            );
        }
    }

    /// Dependency cycles, each as a closed path starting and ending with its member that
    /// comes first in the inventory. Self-dependencies are reported separately.
    pub(crate) fn cycles(&self) -> Vec<Vec<AssetId>> {
        let mut graph: DiGraph<usize, ()> = DiGraph::new();
        let mut index: HashMap<&str, NodeIndex> = HashMap::new();
        for (i, asset) in self.assets.iter().enumerate() {
            index
                .entry(asset.id.as_str())
                .or_insert_with(|| graph.add_node(i));
        }
        for asset in &self.assets {
            let from = index[asset.id.as_str()];
            for dep in &asset.depends_on {
                if let Some(&to) = index.get(dep.as_str())
                    && to != from
                {
                    graph.add_edge(from, to, ());
                }
            }
        }
        let mut cycles = Vec::new();
        for component in petgraph::algo::tarjan_scc(&graph) {
            if component.len() < 2 {
                continue;
            }
            let members: HashSet<NodeIndex> = component.iter().copied().collect();
            let start = *component
                .iter()
                .min_by_key(|n| graph[**n])
                .expect("component is not empty");
            cycles.push(self.cycle_path(&graph, start, &members));
        }
        cycles.sort_by_key(|c| {
            self.assets
                .iter()
                .position(|a| a.id == c[0])
                .unwrap_or(usize::MAX)
        });
        cycles
    }

    /// A shortest path from `start` back to itself inside one strongly connected component,
    /// following dependencies in declaration order.
    fn cycle_path(
        &self,
        graph: &DiGraph<usize, ()>,
        start: NodeIndex,
        members: &HashSet<NodeIndex>,
    ) -> Vec<AssetId> {
        let id_of = |n: NodeIndex| self.assets[graph[n]].id.clone();
        let successors = |n: NodeIndex| -> Vec<NodeIndex> {
            let mut next: Vec<NodeIndex> =
                graph.neighbors(n).filter(|m| members.contains(m)).collect();
            next.sort_by_key(|m| graph[*m]);
            next
        };
        let mut parent: HashMap<NodeIndex, NodeIndex> = HashMap::new();
        let mut queue = VecDeque::from([start]);
        while let Some(n) = queue.pop_front() {
            for m in successors(n) {
                if m == start {
                    // Walk back from `n` to `start`, then read the path forwards.
                    let mut path = vec![id_of(n)];
                    let mut cur = n;
                    while cur != start {
                        cur = parent[&cur];
                        path.push(id_of(cur));
                    }
                    path.reverse();
                    path.push(id_of(start));
                    return path;
                }
                if let std::collections::hash_map::Entry::Vacant(e) = parent.entry(m) {
                    e.insert(n);
                    queue.push_back(m);
                }
            }
        }
        vec![id_of(start), id_of(start)]
    }
}

fn rpo_problem(rpo: Interval, policy: &Policy) -> Option<ProblemKind> {
    let gap = policy.schedule.longest_gap();
    // No guaranteed gap (a manual schedule) can never promise an RPO either.
    let never_met = gap.is_none_or(|gap| gap > rpo);
    never_met.then(|| ProblemKind::RpoNeverMet {
        rpo,
        policy: policy.id.clone(),
        schedule: policy.schedule.to_string(),
        gap,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Category, Criticality, DataSet, DataSource, RepoBackend, RepoId};
    use crate::{Location, Retention, Schedule};

    fn asset(id: &str, deps: &[&str]) -> Asset {
        Asset {
            name: id.to_uppercase(),
            depends_on: deps.iter().map(|d| AssetId::parse(d).unwrap()).collect(),
            ..Asset::new(
                AssetId::parse(id).unwrap(),
                SiteId::parse("hq").unwrap(),
                Category::Server,
                Criticality::Major,
            )
        }
    }

    fn inventory(assets: Vec<Asset>) -> Inventory {
        Inventory {
            sites: vec![Site {
                id: SiteId::parse("hq").unwrap(),
                name: "HQ".into(),
                address: None,
                contact: None,
            }],
            assets,
            policies: vec![Policy {
                id: PolicyId::parse("daily").unwrap(),
                schedule: Schedule::parse("daily at 02:00").unwrap(),
                retention: Retention::seed_default(),
                repository: RepoId::parse("local").unwrap(),
                copy_to: vec![],
                drill_every: Interval::from_days(90),
            }],
            repositories: vec![Repository {
                id: RepoId::parse("local").unwrap(),
                backend: RepoBackend::Local {
                    path: "repo".into(),
                },
                password_file: Some("key".into()),
                password_env: None,
                password_command: None,
                password_secret: None,
                rotate_every: None,
                medium: "disk".into(),
                location: Location::OnSite,
                immutable: None,
            }],
            default_policy: Some(PolicyId::parse("daily").unwrap()),
            notifiers: vec![],
            contacts: vec![],
            categories: vec![],
            device_models: vec![],
            hosts: vec![],
        }
    }

    #[test]
    fn a_valid_inventory_has_no_problem() {
        let inv = inventory(vec![asset("router", &[]), asset("mail", &["router"])]);
        assert!(inv.validate().is_empty());
    }

    #[test]
    fn unknown_and_self_dependencies_point_at_the_entry() {
        let inv = inventory(vec![
            asset("router", &["router"]),
            asset("mail", &["rooter"]),
        ]);
        let problems = inv.validate();
        assert_eq!(problems.len(), 2);
        assert_eq!(problems[0].kind, ProblemKind::SelfDependency);
        assert_eq!(
            problems[1].field,
            Field::AssetDependsOn { asset: 1, index: 0 }
        );
        assert_eq!(problems[1].kind.to_string(), "unknown asset `rooter`");
    }

    #[test]
    fn a_cycle_names_every_asset_on_it_once() {
        let inv = inventory(vec![
            asset("zabbix", &[]),
            asset("router", &["switch"]),
            asset("switch", &["vpn"]),
            asset("vpn", &["router", "zabbix"]),
        ]);
        let problems = inv.validate();
        assert_eq!(problems.len(), 1);
        assert_eq!(
            problems[0].kind.to_string(),
            "dependency cycle: router → switch → vpn → router"
        );
        assert_eq!(
            problems[0].field,
            Field::AssetDependsOn { asset: 1, index: 0 }
        );
    }

    #[test]
    fn a_cycle_through_a_duplicated_id_points_at_the_dependency_that_closes_it() {
        let inv = inventory(vec![
            asset("router", &[]),
            asset("switch", &["router"]),
            asset("router", &["switch"]),
        ]);
        let cycle = inv
            .validate()
            .into_iter()
            .find(|p| matches!(p.kind, ProblemKind::Cycle(_)))
            .expect("a cycle");
        assert_eq!(cycle.field, Field::AssetDependsOn { asset: 2, index: 0 });
    }

    #[test]
    fn duplicate_ids_are_reported_at_the_second_declaration() {
        let inv = inventory(vec![asset("router", &[]), asset("router", &[])]);
        let problems = inv.validate();
        assert_eq!(problems[0].field, Field::AssetId(1));
    }

    #[test]
    fn an_rpo_shorter_than_the_schedule_gap_is_refused() {
        let mut mail = asset("mail", &[]);
        mail.rpo = Some(Interval::from_hours(4));
        mail.datasets.push(DataSet {
            name: "mailboxes".into(),
            source: DataSource::Paths {
                paths: vec!["data".into()],
                exclude: vec![],
            },
            category: None,
            pre_hook: None,
            post_hook: None,
            drill_check: None,
            drill_timeout: Interval::from_secs(600),
        });
        let problems = inventory(vec![mail.clone()]).validate();
        assert_eq!(
            problems[0].kind.to_string(),
            "RPO 4h can never be met: policy `daily` runs `daily at 02:00`, up to 24h apart"
        );
        mail.rpo = Some(Interval::from_days(1));
        assert!(inventory(vec![mail]).validate().is_empty());
    }

    #[test]
    fn impact_walks_dependents_transitively_nearest_first() {
        let inv = inventory(vec![
            asset("router", &[]),
            asset("switch", &["router"]),
            asset("cam-1", &["switch"]),
            asset("vpn", &["router"]),
            asset("nvr", &["switch", "vpn"]),
        ]);
        let impact: Vec<(String, usize)> = inv
            .impact("router")
            .into_iter()
            .map(|i| (i.asset.to_string(), i.depth))
            .collect();
        assert_eq!(
            impact,
            vec![
                ("switch".into(), 1),
                ("vpn".into(), 1),
                ("cam-1".into(), 2),
                ("nvr".into(), 2)
            ]
        );
        assert!(inv.impact("cam-1").is_empty());
    }
}
