//! Every operation of the OpenAPI document, walked as an anonymous caller, a student and the
//! owner of another storefront. The routes come from the document, so a new operation cannot
//! escape: it must carry a known tag, and operations that change things need a sample body.
//! Then every HTML page, from the lists the router is built from (`platform_pages()`,
//! `storefront_pages()`), with web sessions: nothing of another's order, paid lesson or draft
//! shows, and nothing a refused form posts takes effect.

use lyceum::entities::{courses, tenants};
use lyceum_e2e::{TestApp, db_tests};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

/// A body that would be accepted, so that a refusal is about who asks, not what.
fn sample_body(operation_id: &str) -> Option<Value> {
    Some(match operation_id {
        "register_user" => {
            json!({"email": "walker@example.com", "password": "long enough pw", "name": "W"})
        }
        "create_token" | "create_session" => {
            json!({"email": "walker@example.com", "password": "long enough pw"})
        }
        "create_tenant" => json!({"slug": "walked", "name": "Walked", "currency": "USD"}),
        "update_tenant" => json!({"name": "Renamed"}),
        "invite_member" => json!({"email": "student@example.com", "role": "editor"}),
        "configure_gateway" => json!({}),
        "create_course" => {
            json!({"slug": "walked", "title": "Walked", "price": {"amount": 1, "currency": "USD"}})
        }
        "update_course" => json!({"title": "Walked"}),
        "create_section" => json!({"title": "Walked"}),
        "create_lesson" => json!({"title": "Walked", "kind": "text"}),
        "reorder_sections" | "reorder_lessons" => json!({"ids": []}),
        "set_fee_plan" => json!({"fee_bps": 1}),
        "create_checkout" => json!({"items": [{"course": "c1"}]}),
        "create_refund" => json!({}),
        "create_coupon" => json!({"code": "WALKED", "percent_off": 10}),
        "set_course_shares" => json!({"shares": [{"email": "student@example.com", "bps": 10000}]}),
        "set_payout_schedule" => json!({"schedule": "monthly"}),
        "mark_payout_paid" => json!({}),
        "mark_payout_failed" => json!({"reason": "walked"}),
        "set_payout_hold" => json!({"days": 1}),
        "create_team" => json!({"name": "Walked"}),
        "invite_team_member" => json!({"email": "student@example.com"}),
        "set_team_role" => json!({"role": "member"}),
        "assign_seat" => json!({"email": "student@example.com"}),
        "set_seat_tiers" => json!({"tiers": [{"min_seats": 2, "percent_off": 50}]}),
        "update_section" => json!({"title": "Walked"}),
        "update_lesson" => json!({"title": "Walked", "drip_days": 3}),
        "set_lesson_chapters" => json!({"chapters": [{"title": "Walked", "start_second": 0}]}),
        "set_lesson_quiz" => json!({"title": "Walked", "questions": [
            {"kind": "true_false", "prompt": "Walked?", "answer": true}
        ]}),
        "report_lesson_progress" => json!({"position_seconds": 1, "watched_seconds": 1}),
        "submit_quiz_attempt" => json!({"answers": []}),
        _ => return None,
    })
}

struct World {
    student: String,
    other_owner: String,
    params: Vec<(&'static str, String)>,
}

async fn world(app: &TestApp) -> World {
    let admin = app.admin("root@example.com").await;
    let owner = app
        .active_tenant("alpha", "alpha@example.com", &admin)
        .await;
    let lesson = app.course("alpha", &owner, "c1", 500).await;
    let detail = app
        .get("/api/v1/tenants/alpha/studio/courses/c1", Some(&owner))
        .await
        .expect(200);
    let section = detail["sections"][0]["id"].as_str().unwrap().to_owned();
    let other_owner = app.active_tenant("beta", "beta@example.com", &admin).await;
    let (student, _) = app.register("student@example.com").await;
    let (_, editor_id) = app.register("editor@example.com").await;
    app.post(
        "/api/v1/tenants/alpha/courses/c1/publish",
        Some(&owner),
        json!({}),
    )
    .await
    .expect(200);
    let (buyer, _) = app.register("buyer@example.com").await;
    let order = app
        .post(
            "/api/v1/tenants/alpha/checkout",
            Some(&buyer),
            json!({"items": [{"course": "c1"}]}),
        )
        .await
        .expect(201)["order"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.add_staff("alpha", &owner, "editor@example.com", "editor")
        .await;
    // A pending invitation for someone else: the walk's callers may neither cancel nor accept it.
    let invitation = app
        .post(
            "/api/v1/tenants/alpha/members",
            Some(&owner),
            json!({"email": "invitee@example.com", "role": "editor"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = app.invitation_token("invitee@example.com").await;
    // A team someone else manages, with paid seats of c1 to give.
    let (manager, _) = app.register("manager@example.com").await;
    let team = app
        .post("/api/v1/teams", Some(&manager), json!({"name": "Theirs"}))
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let seats = app
        .post(
            "/api/v1/tenants/alpha/checkout",
            Some(&manager),
            json!({"items": [{"course": "c1", "quantity": 2}], "team_id": team}),
        )
        .await
        .expect(201);
    let seat_order = seats["order"]["id"].as_str().unwrap().to_owned();
    app.pay(seats["redirect_url"].as_str().unwrap(), "4242424242424242")
        .await;
    for _ in 0..200 {
        if app.order_row(&seat_order).await.status.as_str() == "paid" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(app.order_row(&seat_order).await.status.as_str(), "paid");
    World {
        student,
        other_owner,
        params: vec![
            ("tenant", "alpha".to_owned()),
            ("course", "c1".to_owned()),
            ("section", section),
            ("lesson", lesson),
            ("user_id", editor_id.to_string()),
            ("order", order),
            ("invitation", invitation),
            ("token", token),
            ("gateway", "sandbox".to_owned()),
            ("payout", uuid::Uuid::new_v4().to_string()),
            ("team", team),
            ("attempt", uuid::Uuid::new_v4().to_string()),
            ("code", "LYC-0000-0000-0000-0000".to_owned()),
            ("delivery", uuid::Uuid::new_v4().to_string()),
        ],
    }
}

fn fill(path: &str, params: &[(&str, String)]) -> String {
    let mut filled = path.to_owned();
    while let Some(start) = filled.find('{') {
        let end = filled[start..].find('}').unwrap() + start;
        let name = &filled[start + 1..end];
        let value = params
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| {
                panic!("teach the authorization walk a value for `{{{name}}}` in {path}")
            })
            .1
            .clone();
        filled.replace_range(start..=end, &value);
    }
    filled
}

async fn send(
    app: &TestApp,
    method: &Method,
    path: &str,
    token: Option<&str>,
    op: &str,
    has_body: bool,
) -> u16 {
    let mut req = app.client.request(method.clone(), app.url(path));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if op == "upload_lesson_asset" {
        req = req.header("content-type", "text/plain").body("walked");
    } else if has_body {
        let body = sample_body(op)
            .unwrap_or_else(|| panic!("teach the authorization walk a body for `{op}`"));
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    if status >= 400 {
        assert_eq!(
            ct, "application/problem+json",
            "{method} {path} answered {status} without problem+json"
        );
    }
    status
}

db_tests! {
    async fn every_operation_refuses_callers_without_the_role(app) {
        let w = world(&app).await;
        let db = &app.state.db;
        let courses_before = courses::Entity::find().count(db).await.unwrap();

        let doc = app.get("/api/openapi.json", None).await.expect(200);
        let mut checked = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let method: Method = method.to_uppercase().parse().unwrap();
                let id = op["operationId"].as_str().unwrap();
                let tag = op["tags"][0].as_str().unwrap_or_else(|| panic!("{id} has no tag"));
                let security = op["security"].as_array().cloned().unwrap_or_default();
                let needs_user = !security.is_empty() && !security.iter().any(|s| s.as_object().is_some_and(|o| o.is_empty()));
                let url = fill(path, &w.params);
                let has_body = op.get("requestBody").is_some();
                let staff_only = match tag {
                    "Auth" | "Catalog" => false,
                    "Account" => {
                        assert!(needs_user, "{id}: Account operations need a signed-in user");
                        false
                    }
                    "Studio" | "Admin" | "Teams" => {
                        assert!(needs_user, "{id}: {tag} operations need a signed-in user");
                        true
                    }
                    other => panic!("teach the authorization walk the tag `{other}` (operation {id})"),
                };
                if needs_user {
                    let status = send(&app, &method, &url, None, id, has_body).await;
                    assert_eq!(status, 401, "anonymous {method} {path} ({id})");
                }
                if id == "accept_invitation" {
                    // Per user: only the invited address may accept; anyone else is told the
                    // token does not exist.
                    let status = send(&app, &method, &url, Some(&w.student), id, has_body).await;
                    assert_eq!(status, 404, "a student accepting someone else's invitation");
                }
                if staff_only {
                    for (who, token) in [("a student", &w.student), ("another tenant's owner", &w.other_owner)] {
                        let status = send(&app, &method, &url, Some(token), id, has_body).await;
                        let allowed = if tag == "Admin" { vec![403] } else { vec![403, 404] };
                        assert!(allowed.contains(&status), "{who}: {method} {path} ({id}) answered {status}");
                    }
                }
                checked += 1;
            }
        }
        assert!(checked >= 25, "only {checked} operations in the document");

        // Nothing the refused callers sent took effect.
        assert_eq!(courses::Entity::find().count(db).await.unwrap(), courses_before);
        assert_eq!(lyceum::entities::coupons::Entity::find().count(db).await.unwrap(), 0);
        assert_eq!(lyceum::entities::refunds::Entity::find().count(db).await.unwrap(), 0);
        let alpha = tenants::Entity::find().filter(tenants::Column::Slug.eq("alpha")).one(db).await.unwrap().unwrap();
        assert_eq!((alpha.name.as_str(), alpha.status.as_str()), ("School", "active"));
        assert_eq!(lyceum::entities::fee_plans::Entity::find().count(db).await.unwrap(), 0, "no fee plan was set");
        assert_eq!(lyceum::entities::course_shares::Entity::find().count(db).await.unwrap(), 0, "no share was set");
        assert_eq!(lyceum::entities::payees::Entity::find().count(db).await.unwrap(), 0, "no schedule was set");
        assert_eq!(lyceum::entities::payouts::Entity::find().count(db).await.unwrap(), 0, "no payout was made");
        assert_eq!(alpha.payout_hold_days, None, "no hold was set");
        assert_eq!(lyceum::entities::team_members::Entity::find().count(db).await.unwrap(), 1, "nobody joined the team");
        assert_eq!(lyceum::entities::seat_assignments::Entity::find().count(db).await.unwrap(), 0, "no seat was given");
        assert_eq!(lyceum::entities::seat_tiers::Entity::find().count(db).await.unwrap(), 0, "no volume price was set");
        let course = courses::Entity::find().filter(courses::Column::Slug.eq("c1")).one(db).await.unwrap().unwrap();
        assert_eq!(course.title, "Course c1");
        assert_eq!(lyceum::entities::quizzes::Entity::find().count(db).await.unwrap(), 0, "no quiz was set");
        assert_eq!(lyceum::entities::lesson_chapters::Entity::find().count(db).await.unwrap(), 0, "no chapter was set");
        assert_eq!(lyceum::entities::sections::Entity::find().count(db).await.unwrap(), 1, "no section was removed");
        let lesson_rows = lyceum::entities::lessons::Entity::find().all(db).await.unwrap();
        assert!(lesson_rows.iter().all(|l| l.title != "Walked" && l.drip_days.is_none()), "no lesson was changed");
        let members = app.get("/api/v1/tenants/alpha/members", Some(&alpha_owner_token(&app).await)).await.expect(200);
        assert_eq!(members.as_array().unwrap().len(), 2, "{members}");
        let invitation = lyceum::entities::staff_invitations::Entity::find()
            .filter(lyceum::entities::staff_invitations::Column::Email.eq("invitee@example.com"))
            .one(db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((invitation.accepted_at, invitation.pending_email.as_deref()), (None, Some("invitee@example.com")));
    }

    async fn every_page_shows_nothing_of_another_tenant(app) {
        use lyceum::pages::{platform_pages, storefront_pages};
        let w = world(&app).await;
        let owner = alpha_owner_token(&app).await;
        let param = |name: &str| w.params.iter().find(|(n, _)| *n == name).unwrap().1.clone();
        // A paid lesson of the published course, and a draft course with its (preview) lesson.
        let paid_lesson = app
            .post(
                &format!("/api/v1/tenants/alpha/courses/c1/sections/{}/lessons", param("section")),
                Some(&owner),
                json!({"title": "Paid", "kind": "text", "free_preview": false, "body": "Secret"}),
            )
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let draft_lesson = app.course("alpha", &owner, "d1", 700).await;
        let callers = [
            ("anonymous", None),
            ("a student", Some(web_session(&app, "student@example.com").await)),
            ("another tenant's owner", Some(web_session(&app, "beta@example.com").await)),
        ];
        let before = counts(&app).await;

        let mut checked = 0;
        for (course, lesson) in [("c1", &paid_lesson), ("d1", &draft_lesson)] {
            let params = [
                ("tenant", "alpha".to_owned()),
                ("course", course.to_owned()),
                ("lesson", lesson.clone()),
                ("order", param("order")),
                ("outcome", "success".to_owned()),
                ("token", param("token")),
                ("gateway", "stripe".to_owned()),
                ("code", "LYC-0000-0000-0000-0000".to_owned()),
                ("team", param("team")),
                ("user_id", param("user_id")),
                ("invitation", param("invitation")),
                ("payout", param("payout")),
                ("delivery", param("delivery")),
                ("section", param("section")),
                ("coupon", uuid::Uuid::new_v4().to_string()),
                ("attempt", param("attempt")),
            ];
            let pages = platform_pages().into_iter().map(|page| (None, page)).chain(
                storefront_pages().into_iter().map(|page| (Some("alpha.lyceum.test"), page)),
            );
            for (host, (method, route)) in pages {
                let method: Method = method.to_uppercase().parse().unwrap();
                let mut path = fill_route(route, &params);
                if route.contains("/onboarding/") {
                    path.push_str("?tenant=alpha");
                }
                for (who, cookie) in &callers {
                    let page = visit(&app, &method, host, &path, cookie.as_deref()).await;
                    let at = format!("{who}: {method} {}{path}", host.unwrap_or(""));
                    assert!(page.status < 500, "{at} answered {}", page.status);
                    assert!(
                        !page.location.contains("/content/") && !page.body.contains("/content/"),
                        "{at} gave a content link"
                    );
                    assert!(!page.body.contains("Secret"), "{at} showed a paid lesson's body");
                    if route.contains("/onboarding/") {
                        // Only alpha's owner may see or restart alpha's onboarding.
                        let sent_to_sign_in = page.status == 303 && page.location.starts_with("/login");
                        assert!(sent_to_sign_in || page.status == 403, "{at} answered {}", page.status);
                    }
                    if route.starts_with("/checkout/") {
                        assert_eq!(page.status, 404, "{at}: someone else's order");
                        assert!(!page.body.contains("Course c1"), "{at}: {}", page.body);
                    }
                    // (The studio answers anyone but the storefront's staff before it looks for
                    // the course: a sign-in redirect or 403.)
                    if course == "d1"
                        && method == Method::GET
                        && route.contains("courses/:course")
                        && !route.starts_with("/studio/")
                    {
                        assert_eq!(page.status, 404, "{at}: a draft");
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked >= 100, "only {checked} page visits");

        // Nothing the walk sent took effect: no order, no entitlement, no session, no account,
        // the invitation still pending.
        assert_eq!(counts(&app).await, before);
        let invitation = lyceum::entities::staff_invitations::Entity::find()
            .filter(lyceum::entities::staff_invitations::Column::Email.eq("invitee@example.com"))
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(invitation.accepted_at, None);

        // The same order page opens for its buyer: the 404s above are about who asks.
        let buyer = web_session(&app, "buyer@example.com").await;
        let path = format!("/checkout/{}/success", param("order"));
        let page = visit(&app, &Method::GET, None, &path, Some(&buyer)).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("Course c1"), "{}", page.body);
    }
}

async fn alpha_owner_token(app: &TestApp) -> String {
    let body = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "alpha@example.com", "password": "correct horse battery"}),
        )
        .await
        .expect(200);
    body["token"].as_str().unwrap().to_owned()
}

/// What a page answered: status, `Location`, body.
struct Page {
    status: u16,
    location: String,
    body: String,
}

/// Calls a page as a browser would: on `host` (the platform's when `None`) with `cookie`, and
/// for a POST a filled form whose CSRF token is forged (the walk knows no caller's secrets).
async fn visit(
    app: &TestApp,
    method: &Method,
    host: Option<&str>,
    path: &str,
    cookie: Option<&str>,
) -> Page {
    let mut req = app.client.request(method.clone(), app.url(path));
    if let Some(host) = host {
        req = req.header("host", host);
    }
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    if method == Method::POST {
        req = req.form(&[
            ("csrf", "forged"),
            ("email", "student@example.com"),
            ("password", "correct horse battery"),
            ("name", "Walker"),
            ("next", "/"),
            ("site", "alpha.lyceum.test"),
            ("state", "walked"),
        ]);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    Page {
        status,
        location,
        body: resp.text().await.unwrap(),
    }
}

/// The platform session cookie of `email`, from the web sign-in form.
async fn web_session(app: &TestApp, email: &str) -> String {
    let resp = app.web_sign_in(email, "correct horse battery", "/").await;
    assert_eq!(resp.status(), 303, "{email} signs in");
    lyceum_e2e::web::set_cookie(&resp, "lyceum_session").expect("a session cookie")
}

/// Fills poem's `:name` segments.
fn fill_route(path: &str, params: &[(&str, String)]) -> String {
    path.split('/')
        .map(|segment| match segment.strip_prefix(':') {
            Some(name) => params
                .iter()
                .find(|(n, _)| *n == name)
                .unwrap_or_else(|| panic!("teach the page walk a value for `:{name}` in {path}"))
                .1
                .clone(),
            None => segment.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn counts(app: &TestApp) -> [u64; 4] {
    use lyceum::entities::{entitlements, orders, users, web_sessions};
    let db = &app.state.db;
    [
        orders::Entity::find().count(db).await.unwrap(),
        entitlements::Entity::find().count(db).await.unwrap(),
        web_sessions::Entity::find().count(db).await.unwrap(),
        users::Entity::find().count(db).await.unwrap(),
    ]
}
