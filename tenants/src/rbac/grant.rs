//! Roles and their grants to users.

use std::fmt;
use std::str::FromStr;

use lyceum_kernel::ids::UserId;
use uuid::Uuid;

use super::{Domain, Rule, user_subject};

/// The roles of the platform. `PlatformAdmin` is granted in the platform domain and so holds in
/// every tenant; `Student` is granted platform-wide to every registered user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    PlatformAdmin,
    Owner,
    Editor,
    Grader,
    Student,
    TeamManager,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PlatformAdmin => "platform_admin",
            Self::Owner => "owner",
            Self::Editor => "editor",
            Self::Grader => "grader",
            Self::Student => "student",
            Self::TeamManager => "team_manager",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name this build does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "platform_admin" => Ok(Self::PlatformAdmin),
            "owner" => Ok(Self::Owner),
            "editor" => Ok(Self::Editor),
            "grader" => Ok(Self::Grader),
            "student" => Ok(Self::Student),
            "team_manager" => Ok(Self::TeamManager),
            other => Err(UnknownRole(other.to_owned())),
        }
    }
}

/// `user` holds `role` in `domain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub user: UserId,
    pub role: Role,
    pub domain: Domain,
}

impl Grant {
    pub fn new(user: UserId, role: Role, domain: Domain) -> Self {
        Self { user, role, domain }
    }

    /// The `g` rule as stored and as casbin reads it.
    pub fn to_rule(&self) -> Rule {
        Rule {
            ptype: "g".to_owned(),
            values: vec![
                user_subject(self.user),
                self.role.as_str().to_owned(),
                self.domain.as_casbin(),
            ],
        }
    }

    /// Reads a stored `g` rule back; `None` for anything that is not a user grant.
    pub fn from_rule(rule: &Rule) -> Option<Self> {
        if rule.ptype != "g" {
            return None;
        }
        let [subject, role, domain] = rule.values.as_slice() else {
            return None;
        };
        Some(Self {
            user: subject
                .strip_prefix("user:")
                .and_then(|id| Uuid::parse_str(id).ok())
                .map(UserId::from)?,
            role: role.parse().ok()?,
            domain: Domain::from_casbin(domain)?,
        })
    }
}
