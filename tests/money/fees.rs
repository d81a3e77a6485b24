//! Fee plans: each change is a new version, an order keeps the version (and fee) it was priced
//! with, the fixed part applies to orders with something to pay and never to free ones, the
//! configured default applies without a plan, only platform admins see or set plans, and the
//! migration carries a storefront's old fee over as version 1 and back.

use lyceum::entities::fee_plans;
use lyceum_e2e::{Backend, TestApp, db_tests, spawn_app_with};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

const GOOD_CARD: &str = "4242424242424242";

/// Sets `shop`'s fee plan as `token`; returns the reply.
async fn set_plan(app: &TestApp, token: &str, body: Value) -> lyceum_e2e::Reply {
    app.call(
        Method::PUT,
        "/api/v1/admin/tenants/shop/fee-plan",
        Some(token),
        Some(body),
    )
    .await
}

async fn plans(app: &TestApp, token: &str) -> lyceum_e2e::Reply {
    app.get("/api/v1/admin/tenants/shop/fee-plans", Some(token))
        .await
}

async fn plan_rows(app: &TestApp) -> u64 {
    fee_plans::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap()
}

/// The order as the storefront's owner sees it.
async fn staff_view(app: &TestApp, owner: &str, order: &str) -> Value {
    app.get(&format!("/api/v1/tenants/shop/orders/{order}"), Some(owner))
        .await
        .expect(200)
}

fn field(problem: &Value) -> &str {
    problem["errors"][0]["field"].as_str().unwrap_or_default()
}

db_tests! {
    async fn a_plan_change_is_a_new_version_and_orders_keep_the_one_they_were_priced_with(app) {
        let shop = app.shop().await;
        let admin_id = app.get("/api/v1/me", Some(&shop.admin)).await.expect(200)["id"].clone();

        // Version 1: 7.5 % plus 0.25 USD. 7.5 % of 49.00 is 3.675: an exact half of a cent,
        // rounded to the even 3.68.
        let tenant = set_plan(&app, &shop.admin, json!({"fee_bps": 750, "fixed_fee": {"amount": 25, "currency": "USD"}}))
            .await
            .expect(200);
        assert_eq!(tenant["fee_bps"], 750, "{tenant}");
        assert_eq!(tenant["fixed_fee"], json!({"amount": 25, "currency": "USD"}), "{tenant}");
        let started = app.checkout(&shop.student, "paid").await;
        let first = started["order"]["id"].as_str().unwrap().to_owned();
        let row = app.order_row(&first).await;
        assert_eq!((row.fee_bps, row.fee_fixed_amount, row.fee_amount), (750, 25, Some(368 + 25)));
        let v1 = row.fee_plan_id.expect("priced with the storefront's plan");

        // Version 2: 5 %, no fixed fee. The same terms again add no version.
        set_plan(&app, &shop.admin, json!({"fee_bps": 500})).await.expect(200);
        let again = set_plan(&app, &shop.admin, json!({"fee_bps": 500})).await.expect(200);
        assert_eq!(again["fee_bps"], 500);
        assert_eq!(again["fixed_fee"]["amount"], 0, "{again}");
        assert_eq!(plan_rows(&app).await, 2);

        let other = app.buyer("other@example.com").await;
        let second = app.checkout(&other, "paid").await;
        let second = second["order"]["id"].as_str().unwrap().to_owned();
        let row2 = app.order_row(&second).await;
        assert_eq!((row2.fee_bps, row2.fee_fixed_amount, row2.fee_amount), (500, 0, Some(245)));
        let v2 = row2.fee_plan_id.unwrap();
        assert_ne!(v1, v2);

        // The first order keeps version 1's terms and fee, before and after it is paid.
        let paid = app.pay(started["redirect_url"].as_str().unwrap(), GOOD_CARD).await;
        assert_eq!(paid.status, 200, "{}", paid.text);
        app.wait_for_status(&shop.student, &first, "paid").await;
        let row = app.order_row(&first).await;
        assert_eq!((row.fee_bps, row.fee_fixed_amount, row.fee_amount, row.fee_plan_id), (750, 25, Some(393), Some(v1)));

        // Staff see the fee and the version; the buyer sees neither.
        let seen = staff_view(&app, &shop.owner, &first).await;
        let fee = &seen["fee"];
        assert_eq!(fee["amount"], json!({"amount": 393, "currency": "USD"}), "{seen}");
        assert_eq!((fee["fee_bps"].clone(), fee["fixed_fee"]["amount"].clone()), (json!(750), json!(25)));
        assert_eq!(fee["plan"]["version"], 1, "{seen}");
        assert_eq!(fee["plan"]["id"], v1.to_string());
        assert_eq!(staff_view(&app, &shop.admin, &second).await["fee"]["plan"]["version"], 2);
        let mine = app.get(&format!("/api/v1/tenants/shop/orders/{first}"), Some(&shop.student)).await.expect(200);
        assert!(mine.get("fee").is_none(), "{mine}");
        let listed = app.get("/api/v1/me/orders", Some(&shop.student)).await.expect(200);
        assert!(listed[0].get("fee").is_none(), "{listed}");

        // Every version, newest first, with who set it.
        let versions = plans(&app, &shop.admin).await.expect(200);
        let versions = versions.as_array().unwrap();
        assert_eq!(versions.len(), 2);
        assert_eq!((versions[0]["version"].clone(), versions[0]["fee_bps"].clone()), (json!(2), json!(500)));
        assert_eq!(versions[0]["fixed_fee"], json!({"amount": 0, "currency": "USD"}));
        assert_eq!((versions[1]["version"].clone(), versions[1]["fee_bps"].clone()), (json!(1), json!(750)));
        assert_eq!(versions[1]["fixed_fee"], json!({"amount": 25, "currency": "USD"}));
        assert_eq!(versions[1]["id"], v1.to_string());
        for v in versions {
            assert_eq!(v["set_by"], admin_id, "{v}");
            assert!(v["created_at"].is_string(), "{v}");
        }
        assert!(versions[0]["created_at"].as_str() >= versions[1]["created_at"].as_str());
    }

    async fn a_free_order_pays_no_fee_not_even_the_fixed_part(app) {
        let shop = app.shop().await;
        set_plan(&app, &shop.admin, json!({"fee_bps": 1000, "fixed_fee": {"amount": 100, "currency": "USD"}}))
            .await
            .expect(200);
        app.post("/api/v1/tenants/shop/coupons", Some(&shop.owner), json!({"code": "FREE", "percent_off": 100}))
            .await
            .expect(201);
        let started = app.checkout_with_coupon(&shop.student, "paid", "FREE").await.expect(201);
        assert_eq!(started["order"]["total"]["amount"], 0);
        let order = started["order"]["id"].as_str().unwrap().to_owned();
        let row = app.order_row(&order).await;
        assert_eq!(row.fee_amount, Some(0));
        assert!(row.fee_plan_id.is_some());
        let seen = staff_view(&app, &shop.owner, &order).await;
        assert_eq!(seen["fee"]["amount"]["amount"], 0, "{seen}");
        assert_eq!(seen["fee"]["fixed_fee"]["amount"], 100, "the terms it was priced with");
    }

    async fn fee_plans_are_for_platform_admins_only(app) {
        let shop = app.shop().await;
        for token in [&shop.owner, &shop.student] {
            set_plan(&app, token, json!({"fee_bps": 1})).await.expect_problem(403);
            plans(&app, token).await.expect_problem(403);
        }
        app.call(Method::PUT, "/api/v1/admin/tenants/shop/fee-plan", None, Some(json!({"fee_bps": 1})))
            .await
            .expect_problem(401);
        app.get("/api/v1/admin/tenants/shop/fee-plans", None).await.expect_problem(401);
        assert_eq!(plan_rows(&app).await, 0);
        assert_eq!(plans(&app, &shop.admin).await.expect(200), json!([]));
    }

    async fn a_fixed_fee_in_another_currency_or_out_of_range_is_refused(app) {
        let shop = app.shop().await;
        let cases = [
            (json!({"fee_bps": 500, "fixed_fee": {"amount": 25, "currency": "EUR"}}), "fixed_fee.currency"),
            (json!({"fee_bps": 500, "fixed_fee": {"amount": 25, "currency": "XYZ"}}), "fixed_fee.currency"),
            (json!({"fee_bps": 500, "fixed_fee": {"amount": -1, "currency": "USD"}}), "fixed_fee.amount"),
            (json!({"fee_bps": 500, "fixed_fee": {"amount": 100_000_000_001_i64, "currency": "USD"}}), "fixed_fee.amount"),
            (json!({"fee_bps": 10_001}), "fee_bps"),
        ];
        for (body, named) in cases {
            let refused = set_plan(&app, &shop.admin, body.clone()).await.expect_problem(422);
            assert_eq!(field(&refused), named, "{body}: {refused}");
        }
        assert_eq!(plan_rows(&app).await, 0, "nothing refused was written");
    }

    async fn fees_in_zero_and_three_decimal_currencies_follow_the_same_rule(app) {
        // 2.5 % of 4 999 yen is 124.975 yen: 125. A fixed fee of 30 yen on top.
        let shop = app.shop_priced("JPY", 4_999).await;
        let refused = set_plan(&app, &shop.admin, json!({"fee_bps": 250, "fixed_fee": {"amount": 30, "currency": "USD"}}))
            .await
            .expect_problem(422);
        assert_eq!(field(&refused), "fixed_fee.currency");
        set_plan(&app, &shop.admin, json!({"fee_bps": 250, "fixed_fee": {"amount": 30, "currency": "JPY"}}))
            .await
            .expect(200);
        let started = app.checkout(&shop.student, "paid").await;
        let row = app.order_row(started["order"]["id"].as_str().unwrap()).await;
        assert_eq!((row.currency.as_str(), row.fee_amount), ("JPY", Some(125 + 30)));
    }

    async fn the_version_an_order_names_must_be_its_own_storefronts(app) {
        use sea_orm::{ActiveModelTrait, ActiveValue::Set};
        let shop = app.shop().await;
        set_plan(&app, &shop.admin, json!({"fee_bps": 500})).await.expect(200);
        let other = app.active_tenant("other", "other@example.com", &shop.admin).await;
        assert!(!other.is_empty());
        app.call(Method::PUT, "/api/v1/admin/tenants/other/fee-plan", Some(&shop.admin), Some(json!({"fee_bps": 300})))
            .await
            .expect(200);
        let theirs = fee_plans::Entity::find()
            .filter(fee_plans::Column::FeeBps.eq(300))
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap();
        let started = app.checkout(&shop.student, "paid").await;
        let stored = app.order_row(started["order"]["id"].as_str().unwrap()).await;
        let own = stored.fee_plan_id.unwrap();
        let mut row: lyceum::entities::orders::ActiveModel = stored.into();
        row.fee_plan_id = Set(Some(theirs.id));
        assert!(row.clone().update(&app.state.db).await.is_err(), "another storefront's plan is refused by the database");
        row.fee_plan_id = Set(None);
        row.clone().update(&app.state.db).await.expect("no plan is allowed");
        row.fee_plan_id = Set(Some(own));
        row.update(&app.state.db).await.expect("its own storefront's plan is allowed");
        // A plan an order names is never deleted from under it.
        assert!(fee_plans::Entity::delete_by_id(own).exec(&app.state.db).await.is_err(), "the order's plan stays");
    }

    async fn the_migration_carries_the_fee_over_as_version_one_and_back(app) {
        use lyceum_migrations::{Migrator, MigratorTrait};
        use sea_orm::{ConnectionTrait, Statement};
        let shop = app.shop().await;
        set_plan(&app, &shop.admin, json!({"fee_bps": 750, "fixed_fee": {"amount": 25, "currency": "USD"}})).await.expect(200);
        set_plan(&app, &shop.admin, json!({"fee_bps": 500})).await.expect(200);
        let before = app.checkout(&shop.student, "paid").await;
        let before = before["order"]["id"].as_str().unwrap().to_owned();

        let migrations = Migrator::migrations();
        let mine = migrations.iter().position(|m| m.name() == "m20261129_000007_fee_plans").unwrap();
        let db = &app.state.db;
        Migrator::down(db, Some(u32::try_from(migrations.len() - mine).unwrap())).await.unwrap();
        // Before versions, a storefront's fee was one column: it gets the newest version's.
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), "SELECT fee_bps FROM tenants WHERE slug = 'shop'"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get_by_index::<Option<i32>>(0).unwrap(), Some(500));

        Migrator::up(db, None).await.unwrap();
        let rows = fee_plans::Entity::find().all(db).await.unwrap();
        assert_eq!(rows.len(), 1, "{rows:?}");
        let v1 = &rows[0];
        assert_eq!((v1.version, v1.fee_bps, v1.fixed_fee_amount, v1.currency.as_str(), v1.created_by), (1, 500, 0, "USD", None));
        assert_eq!(v1.id.into_uuid(), shop.tenant_id, "the carried-over version has its storefront's id");
        // Orders from before carry their terms and fee, and no version.
        let old = app.order_row(&before).await;
        assert_eq!((old.fee_bps, old.fee_amount, old.fee_fixed_amount, old.fee_plan_id), (500, Some(245), 0, None));

        // The carried-over version is the plan in force.
        let buyer = app.buyer("after@example.com").await;
        let after = app.checkout(&buyer, "paid").await;
        let after = app.order_row(after["order"]["id"].as_str().unwrap()).await;
        assert_eq!((after.fee_amount, after.fee_plan_id), (Some(245), Some(v1.id)));
        let versions = plans(&app, &shop.admin).await.expect(200);
        assert_eq!(versions.as_array().unwrap().len(), 1, "{versions}");
        assert!(versions[0].get("set_by").is_none(), "{versions}");
    }
}

/// The configured default, without a plan of the storefront's own: no version on the order.
async fn the_configured_default_applies_without_a_plan(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.default_fee_bps = 250;
        s.default_fee_fixed = 30;
    })
    .await
    else {
        return;
    };
    let shop = app.shop().await;
    let started = app.checkout(&shop.student, "paid").await;
    let order = started["order"]["id"].as_str().unwrap().to_owned();
    let row = app.order_row(&order).await;
    // 2.5 % of 49.00 is 1.225: 1.22 (the even cent), plus 0.30.
    assert_eq!(
        (
            row.fee_bps,
            row.fee_fixed_amount,
            row.fee_amount,
            row.fee_plan_id
        ),
        (250, 30, Some(122 + 30), None)
    );
    let seen = staff_view(&app, &shop.owner, &order).await;
    assert_eq!(seen["fee"]["amount"]["amount"], 152, "{seen}");
    assert!(seen["fee"].get("plan").is_none(), "{seen}");
    let tenant = app
        .get("/api/v1/tenants/shop", Some(&shop.owner))
        .await
        .expect(200);
    assert!(tenant.get("fee_bps").is_none(), "{tenant}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configured_default_applies_without_a_plan_on_sqlite() {
    the_configured_default_applies_without_a_plan(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configured_default_applies_without_a_plan_on_postgres() {
    the_configured_default_applies_without_a_plan(Backend::Postgres).await;
}
