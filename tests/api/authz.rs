//! Every operation of the OpenAPI document, walked as an anonymous caller, a student and the
//! owner of another storefront. The routes come from the document, so a new operation cannot
//! escape: it must carry a known tag, and operations that change things need a sample body.

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
                    "Studio" | "Admin" => {
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
        assert_eq!((alpha.name.as_str(), alpha.status.as_str(), alpha.fee_bps), ("School", "active", None));
        let course = courses::Entity::find().filter(courses::Column::Slug.eq("c1")).one(db).await.unwrap().unwrap();
        assert_eq!(course.title, "Course c1");
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
