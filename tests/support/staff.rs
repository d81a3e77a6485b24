//! Staff through invitations: the owner invites an address, the test reads the link from the
//! outbox (as the invitee would read their e-mail), and the invitee accepts it.

use lyceum::entities::outbox;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::TestApp;

impl TestApp {
    /// The token of the newest invitation e-mail sent to `email` (from the outbox payload).
    pub async fn invitation_token(&self, email: &str) -> String {
        let rows = outbox::Entity::find()
            .filter(outbox::Column::Kind.eq("staff_invitation"))
            .order_by_desc(outbox::Column::CreatedAt)
            .all(&self.state.db)
            .await
            .unwrap();
        let row = rows
            .iter()
            .find(|r| r.payload["to"] == email)
            .unwrap_or_else(|| panic!("no invitation e-mail to {email}"));
        let link = row.payload["link"].as_str().unwrap();
        link.rsplit_once("/invitations/").unwrap().1.to_owned()
    }

    /// Has the owner invite `email` (a user registered by [`TestApp::register`]) as `role`,
    /// and that user accept it.
    pub async fn add_staff(&self, tenant: &str, owner: &str, email: &str, role: &str) {
        self.post(
            &format!("/api/v1/tenants/{tenant}/members"),
            Some(owner),
            json!({"email": email, "role": role}),
        )
        .await
        .expect(201);
        let token = self.invitation_token(email).await;
        let login = self
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": email, "password": "correct horse battery"}),
            )
            .await
            .expect(200);
        let member = self
            .post(
                &format!("/api/v1/invitations/{token}/accept"),
                login["token"].as_str(),
                json!({}),
            )
            .await
            .expect(200);
        assert_eq!(member["role"], role, "{member}");
    }
}
