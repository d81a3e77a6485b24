//! Staff invitations: inviting reveals nothing about accounts, nothing is granted until the
//! invited address accepts, and only that address can.

use std::time::Duration;

use lyceum::entities::{outbox, staff_invitations};
use lyceum_e2e::{Reply, TestApp, db_tests};
use reqwest::Method;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

/// A reply with the parts that differ per invitation (id, expiry) masked.
fn masked(reply: &Reply) -> (u16, Vec<String>, String) {
    let mut text = reply.text.clone();
    for field in ["id", "expires_at"] {
        let value = reply.body[field].as_str().unwrap();
        text = text.replace(value, &format!("<{field}>"));
    }
    let mut headers: Vec<String> = reply
        .headers
        .iter()
        .filter(|(name, _)| !["date", "x-request-id", "content-length"].contains(&name.as_str()))
        .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap()))
        .collect();
    headers.sort();
    (reply.status.as_u16(), headers, text)
}

fn problem(body: &Value) -> (Value, Value, Value, Value) {
    (
        body["type"].clone(),
        body["title"].clone(),
        body["status"].clone(),
        body["detail"].clone(),
    )
}

async fn invite(app: &TestApp, tenant: &str, owner: &str, email: &str, role: &str) -> Reply {
    app.post(
        &format!("/api/v1/tenants/{tenant}/members"),
        Some(owner),
        json!({"email": email, "role": role}),
    )
    .await
}

async fn accept(app: &TestApp, token: &str, user: &str) -> Reply {
    app.post(
        &format!("/api/v1/invitations/{token}/accept"),
        Some(user),
        json!({}),
    )
    .await
}

db_tests! {
    async fn inviting_answers_the_same_whether_or_not_an_account_exists(app) {
        let admin = app.admin("root@example.com").await;
        let school = app.active_tenant("school", "owner@example.com", &admin).await;
        let other = app.active_tenant("other", "other@example.com", &admin).await;

        // Nobody uses the address yet.
        let unknown = invite(&app, "school", &school, "person@example.com", "editor").await;
        assert_eq!(unknown.status, 201, "{}", unknown.text);
        app.register("person@example.com").await;
        let known = invite(&app, "other", &other, "person@example.com", "editor").await;
        assert_eq!(masked(&unknown), masked(&known));
        let body = &known.body;
        assert_eq!((body["email"].as_str(), body["role"].as_str(), body["status"].as_str()), (Some("person@example.com"), Some("editor"), Some("pending")), "{body}");
        let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["email", "expires_at", "id", "role", "status"], "no user id, no name: {body}");
        let expires: chrono::DateTime<chrono::Utc> = body["expires_at"].as_str().unwrap().parse().unwrap();
        let days = (expires - chrono::Utc::now()).num_hours();
        assert!((167..=168).contains(&days), "7 days, got {days} hours");
    }

    async fn nothing_is_granted_until_the_invited_address_accepts(app) {
        let admin = app.admin("root@example.com").await;
        let owner = app.active_tenant("school", "owner@example.com", &admin).await;
        let (invitee, invitee_id) = app.register("new.editor@example.com").await;
        let (stranger, _) = app.register("stranger@example.com").await;
        let create_course = |token: String| {
            let app = &app;
            async move {
                app.post("/api/v1/tenants/school/courses", Some(&token), json!({"slug": "mine", "title": "Mine", "price": {"amount": 0, "currency": "USD"}})).await
            }
        };

        let first = invite(&app, "school", &owner, "New.Editor@Example.com", "grader").await.expect(201);
        let first_token = app.invitation_token("new.editor@example.com").await;
        // Inviting again renews the one pending invitation: same id, new role, new link.
        let invitation = invite(&app, "school", &owner, "new.editor@example.com", "editor").await.expect(201);
        assert_eq!(invitation["id"], first["id"]);
        let token = app.invitation_token("new.editor@example.com").await;
        assert_ne!(token, first_token);
        let pending = app.get("/api/v1/tenants/school/invitations", Some(&owner)).await.expect(200);
        assert_eq!(pending.as_array().unwrap().len(), 1, "{pending}");
        assert_eq!((pending[0]["id"].clone(), pending[0]["role"].as_str()), (invitation["id"].clone(), Some("editor")));

        // Only the token's digest is stored; the link goes out by mail.
        let row = staff_invitations::Entity::find().one(&app.state.db).await.unwrap().unwrap();
        assert_eq!(row.token_hash, lyceum::services::accounts::sha256_hex(&token));
        assert_eq!((row.accepted_at, row.accepted_by), (None, None));
        let mails = outbox::Entity::find().filter(outbox::Column::Kind.eq("staff_invitation")).all(&app.state.db).await.unwrap();
        assert_eq!(mails.len(), 2, "one e-mail per link");
        let mail_dir = app.settings.data_dir.join("mail");
        let mut delivered = false;
        for _ in 0..100 {
            let files = std::fs::read_dir(&mail_dir).into_iter().flatten().flatten();
            // Quoted-printable: long lines are folded with a trailing `=`.
            let unfold = |m: String| m.replace("=\r\n", "").replace("=3D", "=");
            if files.map(|f| unfold(std::fs::read_to_string(f.path()).unwrap_or_default())).any(|m| m.contains(&format!("/invitations/{token}\r\n"))) {
                delivered = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(delivered, "the invitation e-mail with its link is written to {}", mail_dir.display());

        // Invited is not a member yet.
        let members = app.get("/api/v1/tenants/school/members", Some(&owner)).await.expect(200);
        assert_eq!(members.as_array().unwrap().len(), 1, "{members}");
        create_course(invitee.clone()).await.expect_problem(403);

        // Another account cannot use the link, and learns nothing from trying: the same 404
        // as a token that never existed. The invitation stays pending for its address.
        let unknown = accept(&app, "inv_never_issued", &stranger).await.expect_problem(404);
        let wrong_account = accept(&app, &token, &stranger).await.expect_problem(404);
        assert_eq!(problem(&wrong_account), problem(&unknown));
        accept(&app, &first_token, &invitee).await.expect_problem(404);
        let anonymous = app.post(&format!("/api/v1/invitations/{token}/accept"), None, json!({})).await.expect_problem(401);
        assert!(anonymous["detail"].is_string());

        // The invited address accepts: it joins as editor and can build courses at once.
        let member = accept(&app, &token, &invitee).await.expect(200);
        assert_eq!((member["user_id"].as_str(), member["role"].as_str()), (Some(invitee_id.to_string().as_str()), Some("editor")), "{member}");
        create_course(invitee.clone()).await.expect(201);
        let members = app.get("/api/v1/tenants/school/members", Some(&owner)).await.expect(200);
        assert!(members.as_array().unwrap().iter().any(|m| m["email"] == "new.editor@example.com" && m["role"] == "editor"), "{members}");
        let row = staff_invitations::Entity::find().one(&app.state.db).await.unwrap().unwrap();
        assert_eq!((row.accepted_by, row.pending_email), (Some(invitee_id.into()), None));
        assert!(row.accepted_at.is_some());
        // A link works once, and accepted invitations leave the pending list.
        assert_eq!(problem(&accept(&app, &token, &invitee).await.expect_problem(404)), problem(&unknown));
        let pending = app.get("/api/v1/tenants/school/invitations", Some(&owner)).await.expect(200);
        assert_eq!(pending, json!([]));
    }

    async fn owners_cancel_invitations_and_links_expire(app) {
        let admin = app.admin("root@example.com").await;
        let owner = app.active_tenant("school", "owner@example.com", &admin).await;
        let (late, _) = app.register("late@example.com").await;
        let (cancelled, _) = app.register("cancelled@example.com").await;

        let id = invite(&app, "school", &owner, "cancelled@example.com", "grader").await.expect(201)["id"].as_str().unwrap().to_owned();
        let token = app.invitation_token("cancelled@example.com").await;
        let cancel = format!("/api/v1/tenants/school/invitations/{id}");
        app.call(Method::DELETE, &cancel, Some(&cancelled), None).await.expect_problem(403);
        app.call(Method::DELETE, &cancel, Some(&owner), None).await.expect(204);
        app.call(Method::DELETE, &cancel, Some(&owner), None).await.expect_problem(404);
        accept(&app, &token, &cancelled).await.expect_problem(404);

        invite(&app, "school", &owner, "late@example.com", "editor").await.expect(201);
        let token = app.invitation_token("late@example.com").await;
        staff_invitations::Entity::update_many()
            .set(staff_invitations::ActiveModel { expires_at: Set(chrono::Utc::now() - chrono::Duration::minutes(1)), ..Default::default() })
            .exec(&app.state.db)
            .await
            .unwrap();
        accept(&app, &token, &late).await.expect_problem(404);
        let pending = app.get("/api/v1/tenants/school/invitations", Some(&owner)).await.expect(200);
        assert_eq!(pending[0]["status"], "expired", "{pending}");
        // Inviting again renews it.
        invite(&app, "school", &owner, "late@example.com", "editor").await.expect(201);
        let token = app.invitation_token("late@example.com").await;
        accept(&app, &token, &late).await.expect(200);
        let me = app.get("/api/v1/me", Some(&late)).await.expect(200);
        assert!(me["roles"].as_array().unwrap().iter().any(|r| r["role"] == "editor" && r["tenant"] == "school"), "{me}");
    }
}
