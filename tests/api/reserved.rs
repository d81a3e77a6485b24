//! Names the platform keeps for itself (`www`, `api`, `mail`, …) never become storefronts,
//! and their subdomains are always the platform.

use lyceum::entities::tenants;
use lyceum_e2e::{db_tests, read};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, PaginatorTrait};
use serde_json::json;

db_tests! {
    async fn reserved_slugs_cannot_become_storefronts(app) {
        let (user, user_id) = app.register("owner@example.com").await;
        for slug in ["www", "api", "admin", "app", "static", "assets", "mail", "status", "login", "webhooks", "lyceum"] {
            let p = app.post("/api/v1/tenants", Some(&user), json!({"slug": slug, "name": "Mine", "currency": "USD"})).await.expect_problem(422);
            assert_eq!(p["errors"][0]["field"], "slug", "{p}");
            assert!(p["errors"][0]["message"].as_str().unwrap().contains("reserved"), "{p}");
        }
        assert_eq!(tenants::Entity::find().count(&app.state.db).await.unwrap(), 0);
        // A slug that merely contains a reserved name is fine.
        app.post("/api/v1/tenants", Some(&user), json!({"slug": "www-school", "name": "Mine", "currency": "USD"})).await.expect(201);

        // Even a storefront that got such a name before it was reserved is not served under it:
        // `www.{base domain}` stays the platform's front page.
        tenants::ActiveModel {
            id: Set(uuid::Uuid::now_v7().into()),
            slug: Set("www".into()),
            name: Set("Impostor".into()),
            currency: Set("USD".into()),
            status: Set(tenants::StoredTenantStatus::Active),
            custom_domain: Set(None),
            owner_id: Set(user_id.into()),
            created_at: Set(chrono::Utc::now()),
            approved_at: Set(Some(chrono::Utc::now())),
            pending_domain: Set(None),
            domain_token: Set(None),
            domain_verified_at: Set(None),
            payout_hold_days: Set(None),
            brand_color: Set(None),
        }
        .insert(&app.state.db)
        .await
        .unwrap();
        let page = |host: &'static str| app.client.get(app.url("/")).header("host", host).send();
        let platform = read(page("lyceum.test").await.unwrap()).await;
        let www = read(page("www.lyceum.test").await.unwrap()).await;
        assert_eq!((www.status.as_u16(), platform.status.as_u16()), (200, 200));
        assert_eq!(www.text, platform.text, "www is the platform's own page");
    }
}
