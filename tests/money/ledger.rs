//! The marketplace's books over HTTP: a sale split between the platform's fee, the owner and a
//! co-instructor; refunds reversing both in proportion; holds releasing to available; payout
//! runs at once making one payout; a payout failing and returning its money; a refund after a
//! payout leaving a negative balance the next sale nets; the backfill of orders paid before
//! the ledger; entries the database refuses to change.

use lyceum::entities::orders;
use lyceum_e2e::{TestApp, db_tests};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbBackend};
use serde_json::{Value, json};
use uuid::Uuid;

/// The shop's balance in USD as the owner sees it: `(pending, available, in_transit, paid_out)`.
async fn balance(app: &TestApp, owner: &str) -> (i64, i64, i64, i64) {
    let body = app
        .get("/api/v1/tenants/shop/balance", Some(owner))
        .await
        .expect(200);
    let usd = body["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["currency"] == "USD")
        .unwrap_or_else(|| panic!("no USD balance: {body}"))
        .clone();
    let amount = |field: &str| usd[field]["amount"].as_i64().unwrap();
    (
        amount("pending"),
        amount("available"),
        amount("in_transit"),
        amount("paid_out"),
    )
}

async fn no_hold(app: &TestApp, admin: &str) {
    app.put(
        "/api/v1/admin/tenants/shop/payout-hold",
        Some(admin),
        json!({"days": 0}),
    )
    .await
    .expect(200);
}

async fn refund(
    app: &TestApp,
    owner: &str,
    buyer: &str,
    order: &str,
    amount: Option<i64>,
    status: &str,
) {
    let body = match amount {
        Some(a) => json!({"amount": {"amount": a, "currency": "USD"}}),
        None => json!({}),
    };
    app.post(
        &format!("/api/v1/tenants/shop/orders/{order}/refunds"),
        Some(owner),
        body,
    )
    .await
    .expect(202);
    app.wait_for_status(buyer, order, status).await;
}

fn payee_amount(split: &Value, user: Uuid) -> i64 {
    split["payees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["user_id"] == user.to_string())
        .unwrap_or_else(|| panic!("no part for {user}: {split}"))["amount"]["amount"]
        .as_i64()
        .unwrap()
}

db_tests! {
    async fn a_sale_splits_and_a_refund_reverses_in_proportion(app) {
        let shop = app.shop().await;
        let (co_token, co) = app.register("co@example.com").await;
        let owner_id: Uuid = app.get("/api/v1/me", Some(&shop.owner)).await.expect(200)["id"].as_str().unwrap().parse().unwrap();
        // Shares that do not sum to 10000, or name nobody registered, are refused.
        app.put("/api/v1/tenants/shop/courses/paid/shares", Some(&shop.owner),
            json!({"shares": [{"email": "co@example.com", "bps": 3000}]})).await.expect_problem(422);
        app.put("/api/v1/tenants/shop/courses/paid/shares", Some(&shop.owner),
            json!({"shares": [{"email": "owner@example.com", "bps": 7000}, {"email": "ghost@example.com", "bps": 3000}]})).await.expect_problem(422);
        let shares = app.put("/api/v1/tenants/shop/courses/paid/shares", Some(&shop.owner),
            json!({"shares": [{"email": "owner@example.com", "bps": 7000}, {"email": "co@example.com", "bps": 3000}]})).await.expect(200);
        assert_eq!(shares.as_array().unwrap().len(), 2, "{shares}");
        // Two owners' tabs setting different shares at once: one wins whole, never both.
        let (_, co2) = app.register("co2@example.com").await;
        let puts = [
            json!({"shares": [{"email": "co2@example.com", "bps": 10000}]}),
            json!({"shares": [{"email": "owner@example.com", "bps": 7000}, {"email": "co@example.com", "bps": 3000}]}),
        ]
        .map(|body| app.put("/api/v1/tenants/shop/courses/paid/shares", Some(&shop.owner), body));
        for reply in futures_util::future::join_all(puts).await {
            reply.expect(200);
        }
        let shares = app.get("/api/v1/tenants/shop/courses/paid/shares", Some(&shop.owner)).await.expect(200);
        let total: u64 = shares.as_array().unwrap().iter().map(|s| s["bps"].as_u64().unwrap()).sum();
        assert_eq!(total, 10_000, "{shares}");
        app.put("/api/v1/tenants/shop/courses/paid/shares", Some(&shop.owner),
            json!({"shares": [{"email": "owner@example.com", "bps": 7000}, {"email": "co@example.com", "bps": 3000}]})).await.expect(200);
        // A schedule for someone the storefront does not pay is refused.
        app.put(&format!("/api/v1/tenants/shop/payees/{co2}/schedule"), Some(&shop.owner), json!({"schedule": "monthly"})).await.expect_problem(404);
        // Another storefront's owner may neither read nor set them.
        let admin = app.admin("root@example.com").await;
        let other = app.active_tenant("other", "other@example.com", &admin).await;
        app.get("/api/v1/tenants/shop/courses/paid/shares", Some(&other)).await.expect_problem(403);

        let order = app.buy(&shop.student, "paid").await;
        // 49.00: the fee 10 % = 4.90; the sellers' 44.10 split 30 % to the co-instructor.
        let view = app.get(&format!("/api/v1/tenants/shop/orders/{order}"), Some(&shop.owner)).await.expect(200);
        let split = &view["split"];
        assert_eq!(split["fee"]["amount"], 490, "{view}");
        assert_eq!(payee_amount(split, co), 1323);
        assert_eq!(payee_amount(split, owner_id), 3087);
        assert_eq!(split["settlement"], "platform");
        assert_eq!(split["released"], false);
        // The buyer sees none of it.
        let mine = app.get(&format!("/api/v1/tenants/shop/orders/{order}"), Some(&shop.student)).await.expect(200);
        assert!(mine.get("split").is_none() && mine.get("fee").is_none(), "{mine}");
        assert_eq!(balance(&app, &shop.owner).await, (4410, 0, 0, 0));
        // The co-instructor sees what the storefront owes them, and only that.
        let mine = app.get("/api/v1/me/earnings", Some(&co_token)).await.expect(200);
        assert_eq!((mine[0]["tenant"].as_str(), mine[0]["pending"]["amount"].as_i64()), (Some("shop"), Some(1323)), "{mine}");
        assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
        let books = app.order_books(&order).await;
        assert!(books.contains(&("clearing".into(), None, 4900)), "{books:?}");
        assert!(books.contains(&("platform_fees".into(), None, -490)), "{books:?}");
        assert!(books.contains(&("pending".into(), Some(co), -1323)), "{books:?}");

        // Half back: half the fee and half of each share go back.
        refund(&app, &shop.owner, &shop.student, &order, Some(2450), "partially_refunded").await;
        let view = app.get(&format!("/api/v1/tenants/shop/orders/{order}"), Some(&shop.owner)).await.expect(200);
        assert_eq!(view["split"]["fee"]["amount"], 245, "{view}");
        assert_eq!(payee_amount(&view["split"], co), 661);
        assert_eq!(payee_amount(&view["split"], owner_id), 1544);
        assert_eq!(balance(&app, &shop.owner).await, (2205, 0, 0, 0));
        app.assert_ledger_balanced().await;

        // The admin's view: balanced, the sandbox's clearing account holds what was kept.
        let ledger = app.get("/api/v1/admin/ledger", Some(&admin)).await.expect(200);
        assert_eq!(ledger["balanced"], true, "{ledger}");
        let usd = &ledger["currencies"][0];
        let account = |name: &str| usd["accounts"].as_array().unwrap().iter()
            .find(|a| a["account"] == name).map(|a| a["balance"]["amount"].as_i64().unwrap());
        assert_eq!(account("clearing"), Some(2450), "{ledger}");
        // What the buyer got back passed through `refunds`.
        let refunds = usd["accounts"].as_array().unwrap().iter().find(|a| a["account"] == "refunds").unwrap();
        assert_eq!((refunds["balance"]["amount"].as_i64(), refunds["debits"]["amount"].as_i64()), (Some(0), Some(2450)), "{ledger}");
        assert_eq!(account("platform_fees"), Some(-245), "{ledger}");
        assert_eq!(usd["sum"]["amount"], 0);

        // Revenue: 49.00 in, 24.50 back, 2.45 in fees, 22.05 to the sellers.
        let revenue = app.get("/api/v1/tenants/shop/revenue?by=month", Some(&shop.owner)).await.expect(200);
        let row = &revenue[0];
        assert_eq!((row["gross"]["amount"].as_i64(), row["refunds"]["amount"].as_i64(), row["fees"]["amount"].as_i64(), row["net"]["amount"].as_i64()),
            (Some(4900), Some(2450), Some(245), Some(2205)), "{revenue}");
        let platform = app.get("/api/v1/admin/revenue?by=day", Some(&admin)).await.expect(200);
        assert_eq!(platform[0]["fees"]["amount"], 245, "{platform}");
        let csv = app.get("/api/v1/admin/ledger/entries.csv", Some(&admin)).await;
        assert!(csv.content_type().starts_with("text/csv"), "{}", csv.content_type());
        assert!(csv.text.starts_with("created_at,transaction_id,kind,"), "{}", csv.text);
        assert!(csv.text.contains(",refund,shop,") && csv.text.contains(",platform_fees,"), "{}", csv.text);
        assert!(csv.text.contains("-13.23") || csv.text.contains(",-1323,"), "{}", csv.text);
    }

    async fn payout_runs_at_once_make_one_payout_that_never_exceeds_available(app) {
        let shop = app.shop().await;
        no_hold(&app, &shop.admin).await;
        let order = app.buy(&shop.student, "paid").await;
        assert_eq!(app.get(&format!("/api/v1/tenants/shop/orders/{order}"), Some(&shop.owner)).await.expect(200)["split"]["released"], true);
        assert_eq!(balance(&app, &shop.owner).await, (0, 4410, 0, 0));

        let runs = (0..4).map(|_| app.post("/api/v1/admin/payouts/run", Some(&shop.admin), json!({})));
        let made: usize = futures_util::future::join_all(runs).await.into_iter()
            .map(|r| r.expect(200).as_array().unwrap().len()).sum();
        assert_eq!(made, 1, "four runs at once made {made} payouts");
        let list = app.get("/api/v1/admin/payouts", Some(&shop.admin)).await.expect(200);
        assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
        let payout = &list[0];
        assert_eq!(payout["amount"]["amount"], 4410);
        assert_eq!(payout["status"], "in_transit");
        assert_eq!(payout["payee_email"], "owner@example.com");
        assert_eq!(balance(&app, &shop.owner).await, (0, 0, 4410, 0));
        let csv = app.get("/api/v1/admin/payouts/export.csv", Some(&shop.admin)).await;
        assert!(csv.text.lines().nth(1).is_some_and(|l| l.contains("owner@example.com") && l.contains("44.10")), "{}", csv.text);

        // It fails: the money is available again; a failed payout cannot then be paid.
        let id = payout["id"].as_str().unwrap();
        app.post(&format!("/api/v1/admin/payouts/{id}/failed"), Some(&shop.admin), json!({"reason": "account closed"})).await.expect(200);
        app.post(&format!("/api/v1/admin/payouts/{id}/failed"), Some(&shop.admin), json!({"reason": "again"})).await.expect(200);
        app.post(&format!("/api/v1/admin/payouts/{id}/paid"), Some(&shop.admin), json!({})).await.expect_problem(409);
        assert_eq!(balance(&app, &shop.owner).await, (0, 4410, 0, 0));
        app.assert_ledger_balanced().await;

        // Another payee on a threshold schedule is paid once over it, the same day at most once.
        let (_, co) = app.register("co@example.com").await;
        app.put("/api/v1/tenants/shop/courses/paid/shares", Some(&shop.owner),
            json!({"shares": [{"email": "owner@example.com", "bps": 5000}, {"email": "co@example.com", "bps": 5000}]})).await.expect(200);
        app.put(&format!("/api/v1/tenants/shop/payees/{co}/schedule"), Some(&shop.owner),
            json!({"schedule": "threshold", "threshold": {"amount": 3000, "currency": "USD"}})).await.expect(200);
        app.put(&format!("/api/v1/tenants/shop/payees/{co}/schedule"), Some(&shop.owner),
            json!({"schedule": "threshold"})).await.expect_problem(422);
        let (buyer, _) = app.register("buyer2@example.com").await;
        app.buy(&buyer, "paid").await;
        // 2205 is under the threshold: nothing for the co-instructor yet.
        let made = app.post("/api/v1/admin/payouts/run", Some(&shop.admin), json!({})).await.expect(200);
        assert!(made.as_array().unwrap().iter().all(|p| p["payee_id"] != co.to_string()), "{made}");
        let (buyer, _) = app.register("buyer3@example.com").await;
        app.buy(&buyer, "paid").await;
        let made = app.post("/api/v1/admin/payouts/run", Some(&shop.admin), json!({})).await.expect(200);
        let theirs: Vec<&Value> = made.as_array().unwrap().iter().filter(|p| p["payee_id"] == co.to_string()).collect();
        assert_eq!(theirs.len(), 1, "{made}");
        assert_eq!(theirs[0]["amount"]["amount"], 4410, "{made}");
        let id = theirs[0]["id"].as_str().unwrap();
        let paid = app.post(&format!("/api/v1/admin/payouts/{id}/paid"), Some(&shop.admin), json!({"reference": "SEPA-1"})).await.expect(200);
        assert_eq!((paid["status"].as_str(), paid["reference"].as_str()), (Some("paid"), Some("SEPA-1")));
        app.post(&format!("/api/v1/admin/payouts/{id}/failed"), Some(&shop.admin), json!({"reason": "late"})).await.expect_problem(409);
        app.assert_ledger_balanced().await;
    }

    async fn a_refund_after_payout_goes_negative_and_the_next_sale_nets_it(app) {
        let shop = app.shop().await;
        no_hold(&app, &shop.admin).await;
        let order = app.buy(&shop.student, "paid").await;
        let made = app.post("/api/v1/admin/payouts/run", Some(&shop.admin), json!({})).await.expect(200);
        let id = made[0]["id"].as_str().unwrap().to_owned();
        app.post(&format!("/api/v1/admin/payouts/{id}/paid"), Some(&shop.admin), json!({})).await.expect(200);
        assert_eq!(balance(&app, &shop.owner).await, (0, 0, 0, 4410));

        refund(&app, &shop.owner, &shop.student, &order, None, "refunded").await;
        assert_eq!(balance(&app, &shop.owner).await, (0, -4410, 0, 4410));
        // Nothing is paid out of a negative balance.
        let made = app.post("/api/v1/admin/payouts/run", Some(&shop.admin), json!({})).await.expect(200);
        assert_eq!(made.as_array().unwrap().len(), 0, "{made}");

        let (buyer, _) = app.register("buyer2@example.com").await;
        app.buy(&buyer, "paid").await;
        assert_eq!(balance(&app, &shop.owner).await, (0, 0, 0, 4410));
        app.assert_ledger_balanced().await;
    }

    async fn orders_paid_before_the_ledger_are_backfilled_and_entries_never_change(app) {
        let shop = app.shop().await;
        let order = app.buy(&shop.student, "paid").await;
        let before = app.order_books(&order).await;
        assert!(!before.is_empty());
        let db = &app.state.db;

        // The database refuses to change or delete the books.
        let mut refused = vec![
            "UPDATE ledger_entries SET amount = amount + 1",
            "DELETE FROM ledger_entries",
            "UPDATE ledger_transactions SET kind = 'refund'",
            "DELETE FROM ledger_transactions",
        ];
        if db.get_database_backend() == DbBackend::Postgres {
            refused.extend(["TRUNCATE ledger_entries", "TRUNCATE ledger_transactions CASCADE"]);
        }
        for sql in refused {
            assert!(db.execute_unprepared(sql).await.is_err(), "{sql} went through");
        }

        // As before the ledger: the order's books gone (triggers lifted for the test), the flag
        // the migration sets on such orders.
        let (lift, restore): (&[&str], &[&str]) = match db.get_database_backend() {
            DbBackend::Postgres => (
                &["ALTER TABLE ledger_entries DISABLE TRIGGER USER", "ALTER TABLE ledger_transactions DISABLE TRIGGER USER"],
                &["ALTER TABLE ledger_entries ENABLE TRIGGER USER", "ALTER TABLE ledger_transactions ENABLE TRIGGER USER"],
            ),
            _ => (&["DROP TRIGGER trg_ledger_entries_no_delete", "DROP TRIGGER trg_ledger_transactions_no_delete"], &[
                "CREATE TRIGGER trg_ledger_entries_no_delete BEFORE DELETE ON ledger_entries
                 WHEN EXISTS (SELECT 1 FROM tenants t WHERE t.id = OLD.tenant_id)
                 BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END",
                "CREATE TRIGGER trg_ledger_transactions_no_delete BEFORE DELETE ON ledger_transactions
                 WHEN EXISTS (SELECT 1 FROM tenants t WHERE t.id = OLD.tenant_id)
                 BEGIN SELECT RAISE(ABORT, 'ledger transactions are immutable'); END",
            ]),
        };
        for sql in lift {
            db.execute_unprepared(sql).await.unwrap();
        }
        db.execute_unprepared("DELETE FROM ledger_entries").await.unwrap();
        db.execute_unprepared("DELETE FROM ledger_transactions").await.unwrap();
        for sql in restore {
            db.execute_unprepared(sql).await.unwrap();
        }
        db.execute_unprepared("UPDATE orders SET ledger_backfill = TRUE, hold_until = NULL, released_at = NULL WHERE paid_amount > 0").await.unwrap();
        assert!(app.order_books(&order).await.is_empty());

        lyceum::db::migrate(db).await.unwrap();
        assert_eq!(app.order_books(&order).await, before);
        assert!(!app.order_row(&order).await.ledger_backfill);
        // Again: nothing more.
        lyceum::db::migrate(db).await.unwrap();
        assert_eq!(app.order_books(&order).await, before);
        app.assert_ledger_balanced().await;
    }

    async fn a_co_instructor_of_a_directly_paid_sale_is_owed_by_the_owner_not_the_platform(app) {
        let shop = app.shop().await;
        no_hold(&app, &shop.admin).await;
        let (_, co) = app.register("co@example.com").await;
        app.put("/api/v1/tenants/shop/courses/paid/shares", Some(&shop.owner),
            json!({"shares": [{"email": "owner@example.com", "bps": 5000}, {"email": "co@example.com", "bps": 5000}]})).await.expect(200);
        // An order its provider splits (as Stripe Connect does): the owner's account gets the
        // sellers' part, 44.10, and owes the co-instructor half of it.
        let started = app.checkout(&shop.student, "paid").await;
        let order = started["order"]["id"].as_str().unwrap().to_owned();
        let id: Uuid = order.parse().unwrap();
        orders::ActiveModel {
            id: Set(id.into()),
            settlement: Set(orders::StoredSettlement::Split),
            ..Default::default()
        }
        .update(&app.state.db)
        .await
        .unwrap();
        app.pay(started["redirect_url"].as_str().unwrap(), "4242424242424242").await;
        app.wait_for_status(&shop.student, &order, "paid").await;
        assert_eq!(balance(&app, &shop.owner).await, (0, 0, 0, 4410), "the provider paid the seller");
        let due = |body: &Value, user: Uuid| body["payees"].as_array().unwrap().iter()
            .find(|p| p["user_id"] == user.to_string()).map(|p| p["seller_due"]["amount"].as_i64().unwrap());
        let owner_id: Uuid = app.get("/api/v1/me", Some(&shop.owner)).await.expect(200)["id"].as_str().unwrap().parse().unwrap();
        let body = app.get("/api/v1/tenants/shop/balance", Some(&shop.owner)).await.expect(200);
        assert_eq!((due(&body, co), due(&body, owner_id)), (Some(2205), Some(-2205)), "{body}");
        // The platform holds nothing for them: nobody is paid from its money.
        let made = app.post("/api/v1/admin/payouts/run", Some(&shop.admin), json!({})).await.expect(200);
        assert_eq!(made.as_array().unwrap().len(), 0, "{made}");

        // A sale the platform collects: it owes each of them their half, 22.05.
        let (buyer, _) = app.register("buyer2@example.com").await;
        app.buy(&buyer, "paid").await;
        let made = app.post("/api/v1/admin/payouts/run", Some(&shop.admin), json!({})).await.expect(200);
        let mut paid: Vec<(String, i64)> = made.as_array().unwrap().iter()
            .map(|p| (p["payee_id"].as_str().unwrap().to_owned(), p["amount"]["amount"].as_i64().unwrap())).collect();
        paid.sort();
        let mut want = vec![(co.to_string(), 2205), (owner_id.to_string(), 2205)];
        want.sort();
        assert_eq!(paid, want);
        assert_eq!(balance(&app, &shop.owner).await, (0, 0, 4410, 4410));
        app.assert_ledger_balanced().await;
    }
}
