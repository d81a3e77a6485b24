//! casbin RBAC with domains behind a typed wrapper.
//!
//! A handler asks [`Authorizer::authorize`] with who is calling ([`Principal`]), in which
//! [`Domain`], on which resource type (a marker from [`resource`]) and with which action (a
//! marker from [`action`]). The answer is an [`Authorized`] proof typed by both: services that
//! read or change data take the proof for exactly what they do, so a handler that skipped the
//! check, or checked a weaker action, does not compile.

pub mod action;
mod grant;
pub mod resource;

use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use casbin::{CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi};
use lyceum_kernel::ids::{TeamId, TenantId, UserId};
use moka::future::Cache;
use tokio::sync::RwLock;
use uuid::Uuid;

pub use action::Verb;
pub use grant::{Grant, Role, UnknownRole};
pub use resource::{ReadsCourses, Resource};

/// An error of the casbin engine.
pub type EngineError = casbin::Error;

/// The casbin model: request `(sub, dom, obj, act)`, roles granted per domain.
pub const MODEL: &str = include_str!("model.conf");
/// What each role may do, as casbin `p` lines.
pub const PERMISSIONS: &str = include_str!("policy.csv");

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Principal {
    Anonymous,
    User(UserId),
}

impl Principal {
    fn subject(&self) -> String {
        match self {
            Self::Anonymous => "anonymous".to_owned(),
            Self::User(id) => user_subject(*id),
        }
    }
}

fn user_subject(id: UserId) -> String {
    format!("user:{id}")
}

/// Where a permission applies: one tenant, one team, or the platform as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Domain {
    Platform,
    Tenant(TenantId),
    /// A team's own affairs (its seats): its managers hold `team_manager` here.
    Team(TeamId),
}

impl Domain {
    fn as_casbin(&self) -> String {
        match self {
            Self::Platform => "*".to_owned(),
            Self::Tenant(id) => format!("tenant:{id}"),
            Self::Team(id) => format!("team:{id}"),
        }
    }

    fn from_casbin(value: &str) -> Option<Self> {
        if value == "*" {
            return Some(Self::Platform);
        }
        if let Some(team) = value.strip_prefix("team:") {
            return Uuid::parse_str(team).ok().map(|id| Self::Team(id.into()));
        }
        value
            .strip_prefix("tenant:")
            .and_then(|id| Uuid::parse_str(id).ok())
            .map(|id| Self::Tenant(id.into()))
    }
}

/// What the caller wants to do with the resource, at run time (the casbin question, the cache
/// key, the error); proofs carry it as a type, a marker of [`action`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Read,
    Create,
    Update,
    Delete,
    Publish,
    Approve,
}

impl Action {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::Publish => "publish",
            Self::Approve => "approve",
        }
    }
}

/// A refused request.
#[derive(Debug, thiserror::Error)]
pub enum Denied {
    /// The caller did not identify themselves and the action needs a user.
    #[error("sign in to do this")]
    Unauthenticated,
    /// The caller is known and may not do this here.
    #[error("you may not {action} {resource} here")]
    Forbidden {
        action: &'static str,
        resource: &'static str,
    },
    #[error("the authorization engine failed")]
    Engine(#[from] casbin::Error),
}

/// A persisted policy line, as stored in the `casbin_rule` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub ptype: String,
    pub values: Vec<String>,
}

/// Proof that `principal` may do `A` on `R` in `domain`.
///
/// `Authorized<resource::Course, action::Read>` and `Authorized<resource::Course,
/// action::Update>` are different types: a proof answers the one question it was asked.
pub struct Authorized<R, A> {
    principal: Principal,
    domain: Domain,
    marker: PhantomData<(R, A)>,
}

impl<R: Resource, A: Verb> Authorized<R, A> {
    pub fn principal(&self) -> Principal {
        self.principal
    }

    pub fn domain(&self) -> Domain {
        self.domain
    }

    pub fn action(&self) -> Action {
        A::ACTION
    }

    /// The signed-in user, if the proof was given to one.
    pub fn user_id(&self) -> Option<UserId> {
        match self.principal {
            Principal::User(id) => Some(id),
            Principal::Anonymous => None,
        }
    }

    /// Whether this proof covers `tenant`: granted inside it, or platform-wide.
    pub fn covers_tenant(&self, tenant: TenantId) -> bool {
        match self.domain {
            Domain::Tenant(id) => id == tenant,
            Domain::Platform => true,
            Domain::Team(_) => false,
        }
    }

    /// Whether this proof covers `team`: granted inside it, or platform-wide.
    pub fn covers_team(&self, team: TeamId) -> bool {
        match self.domain {
            Domain::Team(id) => id == team,
            Domain::Platform => true,
            Domain::Tenant(_) => false,
        }
    }
}

impl<R: Resource, A: Verb> fmt::Debug for Authorized<R, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorized")
            .field("principal", &self.principal)
            .field("domain", &self.domain)
            .field("resource", &R::NAME)
            .field("action", &A::NAME)
            .finish()
    }
}

/// A question asked of casbin: who, where, what, how.
type Question = (Principal, Domain, &'static str, Action);

/// The casbin enforcer, read-mostly behind a lock, and a cache of its answers: casbin
/// evaluates its matcher on every call (tens of microseconds), while an answer only changes
/// when the policy does.
pub struct Authorizer {
    enforcer: RwLock<Enforcer>,
    /// Answers, tagged with the policy generation they were computed under.
    answers: Cache<Question, (u64, bool)>,
    /// Bumped after every change to the enforcer; answers from older generations are ignored,
    /// so an answer computed while a change was being made can never outlive it.
    generation: AtomicU64,
}

impl fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorizer").finish_non_exhaustive()
    }
}

impl Authorizer {
    /// Builds an enforcer holding exactly `rules` (permissions and grants).
    pub async fn new(rules: Vec<Rule>) -> Result<Self, casbin::Error> {
        Ok(Self {
            enforcer: RwLock::new(build_enforcer(rules).await?),
            answers: Cache::builder()
                .name("authorization")
                .max_capacity(200_000)
                .time_to_live(Duration::from_secs(600))
                .build(),
            generation: AtomicU64::new(0),
        })
    }

    fn policy_changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.answers.invalidate_all();
    }

    /// Replaces every rule at once, e.g. after another process changed the stored grants.
    pub async fn reload(&self, rules: Vec<Rule>) -> Result<(), casbin::Error> {
        let fresh = build_enforcer(rules).await?;
        *self.enforcer.write().await = fresh;
        self.policy_changed();
        Ok(())
    }

    /// Adds a grant to the running enforcer (after it has been stored).
    pub async fn add_grant(&self, grant: &Grant) -> Result<(), casbin::Error> {
        let rule = grant.to_rule();
        self.enforcer
            .write()
            .await
            .add_grouping_policy(rule.values)
            .await?;
        self.policy_changed();
        Ok(())
    }

    /// Removes a grant from the running enforcer (after it has been deleted from storage).
    pub async fn remove_grant(&self, grant: &Grant) -> Result<(), casbin::Error> {
        let rule = grant.to_rule();
        self.enforcer
            .write()
            .await
            .remove_grouping_policy(rule.values)
            .await?;
        self.policy_changed();
        Ok(())
    }

    /// Whether `principal` may do `A` on `R` in `domain`.
    pub async fn authorize<R: Resource, A: Verb>(
        &self,
        principal: &Principal,
        domain: Domain,
    ) -> Result<Authorized<R, A>, Denied> {
        let action = A::ACTION;
        let question = (*principal, domain, R::NAME, action);
        let generation = self.generation.load(Ordering::Acquire);
        let allowed = match self.answers.get(&question).await {
            Some((at, allowed)) if at == generation => allowed,
            // Boxed, so that the enforcer's lock and the insert stay out of the hit's future.
            _ => Box::pin(self.enforce_and_remember(question, generation)).await?,
        };
        if allowed {
            return Ok(Authorized {
                principal: *principal,
                domain,
                marker: PhantomData,
            });
        }
        tracing::debug!(
            ?principal,
            ?domain,
            resource = R::NAME,
            action = action.as_str(),
            "denied"
        );
        match principal {
            Principal::Anonymous => Err(Denied::Unauthenticated),
            Principal::User(_) => Err(Denied::Forbidden {
                action: action.as_str(),
                resource: R::NAME,
            }),
        }
    }

    async fn enforce_and_remember(
        &self,
        question: Question,
        generation: u64,
    ) -> Result<bool, Denied> {
        let (principal, domain, resource, action) = question;
        let allowed = self.enforcer.read().await.enforce((
            principal.subject(),
            domain.as_casbin(),
            resource,
            action.as_str(),
        ))?;
        self.answers.insert(question, (generation, allowed)).await;
        Ok(allowed)
    }

    /// The roles `user` holds in `domain` (not counting platform-wide roles).
    pub async fn roles_in(&self, user: UserId, domain: Domain) -> Vec<Role> {
        let subject = user_subject(user);
        let dom = domain.as_casbin();
        self.enforcer
            .read()
            .await
            .get_filtered_grouping_policy(0, vec![subject])
            .into_iter()
            .filter(|g| g.get(2).is_some_and(|d| *d == dom))
            .filter_map(|g| g.get(1).and_then(|r| r.parse().ok()))
            .collect()
    }
}

/// The permission lines of [`PERMISSIONS`] as rules.
pub fn permission_rules() -> Vec<Rule> {
    PERMISSIONS
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| {
            let mut fields = line.split(',').map(|f| f.trim().to_owned());
            let ptype = fields.next()?;
            Some(Rule {
                ptype,
                values: fields.collect(),
            })
        })
        .collect()
}

async fn build_enforcer(rules: Vec<Rule>) -> Result<Enforcer, casbin::Error> {
    let model = DefaultModel::from_str(MODEL).await?;
    let mut enforcer = Enforcer::new(model, MemoryAdapter::default()).await?;
    let (permissions, grants): (Vec<Rule>, Vec<Rule>) =
        rules.into_iter().partition(|r| r.ptype == "p");
    enforcer
        .add_policies(permissions.into_iter().map(|r| r.values).collect())
        .await?;
    enforcer
        .add_grouping_policies(grants.into_iter().map(|r| r.values).collect())
        .await?;
    Ok(enforcer)
}

#[cfg(test)]
mod tests;
