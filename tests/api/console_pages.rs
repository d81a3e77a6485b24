//! The team console (`/team`) and the platform admin (`/admin`) in a browser: forms, cookies
//! and redirects only. A manager gives a seat by e-mail and sees the invitation wait; whoever
//! does not manage the team is refused; an admin approves a storefront; storefront owners and
//! students are refused on every admin page; a form without its token changes nothing; an
//! admin replays a logged delivery and nothing is doubled.

use lyceum::entities::{orders, seat_assignments, tenants, webhook_deliveries};
use lyceum_e2e::web::{hidden, location, set_cookie};
use lyceum_e2e::{TestApp, db_tests};
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::json;

const GOOD: &str = "4242424242424242";

/// The platform session cookie of `email`, signed in through the web form.
async fn session(app: &TestApp, email: &str, password: &str) -> String {
    let resp = app.web_sign_in(email, password, "/").await;
    assert_eq!(resp.status(), 303, "{email} signs in");
    set_cookie(&resp, "lyceum_session").expect("a session cookie")
}

/// GETs a page with `cookie`; returns (status, `Location`, body).
async fn get(app: &TestApp, path: &str, cookie: Option<&str>) -> (StatusCode, String, String) {
    send(app, Method::GET, path, cookie, &[]).await
}

/// POSTs a form with `cookie`; returns (status, `Location`, body).
async fn post(
    app: &TestApp,
    path: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String, String) {
    send(app, Method::POST, path, Some(cookie), form).await
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    cookie: Option<&str>,
    form: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let mut req = app
        .client
        .request(method.clone(), app.url(path))
        .header("accept", "text/html");
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    if method == Method::POST {
        req = req.form(form);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let to = if status.is_redirection() {
        location(&resp)
    } else {
        String::new()
    };
    (status, to, resp.text().await.unwrap())
}

/// A team `Ops` managed by `manager@example.com` with `seats` paid seats of the shop's `paid`
/// course: (manager's token, team id).
async fn team_with_seats(app: &TestApp, seats: u32) -> (String, String) {
    let (manager, _) = app.register("manager@example.com").await;
    let team = app
        .post("/api/v1/teams", Some(&manager), json!({"name": "Ops"}))
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = app
        .post(
            "/api/v1/tenants/shop/checkout",
            Some(&manager),
            json!({"items": [{"course": "paid", "quantity": seats}], "team_id": team}),
        )
        .await
        .expect(201);
    let order = started["order"]["id"].as_str().unwrap().to_owned();
    let paid = app
        .pay(started["redirect_url"].as_str().unwrap(), GOOD)
        .await;
    assert_eq!(paid.status, 200, "{}", paid.text);
    app.wait_for_status(&manager, &order, "paid").await;
    (manager, team)
}

async fn live_seats(app: &TestApp) -> Vec<(String, String)> {
    seat_assignments::Entity::find()
        .order_by_asc(seat_assignments::Column::AssignedAt)
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.status.as_str() != "ended")
        .map(|s| (s.email, s.status.as_str().to_owned()))
        .collect()
}

async fn tenant_status(app: &TestApp, slug: &str) -> String {
    tenants::Entity::find()
        .filter(tenants::Column::Slug.eq(slug))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .status
        .as_str()
        .to_owned()
}

db_tests! {
    async fn a_manager_gives_a_seat_by_email_and_sees_the_invitation_pending(app) {
        app.shop().await;
        let (_, team) = team_with_seats(&app, 2).await;
        let cookie = session(&app, "manager@example.com", "correct horse battery").await;

        // The console lists the team from the manager's grant, with its seats in numbers.
        let (status, _, index) = get(&app, "/team", Some(&cookie)).await;
        assert_eq!(status, 200, "{index}");
        assert!(index.contains("Ops") && index.contains(&format!("/team/{team}")), "{index}");
        let (status, _, page) = get(&app, &format!("/team/{team}"), Some(&cookie)).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("Paid course") && page.contains("Give a seat"), "{page}");
        let csrf = hidden(&page, "csrf");

        // An address nobody registered with: the invitation holds the seat, pending.
        let assign = format!("/team/{team}/seats/shop/paid/assignments");
        let (status, to, body) = post(&app, &assign, &cookie, &[("csrf", &csrf), ("email", "Newbie@Example.com")]).await;
        assert_eq!(status, 303, "{body}");
        assert_eq!(to, format!("/team/{team}?done=invited"));
        let (_, _, page) = get(&app, &to, Some(&cookie)).await;
        assert!(page.contains("newbie@example.com") && page.contains("pending invitation"), "{page}");
        assert!(lyceum_e2e::web::unescape(&page).contains("/invitations/") && page.contains("Cancel invitation"), "{page}");
        assert_eq!(live_seats(&app).await, vec![("newbie@example.com".to_owned(), "invited".to_owned())]);

        // A registered address holds its seat at once; revoking it through the page frees it.
        let (status, to, _) = post(&app, &assign, &cookie, &[("csrf", &csrf), ("email", "student@example.com")]).await;
        assert_eq!((status.as_u16(), to.as_str()), (303, format!("/team/{team}?done=assigned").as_str()));
        let (_, _, page) = get(&app, &format!("/team/{team}"), Some(&cookie)).await;
        let revoke = page
            .split("action=\"")
            .filter_map(|s| s.split('"').next())
            .map(lyceum_e2e::web::unescape)
            .find(|a| a.ends_with("/revoke"))
            .unwrap_or_else(|| panic!("a revoke form: {page}"));
        // The pool is full: a third address is refused and nothing is given.
        let (status, _, body) = post(&app, &assign, &cookie, &[("csrf", &csrf), ("email", "third@example.com")]).await;
        assert_eq!(status, 409, "{body}");
        assert_eq!(live_seats(&app).await.len(), 2);
        let (status, to, _) = post(&app, &revoke, &cookie, &[("csrf", &csrf)]).await;
        assert_eq!((status.as_u16(), to.as_str()), (303, format!("/team/{team}?done=revoked").as_str()));
        assert_eq!(live_seats(&app).await, vec![("newbie@example.com".to_owned(), "invited".to_owned())]);

        // Cancelling the invitation frees its seat too.
        let (_, _, page) = get(&app, &format!("/team/{team}"), Some(&cookie)).await;
        let cancel = page
            .split("action=\"")
            .filter_map(|s| s.split('"').next())
            .map(lyceum_e2e::web::unescape)
            .find(|a| a.ends_with("/cancel"))
            .unwrap_or_else(|| panic!("a cancel form: {page}"));
        let (status, _, _) = post(&app, &cancel, &cookie, &[("csrf", &csrf)]).await;
        assert_eq!(status, 303);
        assert!(live_seats(&app).await.is_empty());

        // Buying more starts a team checkout and sends the manager to the gateway's page.
        let orders_before = orders::Entity::find().count(&app.state.db).await.unwrap();
        let (status, to, body) = post(&app, &format!("/team/{team}/checkout"), &cookie, &[("csrf", &csrf), ("tenant", "shop"), ("course", "paid"), ("quantity", "3")]).await;
        assert_eq!(status, 303, "{body}");
        assert!(to.contains("/sandbox/pay/"), "{to}");
        assert_eq!(orders::Entity::find().count(&app.state.db).await.unwrap(), orders_before + 1);
        let order = orders::Entity::find().order_by_desc(orders::Column::CreatedAt).one(&app.state.db).await.unwrap().unwrap();
        assert_eq!((order.total_amount, order.team_id.map(|t| t.to_string())), (3 * lyceum_e2e::money::PRICE, Some(team.clone())));
    }

    async fn someone_who_does_not_manage_the_team_is_refused(app) {
        app.shop().await;
        let (_, team) = team_with_seats(&app, 2).await;
        let student = session(&app, "student@example.com", "correct horse battery").await;
        let owner = session(&app, "owner@example.com", "correct horse battery").await;
        let orders_before = orders::Entity::find().count(&app.state.db).await.unwrap();

        // Anonymous visitors are sent to sign in.
        let (status, to, _) = get(&app, &format!("/team/{team}"), None).await;
        assert_eq!(status, 303);
        assert!(to.starts_with("/login?next="), "{to}");

        for cookie in [&student, &owner] {
            // Their own console is empty; the team's page is refused.
            let (status, _, index) = get(&app, "/team", Some(cookie)).await;
            assert_eq!(status, 200);
            assert!(!index.contains(&team) && !index.contains("Ops"), "{index}");
            let csrf = hidden(&index, "csrf");
            let (status, _, page) = get(&app, &format!("/team/{team}"), Some(cookie)).await;
            assert_eq!(status, 403, "{page}");
            assert!(!page.contains("manager@example.com") && !page.contains("Paid course"), "{page}");

            // Its forms, with the caller's own valid token, are refused and change nothing.
            let (status, _, _) = post(&app, &format!("/team/{team}/seats/shop/paid/assignments"), cookie, &[("csrf", &csrf), ("email", "student@example.com")]).await;
            assert_eq!(status, 403);
            let (status, to, _) = post(&app, &format!("/team/{team}/checkout"), cookie, &[("csrf", &csrf), ("tenant", "shop"), ("course", "paid"), ("quantity", "2")]).await;
            assert!(status.is_client_error(), "{status} {to}");
        }
        assert!(live_seats(&app).await.is_empty());
        assert_eq!(orders::Entity::find().count(&app.state.db).await.unwrap(), orders_before);
    }

    async fn an_admin_approves_a_pending_storefront_through_the_page(app) {
        app.admin("root@example.com").await;
        let (owner, _) = app.register("applicant@example.com").await;
        app.post("/api/v1/tenants", Some(&owner), json!({"slug": "waiting", "name": "Waiting School", "currency": "USD"})).await.expect(201);
        assert_eq!(tenant_status(&app, "waiting").await, "pending");
        let admin = session(&app, "root@example.com", "admin password 1").await;

        let (status, _, queue) = get(&app, "/admin/tenants?status=pending", Some(&admin)).await;
        assert_eq!(status, 200, "{queue}");
        assert!(queue.contains("Waiting School") && queue.contains("/admin/tenants/waiting/approve"), "{queue}");
        let csrf = hidden(&queue, "csrf");

        let (status, to, body) = post(&app, "/admin/tenants/waiting/approve", &admin, &[("csrf", &csrf), ("back", "list")]).await;
        assert_eq!(status, 303, "{body}");
        assert_eq!(to, "/admin/tenants?done=approved");
        assert_eq!(tenant_status(&app, "waiting").await, "active");
        let (_, _, page) = get(&app, &to, Some(&admin)).await;
        assert!(page.contains("The storefront is active"), "{page}");
        // It sells now: its catalog shows.
        let (status, _, _) = get(&app, "/s/waiting", None).await;
        assert_eq!(status, 200);

        // The overview draws its charts on the server, and the other pages open.
        let (status, _, overview) = get(&app, "/admin", Some(&admin)).await;
        assert_eq!(status, 200, "{overview}");
        assert!(overview.contains("<svg") && overview.contains("Ledger"), "{overview}");
        assert!(!overview.contains("<script>") && !overview.contains(" onclick="), "no inline script");
        for path in ["/admin/tenants/waiting", "/admin/orders?q=applicant%40example.com", "/admin/disputes", "/admin/payouts", "/admin/audit", "/admin/webhooks"] {
            let (status, _, page) = get(&app, path, Some(&admin)).await;
            assert_eq!(status, 200, "{path}: {page}");
        }
        // A fee plan set through the page is the storefront's new terms.
        let (status, _, _) = post(&app, "/admin/tenants/waiting/fee-plan", &admin, &[("csrf", &csrf), ("fee_bps", "750"), ("fixed_fee", "0.30")]).await;
        assert_eq!(status, 303);
        let (_, _, page) = get(&app, "/admin/tenants/waiting", Some(&admin)).await;
        assert!(page.contains("7.50 % + 0.30 USD"), "{page}");
    }

    async fn storefront_owners_and_students_are_refused_on_every_admin_page(app) {
        let shop = app.shop().await;
        let order = app.buy(&shop.student, "paid").await;
        let owner = session(&app, "owner@example.com", "correct horse battery").await;
        let student = session(&app, "student@example.com", "correct horse battery").await;
        let params = [
            ("tenant", "shop".to_owned()),
            ("order", order.clone()),
            ("payout", uuid::Uuid::new_v4().to_string()),
            ("delivery", uuid::Uuid::new_v4().to_string()),
        ];
        let pages: Vec<_> = lyceum::pages::platform_pages()
            .into_iter()
            .filter(|(_, path)| path.starts_with("/admin"))
            .collect();
        assert!(pages.len() >= 15, "{pages:?}");
        let refunds_before = app.refund_rows(&order).await.len();
        for (who, cookie) in [("the owner", &owner), ("a student", &student)] {
            let (_, _, own) = get(&app, "/team", Some(cookie)).await;
            let csrf = hidden(&own, "csrf");
            for (method, route) in &pages {
                let path = route
                    .split('/')
                    .map(|s| match s.strip_prefix(':') {
                        Some(name) => params.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("{name}")).1.clone(),
                        None => s.to_owned(),
                    })
                    .collect::<Vec<_>>()
                    .join("/");
                let (status, _, body) = match *method {
                    "get" => get(&app, &path, Some(cookie)).await,
                    _ => post(&app, &path, cookie, &[("csrf", &csrf), ("back", "list"), ("fee_bps", "9000"), ("reason", "walked"), ("reference", "walked")]).await,
                };
                assert_eq!(status, 403, "{who}: {method} {path}: {body}");
                assert!(!body.contains("Ledger") && !body.contains("aria-label=\"Admin\""), "{who}: {path}: {body}");
            }
            // Anonymous visitors are sent to sign in.
            let (status, to, _) = get(&app, "/admin", None).await;
            assert_eq!(status, 303);
            assert!(to.starts_with("/login?next="), "{to}");
        }
        assert_eq!(tenant_status(&app, "shop").await, "active");
        assert_eq!(app.refund_rows(&order).await.len(), refunds_before);
        assert_eq!(app.order_row(&order).await.status.as_str(), "paid");
        let tenant = app.get("/api/v1/tenants/shop", Some(&shop.owner)).await.expect(200);
        assert!(tenant.get("fee_plan").is_none_or(|p| p.is_null() || p["fee_bps"] != 9000), "{tenant}");
    }

    async fn a_form_without_its_token_changes_nothing(app) {
        let shop = app.shop().await;
        let (manager_token, team) = team_with_seats(&app, 1).await;
        let admin = session(&app, "root@example.com", "admin password 1").await;
        let manager = session(&app, "manager@example.com", "correct horse battery").await;
        let orders_before = orders::Entity::find().count(&app.state.db).await.unwrap();
        let order = app.buy(&shop.student, "paid").await;

        for token in [None, Some("forged")] {
            let form = |fields: &[(&'static str, &'static str)]| {
                let mut all: Vec<(&str, &str)> = fields.to_vec();
                if let Some(token) = token {
                    all.push(("csrf", token));
                }
                all
            };
            for (cookie, path, fields) in [
                (&admin, "/admin/tenants/shop/suspend".to_owned(), form(&[])),
                (&admin, "/admin/tenants/shop/fee-plan".to_owned(), form(&[("fee_bps", "9000")])),
                (&admin, "/admin/payouts/run".to_owned(), form(&[])),
                (&admin, format!("/admin/orders/{order}/refund"), form(&[])),
                (&manager, format!("/team/{team}/seats/shop/paid/assignments"), form(&[("email", "student@example.com")])),
                (&manager, format!("/team/{team}/checkout"), form(&[("tenant", "shop"), ("course", "paid"), ("quantity", "2")])),
                (&manager, "/team".to_owned(), form(&[("name", "Forged")])),
            ] {
                let (status, to, body) = post(&app, &path, cookie, &fields).await;
                assert!(status.is_client_error(), "{path} with {token:?}: {status} {to} {body}");
            }
        }
        assert_eq!(tenant_status(&app, "shop").await, "active");
        assert!(app.refund_rows(&order).await.is_empty());
        assert!(live_seats(&app).await.is_empty());
        assert_eq!(orders::Entity::find().count(&app.state.db).await.unwrap(), orders_before + 1);
        let teams = app.get("/api/v1/teams", Some(&manager_token)).await.expect(200);
        assert_eq!(teams.as_array().unwrap().len(), 1, "{teams}");
    }

    async fn an_admin_replays_a_delivery_from_the_log_and_nothing_is_doubled(app) {
        let shop = app.shop().await;
        let started = app.checkout(&shop.student, "paid").await;
        let order = started["order"]["id"].as_str().unwrap().to_owned();
        let session_ref = app.order_row(&order).await.session_ref.unwrap();
        let secret = app.sandbox_secret().await;
        let body = TestApp::sandbox_event("evt_console", "payment.succeeded", &order, shop.tenant_id, &session_ref, 4900, "USD", json!({}));
        app.deliver(&body, &secret, chrono::Utc::now().timestamp()).await.expect(200);
        assert_eq!(app.order_trail(&order).await.0, 1);
        let delivery = webhook_deliveries::Entity::find().one(&app.state.db).await.unwrap().unwrap();
        let admin = session(&app, "root@example.com", "admin password 1").await;

        let (status, _, log) = get(&app, "/admin/webhooks", Some(&admin)).await;
        assert_eq!(status, 200, "{log}");
        let replay = format!("/admin/webhooks/{}/replay", delivery.id);
        assert!(log.contains(&replay) && log.contains("payment_succeeded") && log.contains("verified") && log.contains("applied"), "{log}");
        let csrf = hidden(&log, "csrf");

        // Without the token, nothing is replayed.
        let (status, _, _) = post(&app, &replay, &admin, &[("csrf", "forged")]).await;
        assert!(status.is_client_error());
        assert_eq!(webhook_deliveries::Entity::find().count(&app.state.db).await.unwrap(), 1);

        let (status, to, page) = post(&app, &replay, &admin, &[("csrf", &csrf)]).await;
        assert_eq!(status, 303, "{page}");
        assert!(to.starts_with("/admin/webhooks/") && to.ends_with("?replayed=1"), "{to}");
        let (status, _, replayed) = get(&app, &to, Some(&admin)).await;
        assert_eq!(status, 200, "{replayed}");
        assert!(replayed.contains("duplicate") && replayed.contains(&delivery.id.to_string()), "{replayed}");

        // The replay is logged; the order, its access and its books are as they were.
        assert_eq!(webhook_deliveries::Entity::find().count(&app.state.db).await.unwrap(), 2);
        let (events, audit, ents) = app.order_trail(&order).await;
        assert_eq!((events, audit, ents.len()), (1, 1, 1));
        assert_eq!(app.order_row(&order).await.status.as_str(), "paid");
        assert_eq!(app.order_books(&order).await.iter().filter(|(a, ..)| a == "clearing").map(|b| b.2).sum::<i64>(), 4900);
        app.assert_ledger_balanced().await;

        // The order's page shows its history.
        let (status, _, detail) = get(&app, &format!("/admin/orders/{order}"), Some(&admin)).await;
        assert_eq!(status, 200, "{detail}");
        assert!(detail.contains("evt_console") && detail.contains("pending → paid"), "{detail}");
    }
}
