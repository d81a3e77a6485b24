//! Team seats: bought through the same checkout and pipeline as any course, assigned by
//! e-mail (invitations hold seats), never more than bought however many requests race, taken
//! back by refunds and disputes most-recent-first, and run only by the team's managers.

use futures_util::future::join_all;
use lyceum::entities::{outbox, seat_assignments};
use lyceum_e2e::money::{PRICE, Shop};
use lyceum_e2e::{TestApp, db_tests};
use lyceum_gateway_sandbox::DisputeOutcome;
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

const GOOD: &str = "4242424242424242";

/// A team managed by a new account: (manager's token, team id).
async fn team(app: &TestApp, manager: &str) -> (String, String) {
    let (token, _) = app.register(manager).await;
    let team = app
        .post("/api/v1/teams", Some(&token), json!({"name": "Ops"}))
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (token, team)
}

/// Buys `seats` seats of `paid` for `team`, paying with `card`; returns the order id once it
/// reaches `status`.
async fn buy_seats(
    app: &TestApp,
    manager: &str,
    team: &str,
    seats: u32,
    card: &str,
    status: &str,
) -> String {
    let started = app
        .post(
            "/api/v1/tenants/shop/checkout",
            Some(manager),
            json!({"items": [{"course": "paid", "quantity": seats}], "team_id": team}),
        )
        .await
        .expect(201);
    assert_eq!(
        started["order"]["total"]["amount"],
        i64::from(seats) * PRICE
    );
    let order = started["order"]["id"].as_str().unwrap().to_owned();
    let paid = app
        .pay(started["redirect_url"].as_str().unwrap(), card)
        .await;
    assert_eq!(paid.status, 200, "{}", paid.text);
    app.wait_for_status(manager, &order, status).await;
    order
}

fn assignments(team: &str) -> String {
    format!("/api/v1/teams/{team}/seats/shop/paid/assignments")
}

async fn pool(app: &TestApp, manager: &str, team: &str) -> Value {
    let pools = app
        .get(&format!("/api/v1/teams/{team}/seats"), Some(manager))
        .await
        .expect(200);
    assert_eq!(pools.as_array().unwrap().len(), 1, "{pools}");
    pools[0].clone()
}

fn counts(pool: &Value) -> (i64, i64, i64, i64) {
    let n = |f: &str| pool[f].as_i64().unwrap();
    (n("purchased"), n("assigned"), n("pending"), n("available"))
}

async fn refund_seats(app: &TestApp, shop: &Shop, order: &str, seats: u32) -> Value {
    app.post(
        &format!("/api/v1/tenants/shop/orders/{order}/refunds"),
        Some(&shop.owner),
        json!({"quantity": seats}),
    )
    .await
    .expect(202)
}

async fn wait_refunded(app: &TestApp, order: &str, amount: i64) {
    for _ in 0..400 {
        if app.order_row(order).await.refunded_amount == amount {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("order {order} never had {amount} refunded");
}

async fn mails(app: &TestApp, kind: outbox::OutboxKind) -> Vec<Value> {
    outbox::Entity::find()
        .filter(outbox::Column::Kind.eq(kind))
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.payload)
        .collect()
}

db_tests! {
    async fn seats_are_bought_given_claimed_topped_up_and_refunded_most_recent_first(app) {
        let shop = app.shop().await;
        let (manager, team) = team(&app, "manager@example.com").await;
        let (carol, _) = app.register("carol@example.com").await;

        // More than one needs a team, and a team its manager.
        let checkout = "/api/v1/tenants/shop/checkout";
        app.post(checkout, Some(&manager), json!({"items": [{"course": "paid", "quantity": 3}]})).await.expect_problem(422);
        app.post(checkout, Some(&shop.student), json!({"items": [{"course": "paid", "quantity": 3}], "team_id": team})).await.expect_problem(422);
        app.post(checkout, Some(&manager), json!({"items": [{"course": "paid", "quantity": 1001}], "team_id": team})).await.expect_problem(422);
        // A coupon's one use does not price a thousand seats.
        app.post("/api/v1/tenants/shop/coupons", Some(&shop.owner), json!({"code": "HALF", "percent_off": 50})).await.expect(201);
        let coupon = app.post(checkout, Some(&manager), json!({"items": [{"course": "paid", "quantity": 3}], "team_id": team, "coupon": "HALF"})).await.expect_problem(422);
        assert_eq!(coupon["errors"][0]["field"], "coupon", "{coupon}");

        let first = buy_seats(&app, &manager, &team, 3, GOOD, "paid").await;
        let p = pool(&app, &manager, &team).await;
        assert_eq!(counts(&p), (3, 0, 0, 3), "{p}");
        assert_eq!(p["orders"][0]["order_id"], first.as_str());
        // The manager bought seats, not the course.
        assert_eq!(app.access(Some(&manager), "paid").await["access"], false);

        // A registered address gets access at once; an unknown one an invitation holding a seat.
        let given = app.post(&assignments(&team), Some(&manager), json!({"email": "student@example.com"})).await.expect(201);
        assert_eq!(given["status"], "active");
        let access = app.access(Some(&shop.student), "paid").await;
        assert_eq!((access["access"].as_bool(), access["reason"].as_str()), (Some(true), Some("seat")));
        let invited = app.post(&assignments(&team), Some(&manager), json!({"email": "New.Hire@Example.com"})).await.expect(201);
        assert_eq!((invited["status"].as_str(), invited["email"].as_str()), (Some("invited"), Some("new.hire@example.com")));
        app.post(&assignments(&team), Some(&manager), json!({"email": "student@example.com"})).await.expect_problem(409);
        app.post(&assignments(&team), Some(&manager), json!({"email": "carol@example.com"})).await.expect(201);
        assert_eq!(counts(&pool(&app, &manager, &team).await), (3, 2, 1, 0));
        // The pending invitation counts: the fourth address finds no seat.
        let full = app.post(&assignments(&team), Some(&manager), json!({"email": "dave@example.com"})).await.expect_problem(409);
        assert!(full["detail"].as_str().unwrap().contains("no seat is free"), "{full}");
        let invitations = mails(&app, outbox::OutboxKind::SeatInvitation).await;
        assert_eq!(invitations.len(), 1, "only the unknown address is mailed: {invitations:?}");
        assert_eq!(invitations[0]["to"], "new.hire@example.com");

        // Whoever signs in with the invited address takes the seat with the e-mailed link; the
        // link alone is not enough, nor is the address alone.
        let link = invitations[0]["link"].as_str().unwrap();
        let token = link.rsplit('/').next().unwrap();
        assert!(link.contains("/seat-invitations/"), "{link}");
        let accept = format!("/api/v1/seat-invitations/{token}/accept");
        let (new_hire, _) = app.register("new.hire@example.com").await;
        assert_eq!(app.access(Some(&new_hire), "paid").await["access"], false);
        app.post(&accept, Some(&carol), json!({})).await.expect_problem(404);
        app.post("/api/v1/seat-invitations/seat_forged/accept", Some(&new_hire), json!({})).await.expect_problem(404);
        let taken = app.post(&accept, Some(&new_hire), json!({})).await.expect(200);
        assert_eq!(taken["status"], "active");
        app.post(&accept, Some(&new_hire), json!({})).await.expect_problem(404);
        assert_eq!(app.access(Some(&new_hire), "paid").await["reason"], "seat");
        let mine = app.get("/api/v1/me/seats", Some(&new_hire)).await.expect(200);
        assert_eq!((mine[0]["course"].as_str(), mine[0]["team"].as_str(), mine[0]["status"].as_str()), (Some("paid"), Some("Ops"), Some("active")));
        assert_eq!(counts(&pool(&app, &manager, &team).await), (3, 3, 0, 0));

        // The storefront's staff see counts, never addresses.
        let staff = app.get("/api/v1/tenants/shop/seats", Some(&shop.owner)).await;
        assert_eq!(staff.status, 200, "{}", staff.text);
        assert!(!staff.text.contains("@example.com"), "{}", staff.text);
        assert_eq!((staff.body[0]["purchased"].as_i64(), staff.body[0]["assigned"].as_i64(), staff.body[0]["team"].as_str()), (Some(3), Some(3), Some("Ops")));

        // Buying again tops the pool up.
        let second = buy_seats(&app, &manager, &team, 2, GOOD, "paid").await;
        assert_eq!(counts(&pool(&app, &manager, &team).await), (5, 3, 0, 2));

        // Refunding two seats of the first order: the two free seats go, nobody loses theirs.
        let refund = refund_seats(&app, &shop, &first, 2).await;
        assert_eq!(refund["amount"]["amount"], 2 * PRICE);
        wait_refunded(&app, &first, 2 * PRICE).await;
        assert_eq!(counts(&pool(&app, &manager, &team).await), (3, 3, 0, 0));
        for token in [&shop.student, &new_hire, &carol] {
            assert_eq!(app.access(Some(token), "paid").await["access"], true);
        }
        // More seats than the order still pays for cannot be refunded by number.
        app.post(&format!("/api/v1/tenants/shop/orders/{first}/refunds"), Some(&shop.owner), json!({"quantity": 2})).await.expect_problem(422);
        app.post(&format!("/api/v1/tenants/shop/orders/{first}/refunds"), Some(&shop.owner), json!({"quantity": 1, "amount": {"amount": 1, "currency": "USD"}})).await.expect_problem(422);
        // One more: the most recently given seat (Carol's) goes, and the manager is told.
        refund_seats(&app, &shop, &first, 1).await;
        app.wait_for_status(&manager, &first, "refunded").await;
        let p = pool(&app, &manager, &team).await;
        assert_eq!(counts(&p), (2, 2, 0, 0), "{p}");
        assert_eq!(app.access(Some(&carol), "paid").await["access"], false);
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], true);
        assert_eq!(app.access(Some(&new_hire), "paid").await["access"], true);
        let told = mails(&app, outbox::OutboxKind::SeatsTakenBack).await;
        assert_eq!(told.len(), 1, "{told:?}");
        assert_eq!((told[0]["to"].as_str(), told[0]["lost"].clone()), (Some("manager@example.com"), json!(["carol@example.com"])));
        let audit = app.get(&format!("/api/v1/teams/{team}/seats/audit"), Some(&manager)).await.expect(200);
        let refunded = audit.as_array().unwrap().iter().find(|l| l["action"] == "refunded").unwrap();
        assert_eq!((refunded["email"].as_str(), refunded["order_id"].as_str(), refunded.get("actor")), (Some("carol@example.com"), Some(first.as_str()), None));
        let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|l| l["action"].as_str().unwrap()).collect();
        for action in ["assigned", "invited", "claimed", "refunded"] {
            assert!(actions.contains(&action), "{action} missing from {actions:?}");
        }

        // Revoking frees a seat for someone else; the revoked lose access.
        let student_id = shop.student_id;
        app.call(Method::DELETE, &format!("{}/{student_id}", assignments(&team)), Some(&manager), None).await.expect(204);
        app.call(Method::DELETE, &format!("{}/{student_id}", assignments(&team)), Some(&manager), None).await.expect_problem(404);
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], false);
        app.post(&assignments(&team), Some(&manager), json!({"email": "carol@example.com"})).await.expect(201);
        assert_eq!(app.access(Some(&carol), "paid").await["access"], true);

        // The ledger reversed what went back, and balances.
        let books = app.order_books(&second).await;
        assert!(!books.is_empty(), "{books:?}");
        app.assert_ledger_balanced().await;
        // And the reconciler's report finds orders, seats and entitlements agreeing.
        let report = lyceum::services::commerce::reconcile::report(&app.state.db).await.unwrap();
        assert!(report.is_clean(), "{report:?}");
    }

    async fn a_seat_and_a_purchase_are_two_accesses(app) {
        let shop = app.shop().await;
        let (manager, team) = team(&app, "manager@example.com").await;
        buy_seats(&app, &manager, &team, 2, GOOD, "paid").await;
        // A seat first, then a purchase of one's own: both hold, and the purchase outlives the seat.
        let (carol, carol_id) = app.register("carol@example.com").await;
        app.post(&assignments(&team), Some(&manager), json!({"email": "carol@example.com"})).await.expect(201);
        app.buy(&carol, "paid").await;
        app.call(Method::DELETE, &format!("{}/{carol_id}", assignments(&team)), Some(&manager), None).await.expect(204);
        assert_eq!(app.access(Some(&carol), "paid").await["reason"], "purchase");
        // A purchase first, then a seat.
        app.buy(&shop.student, "paid").await;
        app.post(&assignments(&team), Some(&manager), json!({"email": "student@example.com"})).await.expect(201);
        // Revoking the seat leaves the purchase.
        app.call(Method::DELETE, &format!("{}/{}", assignments(&team), shop.student_id), Some(&manager), None).await.expect(204);
        let access = app.access(Some(&shop.student), "paid").await;
        assert_eq!((access["access"].as_bool(), access["reason"].as_str()), (Some(true), Some("purchase")));
        // And a cancelled invitation frees its seat.
        let invited = app.post(&assignments(&team), Some(&manager), json!({"email": "later@example.com"})).await.expect(201);
        let id = invited["id"].as_str().unwrap();
        app.call(Method::DELETE, &format!("/api/v1/teams/{team}/seats/shop/paid/invitations/{id}"), Some(&manager), None).await.expect(204);
        app.call(Method::DELETE, &format!("/api/v1/teams/{team}/seats/shop/paid/invitations/{id}"), Some(&manager), None).await.expect_problem(404);
        assert_eq!(counts(&pool(&app, &manager, &team).await), (2, 0, 0, 2));
        // Someone registering with a cancelled address gets nothing.
        let (later, _) = app.register("later@example.com").await;
        assert_eq!(app.access(Some(&later), "paid").await["access"], false);
        // Giving and taking back in a loop runs out of the pool's daily allowance (20 for two
        // seats), whether the address has an account or not.
        let mut statuses = Vec::new();
        for _ in 0..20 {
            let reply = app.post(&assignments(&team), Some(&manager), json!({"email": "later@example.com"})).await;
            statuses.push(reply.status.as_u16());
            let later_id = reply.body["user_id"].as_str().map(str::to_owned);
            if let Some(id) = later_id {
                app.call(Method::DELETE, &format!("{}/{id}", assignments(&team)), Some(&manager), None).await.expect(204);
            }
        }
        assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 17, "3 given already today, then 17 more: {statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 3, "{statuses:?}");
        app.post(&assignments(&team), Some(&manager), json!({"email": "unknown@example.com"})).await.expect_problem(429);
    }

    async fn fifty_racing_assignments_take_exactly_ten_seats(app) {
        let shop = app.shop().await;
        let (manager, team) = team(&app, "manager@example.com").await;
        buy_seats(&app, &manager, &team, 10, GOOD, "paid").await;
        // Some registered, most not: invitations take seats like holders do.
        let mut emails = vec!["student@example.com".to_owned()];
        for i in 0..4 {
            app.register(&format!("known{i}@example.com")).await;
            emails.push(format!("known{i}@example.com"));
        }
        emails.extend((0..45).map(|i| format!("invitee{i}@example.com")));
        let url = assignments(&team);
        let replies = join_all(emails.iter().map(|email| app.post(&url, Some(&manager), json!({"email": email})))).await;
        let created = replies.iter().filter(|r| r.status == 201).count();
        let refused = replies.iter().filter(|r| r.status == 409).count();
        assert_eq!((created, refused), (10, 40), "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
        let p = pool(&app, &manager, &team).await;
        let (purchased, assigned, pending, available) = counts(&p);
        assert_eq!((purchased, assigned + pending, available), (10, 10, 0), "{p}");
        let live = seat_assignments::Entity::find()
            .filter(seat_assignments::Column::Status.ne("ended"))
            .count(&app.state.db)
            .await
            .unwrap();
        assert_eq!(live, 10);
        let _ = shop;
    }

    async fn disputes_suspend_seats_and_a_lost_one_takes_them(app) {
        let shop = app.shop().await;
        let sandbox = app.state.gateways.sandbox().unwrap().clone();
        // A manager with a long address: the notice of lost seats must still be written.
        let long = format!("manager@{}.{}.{}.example", "a".repeat(60), "b".repeat(60), "c".repeat(60));
        let (manager, team) = team(&app, &long).await;
        buy_seats(&app, &manager, &team, 1, GOOD, "paid").await;
        let order = buy_seats(&app, &manager, &team, 2, GOOD, "paid").await;
        let (bob, _) = app.register("bob@example.com").await;
        let (eve, _) = app.register("eve@example.com").await;
        for email in ["student@example.com", "bob@example.com", "eve@example.com"] {
            app.post(&assignments(&team), Some(&manager), json!({"email": email})).await.expect(201);
        }
        let payment = app.order_row(&order).await.payment_id.unwrap();

        // A dispute of the two-seat order: the two most recent holders are suspended.
        sandbox.dispute(&payment, DisputeOutcome::Open).await.unwrap();
        app.wait_for_status(&manager, &order, "disputed").await;
        let p = pool(&app, &manager, &team).await;
        assert_eq!((p["purchased"].as_i64(), p["held"].as_i64()), (Some(1), Some(2)), "{p}");
        let states: Vec<&str> = p["seats"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap()).collect();
        assert_eq!(states, ["active", "suspended", "suspended"]);
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], true);
        assert_eq!(app.access(Some(&eve), "paid").await["access"], false);
        assert_eq!(app.get("/api/v1/me/seats", Some(&eve)).await.expect(200)[0]["status"], "suspended");
        // Held seats are not free to give.
        app.post(&assignments(&team), Some(&manager), json!({"email": "x@example.com"})).await.expect_problem(409);

        // Won: back. Disputed again and lost: the seats are gone, most recent first.
        sandbox.dispute(&payment, DisputeOutcome::Won).await.unwrap();
        app.wait_for_status(&manager, &order, "paid").await;
        assert_eq!(app.access(Some(&eve), "paid").await["access"], true);
        sandbox.dispute(&payment, DisputeOutcome::Open).await.unwrap();
        app.wait_for_status(&manager, &order, "disputed").await;
        sandbox.dispute(&payment, DisputeOutcome::Lost).await.unwrap();
        app.wait_for_status(&manager, &order, "refunded").await;
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], true);
        for token in [&bob, &eve] {
            assert_eq!(app.access(Some(token), "paid").await["access"], false);
        }
        assert_eq!(counts(&pool(&app, &manager, &team).await), (1, 1, 0, 0));
        // The manager (long address and all) is told whom the lost dispute took.
        let told = mails(&app, outbox::OutboxKind::SeatsTakenBack).await;
        assert_eq!(told.len(), 1, "{told:?}");
        assert_eq!((told[0]["to"].as_str(), told[0]["lost"].clone()), (Some(long.as_str()), json!(["bob@example.com", "eve@example.com"])));
        let audit = app.get(&format!("/api/v1/teams/{team}/seats/audit"), Some(&manager)).await.expect(200);
        let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|l| l["action"].as_str().unwrap()).collect();
        for action in ["suspended", "restored", "refunded"] {
            assert!(actions.contains(&action), "{action} missing from {actions:?}");
        }
        app.assert_ledger_balanced().await;
        let report = lyceum::services::commerce::reconcile::report(&app.state.db).await.unwrap();
        assert!(report.is_clean(), "{report:?}");
    }

    async fn seats_are_priced_by_volume_on_the_server(app) {
        let shop = app.shop().await;
        let (manager, first_team) = team(&app, "manager@example.com").await;
        let tiers = "/api/v1/tenants/shop/courses/paid/seat-tiers";
        app.put(tiers, Some(&shop.student), json!({"tiers": [{"min_seats": 2, "percent_off": 90}]})).await.expect_problem(403);
        app.put(tiers, Some(&shop.owner), json!({"tiers": [{"min_seats": 10, "percent_off": 20}, {"min_seats": 20, "percent_off": 10}]})).await.expect_problem(422);
        let set = app.put(tiers, Some(&shop.owner), json!({"tiers": [{"min_seats": 20, "percent_off": 25}, {"min_seats": 10, "percent_off": 15}]})).await.expect(200);
        assert_eq!(set, json!([{"min_seats": 10, "percent_off": 15}, {"min_seats": 20, "percent_off": 25}]));
        assert_eq!(app.get(tiers, None).await.expect(200), set, "buyers see them");
        let checkout = |seats: u32| json!({"items": [{"course": "paid", "quantity": seats}], "team_id": first_team});
        let nine = app.post("/api/v1/tenants/shop/checkout", Some(&manager), checkout(9)).await.expect(201);
        assert_eq!(nine["order"]["total"]["amount"], 9 * PRICE);
        let (other, other_team) = team(&app, "other@example.com").await;
        let ten = app.post("/api/v1/tenants/shop/checkout", Some(&other), json!({"items": [{"course": "paid", "quantity": 10}], "team_id": other_team})).await.expect(201);
        assert_eq!(ten["order"]["total"]["amount"], 10 * PRICE * 85 / 100);
        let order = ten["order"]["id"].as_str().unwrap().to_owned();
        app.pay(ten["redirect_url"].as_str().unwrap(), GOOD).await;
        app.wait_for_status(&other, &order, "paid").await;
        assert_eq!(counts(&pool(&app, &other, &other_team).await), (10, 0, 0, 10));
        // Refunding seats gives back what they cost at the volume price.
        let refund = refund_seats(&app, &shop, &order, 2).await;
        assert_eq!(refund["amount"]["amount"], 2 * PRICE * 85 / 100);
        // The deepest tier reached counts; changing the tiers leaves orders made as they were.
        let (third, third_team) = team(&app, "third@example.com").await;
        let twenty = app.post("/api/v1/tenants/shop/checkout", Some(&third), json!({"items": [{"course": "paid", "quantity": 20}], "team_id": third_team})).await.expect(201);
        assert_eq!(twenty["order"]["total"]["amount"], 20 * PRICE * 75 / 100);
        app.put(tiers, Some(&shop.owner), json!({"tiers": []})).await.expect(200);
        let kept = app.order_row(twenty["order"]["id"].as_str().unwrap()).await;
        assert_eq!(kept.total_amount, 20 * PRICE * 75 / 100);
        assert!(app.get(tiers, None).await.expect(200).as_array().unwrap().is_empty());
        // A draft's tiers are nobody's business.
        app.post("/api/v1/tenants/shop/courses", Some(&shop.owner), json!({"slug": "draft", "title": "Draft", "price": {"amount": 100, "currency": "USD"}})).await.expect(201);
        app.put("/api/v1/tenants/shop/courses/draft/seat-tiers", Some(&shop.owner), json!({"tiers": [{"min_seats": 5, "percent_off": 5}]})).await.expect(200);
        app.get("/api/v1/tenants/shop/courses/draft/seat-tiers", None).await.expect_problem(404);
    }

    async fn only_a_teams_managers_run_its_seats(app) {
        let shop = app.shop().await;
        let (alice, team_a) = team(&app, "alice@example.com").await;
        let (bob, team_b) = team(&app, "bob@example.com").await;
        buy_seats(&app, &bob, &team_b, 2, GOOD, "paid").await;
        let (member, member_id) = app.register("member@example.com").await;
        app.post(&format!("/api/v1/teams/{team_b}/invitations"), Some(&bob), json!({"email": "member@example.com"})).await.expect(202);
        app.post(&format!("/api/v1/teams/{team_b}/join"), Some(&member), json!({})).await.expect(200);
        app.post(&assignments(&team_b), Some(&bob), json!({"email": "member@example.com"})).await.expect(201);

        // Alice manages team A, not B: refused everywhere in B, and buying for B.
        let b_seats = format!("/api/v1/teams/{team_b}/seats");
        for token in [&alice, &member, &shop.owner, &shop.student] {
            app.get(&b_seats, Some(token)).await.expect_problem(403);
            app.get(&format!("{b_seats}/audit"), Some(token)).await.expect_problem(403);
            app.post(&assignments(&team_b), Some(token), json!({"email": "alice@example.com"})).await.expect_problem(403);
            app.call(Method::DELETE, &format!("{}/{member_id}", assignments(&team_b)), Some(token), None).await.expect_problem(403);
        }
        app.post("/api/v1/tenants/shop/checkout", Some(&alice), json!({"items": [{"course": "paid", "quantity": 2}], "team_id": team_b})).await.expect_problem(422);
        // Her own team has no pool of the course.
        app.post(&assignments(&team_a), Some(&alice), json!({"email": "alice@example.com"})).await.expect_problem(404);
        // Nor cancel B's invitations.
        let invited = app.post(&assignments(&team_b), Some(&bob), json!({"email": "pending@example.com"})).await.expect(201);
        let invitation = format!("/api/v1/teams/{team_b}/seats/shop/paid/invitations/{}", invited["id"].as_str().unwrap());
        app.call(Method::DELETE, &invitation, Some(&alice), None).await.expect_problem(403);
        // The member sees their own seat, not the others'.
        let mine = app.get("/api/v1/me/seats", Some(&member)).await.expect(200);
        assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
        // Another storefront's owner sees none of this storefront's pools.
        let admin = app.admin("root2@example.com").await;
        let other = app.active_tenant("other", "other@example.com", &admin).await;
        app.get("/api/v1/tenants/shop/seats", Some(&other)).await.expect_problem(403);
        app.get("/api/v1/tenants/shop/seats", Some(&shop.student)).await.expect_problem(403);

        // Made a manager, the member runs the seats; stepping down again, no longer.
        app.put(&format!("/api/v1/teams/{team_b}/members/{member_id}"), Some(&bob), json!({"role": "manager"})).await.expect(200);
        app.get(&b_seats, Some(&member)).await.expect(200);
        app.put(&format!("/api/v1/teams/{team_b}/members/{member_id}"), Some(&bob), json!({"role": "member"})).await.expect(200);
        app.get(&b_seats, Some(&member)).await.expect_problem(403);
        let p = pool(&app, &bob, &team_b).await;
        assert_eq!(counts(&p), (2, 1, 1, 0), "nothing the refused callers sent took effect: {p}");
    }
}
