//! The world the storm hits, made over HTTP through both instances: a platform admin, two
//! approved storefronts (one paid through the sandbox, one through Stripe Connect, onboarded on
//! the fake Stripe), published courses, buyers, and one pending order per (buyer, course).

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use futures_util::{StreamExt, TryStreamExt, stream};
use lyceum::entities::orders;
use lyceum_e2e::stripe::FakeStripe;
use reqwest::Method;
use sea_orm::{DatabaseConnection, EntityTrait};
use serde_json::json;
use uuid::Uuid;

use crate::api::{self, expect};
use crate::instances::Shared;

/// Which provider an order is paid through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gw {
    Sandbox,
    Stripe,
}

impl Gw {
    pub fn path(self) -> &'static str {
        match self {
            Self::Sandbox => "/webhooks/sandbox",
            Self::Stripe => "/webhooks/stripe",
        }
    }
}

/// How many of everything.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub buyers: usize,
    pub sandbox_courses: usize,
    pub stripe_courses: usize,
}

/// A pending order, as its checkout left it.
#[derive(Debug, Clone)]
pub struct Order {
    pub id: Uuid,
    pub gateway: Gw,
    pub tenant_slug: &'static str,
    pub tenant_id: Uuid,
    pub course: String,
    pub buyer: usize,
    pub total: i64,
    pub currency: String,
    /// The provider's checkout session (`sbs_…`, `cs_…`).
    pub session: String,
}

#[derive(Debug)]
pub struct World {
    /// Buyers' bearer tokens.
    pub buyers: Vec<String>,
    pub orders: Vec<Order>,
}

pub const SANDBOX_SHOP: &str = "storm";
pub const STRIPE_SHOP: &str = "stripe-storm";
const PASSWORD: &str = "fault check password";

/// Requests in flight while setting up.
const PARALLEL: usize = 8;

/// Builds the world; `bases` are the instances' addresses (requests alternate between them).
pub async fn build(
    client: &reqwest::Client,
    bases: &[String; 2],
    shared: &Shared,
    db: &DatabaseConnection,
    fake: &FakeStripe,
    sizes: Sizes,
) -> Result<World> {
    let a = &bases[0];
    let admin = admin(client, a, shared).await?;
    let sandbox_owner = storefront(client, a, &admin, SANDBOX_SHOP).await?;
    let stripe_owner = storefront(client, a, &admin, STRIPE_SHOP).await?;
    onboard(client, a, fake, &stripe_owner).await?;
    for i in 0..sizes.sandbox_courses {
        course(client, &bases[i % 2], &sandbox_owner, SANDBOX_SHOP, i).await?;
    }
    for i in 0..sizes.stripe_courses {
        course(client, &bases[i % 2], &stripe_owner, STRIPE_SHOP, i).await?;
    }
    let buyers: Vec<String> = stream::iter(0..sizes.buyers)
        .map(|i| register(client, &bases[i % 2], buyer_email(i)))
        .buffered(PARALLEL)
        .try_collect()
        .await?;
    let mut wanted = Vec::new();
    for (shop, gw, courses) in [
        (SANDBOX_SHOP, Gw::Sandbox, sizes.sandbox_courses),
        (STRIPE_SHOP, Gw::Stripe, sizes.stripe_courses),
    ] {
        for course in 0..courses {
            for buyer in 0..sizes.buyers {
                wanted.push((shop, gw, course_slug(course), buyer));
            }
        }
    }
    let buyers = Arc::new(buyers);
    let ids: Vec<Uuid> = stream::iter(wanted.iter().enumerate())
        .map(|(n, (shop, gw, course, buyer))| {
            let buyers = Arc::clone(&buyers);
            async move { checkout(client, &bases[n % 2], &buyers[*buyer], shop, *gw, course).await }
        })
        .buffered(PARALLEL)
        .try_collect()
        .await?;
    let rows = orders::Entity::find().all(db).await?;
    let mut orders = Vec::with_capacity(ids.len());
    for (id, (shop, gw, course, buyer)) in ids.into_iter().zip(wanted) {
        let row = rows
            .iter()
            .find(|r| r.id.into_uuid() == id)
            .with_context(|| format!("order {id} is not in the database"))?;
        orders.push(Order {
            id,
            gateway: gw,
            tenant_slug: shop,
            tenant_id: row.tenant_id.into_uuid(),
            course,
            buyer,
            total: row.total_amount,
            currency: row.currency.clone(),
            session: row
                .session_ref
                .clone()
                .context("an order without a session")?,
        });
    }
    let buyers = Arc::try_unwrap(buyers).unwrap_or_else(|b| (*b).clone());
    Ok(World { buyers, orders })
}

pub fn buyer_email(i: usize) -> String {
    format!("buyer{i}@fault.test")
}

pub fn course_slug(i: usize) -> String {
    format!("course-{i:02}")
}

/// A platform admin made with the CLI on the shared database, signed in.
async fn admin(client: &reqwest::Client, base: &str, shared: &Shared) -> Result<String> {
    let email = "admin@fault.test";
    let out = tokio::process::Command::new(&shared.bin)
        .args(["admin", "create", "--email", email, "--password", PASSWORD])
        .envs(shared.env.iter().map(|(k, v)| (k, v)))
        .output()
        .await?;
    if !out.status.success() {
        bail!(
            "lyceum admin create failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    login(client, base, email).await
}

/// Signs `email` in through `base`; returns a new bearer token.
pub async fn login(client: &reqwest::Client, base: &str, email: &str) -> Result<String> {
    let body = json!({"email": email, "password": PASSWORD});
    let url = format!("{base}/api/v1/auth/login");
    let answer = expect(client, Method::POST, &url, None, Some(&body), 200).await?;
    api::string(&answer, "/token")
}

async fn register(client: &reqwest::Client, base: &str, email: String) -> Result<String> {
    let body = json!({"email": email, "password": PASSWORD, "name": "Fault Check"});
    let url = format!("{base}/api/v1/auth/register");
    let answer = expect(client, Method::POST, &url, None, Some(&body), 201).await?;
    api::string(&answer, "/token")
}

/// An owner, their storefront `slug` (USD), approved; returns the owner's token.
async fn storefront(
    client: &reqwest::Client,
    base: &str,
    admin: &str,
    slug: &str,
) -> Result<String> {
    let owner = register(client, base, format!("owner@{slug}.fault.test")).await?;
    let body = json!({"slug": slug, "name": slug, "currency": "USD"});
    let url = format!("{base}/api/v1/tenants");
    expect(client, Method::POST, &url, Some(&owner), Some(&body), 201).await?;
    let url = format!("{base}/api/v1/admin/tenants/{slug}/approve");
    expect(
        client,
        Method::POST,
        &url,
        Some(admin),
        Some(&json!({})),
        200,
    )
    .await?;
    Ok(owner)
}

/// Opens the Stripe storefront's Express account and has the fake finish its onboarding
/// (`account.updated`, delivered to instance A); from then on the fake only records events,
/// and the storm delivers them.
async fn onboard(
    client: &reqwest::Client,
    base: &str,
    fake: &FakeStripe,
    owner: &str,
) -> Result<()> {
    let url = format!("{base}/api/v1/tenants/{STRIPE_SHOP}/gateways/stripe/onboarding");
    let started = expect(
        client,
        Method::POST,
        &url,
        Some(owner),
        Some(&json!({})),
        201,
    )
    .await?;
    let account = api::string(&started, "/account_id")?;
    fake.set_webhook_target(format!("{base}/webhooks/stripe"));
    let news = fake.complete_onboarding(&account).await;
    if news.status() != Some(200) {
        bail!("account.updated was answered {:?}", news.answers);
    }
    fake.set_enabled_events(Some(Vec::new()));
    Ok(())
}

/// Published course `i` of `shop`; prices differ, so amounts and fees round differently.
async fn course(
    client: &reqwest::Client,
    base: &str,
    owner: &str,
    shop: &str,
    i: usize,
) -> Result<()> {
    let slug = course_slug(i);
    let price = 1900 + 137 * i64::try_from(i)?;
    let body = json!({"slug": slug, "title": format!("Course {i}"),
        "price": {"amount": price, "currency": "USD"}});
    let url = format!("{base}/api/v1/tenants/{shop}/courses");
    expect(client, Method::POST, &url, Some(owner), Some(&body), 201).await?;
    let url = format!("{base}/api/v1/tenants/{shop}/courses/{slug}/publish");
    expect(
        client,
        Method::POST,
        &url,
        Some(owner),
        Some(&json!({})),
        200,
    )
    .await?;
    Ok(())
}

async fn checkout(
    client: &reqwest::Client,
    base: &str,
    buyer: &str,
    shop: &str,
    gw: Gw,
    course: &str,
) -> Result<Uuid> {
    let gateway = match gw {
        Gw::Sandbox => "sandbox",
        Gw::Stripe => "stripe",
    };
    let body = json!({"items": [{"course": course, "quantity": 1}], "gateway": gateway});
    let url = format!("{base}/api/v1/tenants/{shop}/checkout");
    let started = expect(client, Method::POST, &url, Some(buyer), Some(&body), 201).await?;
    Ok(api::string(&started, "/order/id")?.parse()?)
}
