//! Where repositories really are, whatever their labels say: the 3-2-1 rule counts copies
//! that do not fail together. Two local repositories on one filesystem are one copy on one
//! medium, two remote ones on one host are one place, and a local repository on the
//! workspace's own filesystem is not off-site, however they are declared.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use reprise_domain::{Location, RepoBackend, Repository};
use reprise_workspace::workspace::Workspace;

/// Where one repository lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Place {
    /// A local path, by the filesystem holding it (its device).
    Filesystem(u64),
    /// A remote repository, by its host (`nas.example.org`, `s3.eu-west-3.amazonaws.com`).
    Host(String),
}

/// The places of a workspace's repositories, found once.
#[derive(Debug, Clone, Default)]
pub struct Places {
    of: HashMap<String, Place>,
    /// The filesystem of the workspace itself (where Reprise and, usually, the data are).
    home: Option<u64>,
}

/// The device of `path`, or of its nearest existing parent (a repository not created yet).
fn device(path: &Path) -> Option<u64> {
    path.ancestors()
        .find_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.dev())
}

/// The host of a remote location (`s3:https://host:9000/bucket`, `sftp:user@host:/srv`,
/// `rest:http://host:8000/`), lower-cased, without port or user.
pub(crate) fn host(url: &str) -> Option<String> {
    let rest = url.split_once(':').map_or(url, |(_, r)| r);
    let rest = rest
        .strip_prefix("https://")
        .or_else(|| rest.strip_prefix("http://"))
        .or_else(|| rest.strip_prefix("//"))
        .unwrap_or(rest);
    let authority = rest.split('/').next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        authority.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

impl Places {
    pub fn find(ws: &Workspace, repositories: &[Repository]) -> Self {
        let of = repositories
            .iter()
            .filter_map(|r| {
                let place = match &r.backend {
                    RepoBackend::Local { path } => Place::Filesystem(device(&ws.resolve(path))?),
                    RepoBackend::S3 { url }
                    | RepoBackend::Sftp { url, .. }
                    | RepoBackend::Rest { url } => Place::Host(host(url)?),
                };
                Some((r.id.to_string(), place))
            })
            .collect();
        Self {
            of,
            home: device(&ws.root),
        }
    }

    fn place(&self, id: &str) -> Option<&Place> {
        self.of.get(id)
    }
}

/// What the 3-2-1 rule sees of the copies of one restore point, counting the live data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spread {
    /// Copies that do not share a place, plus the live data.
    pub copies: usize,
    /// Kinds of medium among those, plus production.
    pub media: usize,
    /// A copy truly elsewhere: declared off-site, sharing no place with an on-site copy,
    /// and not on the workspace's own filesystem.
    pub off_site: bool,
    /// What the labels claimed that the places do not bear out, in sentences.
    pub warnings: Vec<String>,
}

/// Judges the repositories holding a restore point by where they really are.
pub fn spread(places: &Places, repos: &[&Repository]) -> Spread {
    // Repositories grouped by place, in the order given; an unknown place is its own.
    let mut groups: Vec<(Option<&Place>, Vec<&Repository>)> = Vec::new();
    for r in repos {
        let place = places.place(r.id.as_str());
        match groups.iter_mut().find(|(p, _)| p.is_some() && *p == place) {
            Some((_, members)) => members.push(r),
            None => groups.push((place, vec![r])),
        }
    }
    let mut warnings = Vec::new();
    let mut media: Vec<&str> = vec!["production"];
    let mut off_site = false;
    for (place, members) in &groups {
        if members.len() > 1 {
            let names: Vec<String> = members.iter().map(|r| format!("`{}`", r.id)).collect();
            warnings.push(match place {
                Some(Place::Host(h)) => format!(
                    "{} are on the same host {h}: counted as one copy",
                    names.join(" and ")
                ),
                _ => format!(
                    "{} are on the same filesystem: counted as one copy",
                    names.join(" and ")
                ),
            });
        }
        media.push(members[0].medium.as_str());
        let declared = members.iter().all(|r| r.location == Location::OffSite);
        let at_home = matches!(place, Some(Place::Filesystem(d)) if Some(*d) == places.home);
        if declared && at_home {
            warnings.push(format!(
                "`{}` is declared off-site but is on the workspace's own filesystem",
                members[0].id
            ));
        } else if members.iter().any(|r| r.location == Location::OffSite) && !declared {
            let claimed: Vec<String> = members
                .iter()
                .filter(|r| r.location == Location::OffSite)
                .map(|r| format!("`{}`", r.id))
                .collect();
            warnings.push(format!(
                "{} {} a place with an on-site copy: not off-site",
                claimed.join(" and "),
                if claimed.len() == 1 {
                    "shares"
                } else {
                    "share"
                }
            ));
        }
        off_site |= declared && !at_home;
    }
    media.sort();
    media.dedup();
    Spread {
        copies: 1 + groups.len(),
        media: media.len(),
        off_site,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(id: &str, medium: &str, location: Location) -> Repository {
        Repository {
            id: reprise_domain::RepoId::parse(id).unwrap(),
            backend: RepoBackend::Local { path: id.into() },
            password_file: None,
            password_env: None,
            password_command: None,
            password_secret: None,
            rotate_every: None,
            medium: medium.into(),
            location,
            immutable: None,
        }
    }

    fn places(of: &[(&str, Place)], home: u64) -> Places {
        Places {
            of: of.iter().map(|(k, p)| (k.to_string(), p.clone())).collect(),
            home: Some(home),
        }
    }

    #[test]
    fn folders_on_one_disk_are_one_copy_whatever_their_labels() {
        let local = repo("local", "disk", Location::OnSite);
        let usb = repo("usb", "usb-disk", Location::OffSite);
        let p = places(
            &[
                ("local", Place::Filesystem(1)),
                ("usb", Place::Filesystem(1)),
            ],
            1,
        );
        let s = spread(&p, &[&local, &usb]);
        assert_eq!((s.copies, s.media, s.off_site), (2, 2, false));
        assert!(s.warnings[0].contains("`local` and `usb` are on the same filesystem"));
        assert!(s.warnings[1].contains("`usb` shares a place with an on-site copy"));
    }

    #[test]
    fn an_off_site_label_on_the_workspace_disk_is_not_believed() {
        let local = repo("local", "disk", Location::OnSite);
        let copy = repo("copy", "usb-disk", Location::OffSite);
        let p = places(
            &[
                ("local", Place::Filesystem(2)),
                ("copy", Place::Filesystem(1)),
            ],
            1,
        );
        let s = spread(&p, &[&local, &copy]);
        assert!(!s.off_site);
        assert!(
            s.warnings[0].contains("workspace's own filesystem"),
            "{:?}",
            s.warnings
        );
    }

    #[test]
    fn separate_places_keep_what_their_labels_say() {
        let local = repo("local", "disk", Location::OnSite);
        let nas = repo("nas", "nas", Location::OnSite);
        let cloud = repo("cloud", "object-storage", Location::OffSite);
        let p = places(
            &[
                ("local", Place::Filesystem(1)),
                ("nas", Place::Host("nas.lan".into())),
                ("cloud", Place::Host("s3.eu-west-3.amazonaws.com".into())),
            ],
            1,
        );
        let s = spread(&p, &[&local, &nas, &cloud]);
        assert_eq!((s.copies, s.media, s.off_site), (4, 4, true));
        assert!(s.warnings.is_empty());
        let p = places(
            &[
                ("nas", Place::Host("h".into())),
                ("cloud", Place::Host("h".into())),
            ],
            1,
        );
        let s = spread(&p, &[&nas, &cloud]);
        assert!(
            s.warnings[0].contains("on the same host h"),
            "{:?}",
            s.warnings
        );
    }

    #[test]
    fn hosts_are_read_from_every_kind_of_location() {
        assert_eq!(
            host("s3:https://S3.example.org:9000/b").as_deref(),
            Some("s3.example.org")
        );
        assert_eq!(
            host("sftp:backup@nas.lan:/srv/restic").as_deref(),
            Some("nas.lan")
        );
        assert_eq!(host("rest:http://[::1]:8000/").as_deref(), Some("::1"));
        assert_eq!(
            host("sftp://backup@nas.lan:22/srv").as_deref(),
            Some("nas.lan")
        );
        assert_eq!(
            host("s3:s3.amazonaws.com/bucket").as_deref(),
            Some("s3.amazonaws.com")
        );
    }
}
