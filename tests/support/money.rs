//! Helpers for the money path: a storefront with a paid course, checkouts, signed sandbox
//! events, waiting for an order to settle.

use std::time::Duration;

use lyceum::entities::{entitlements, order_audit, orders, payment_events};
use lyceum::ids::{OrderLineId, RefundId};
use lyceum_gateway_core::signature;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{Reply, TestApp};

/// A storefront `shop` (USD) with a published course `paid` at 49.00 whose only lesson is
/// not a preview and holds an asset, plus an admin, its owner and a student.
#[derive(Debug)]
pub struct Shop {
    pub admin: String,
    pub owner: String,
    pub student: String,
    pub student_id: Uuid,
    pub lesson: String,
    pub tenant_id: Uuid,
}

pub const PRICE: i64 = 4900;
pub const ASSET: &[u8] = b"the secret bytes of lesson one";

impl TestApp {
    pub async fn shop(&self) -> Shop {
        self.shop_priced("USD", PRICE).await
    }

    /// [`Self::shop`] selling in `currency`, its course `paid` at `price` minor units.
    pub async fn shop_priced(&self, currency: &str, price: i64) -> Shop {
        let admin = self.admin("root@example.com").await;
        let (owner, _) = self.register("owner@example.com").await;
        self.post(
            "/api/v1/tenants",
            Some(&owner),
            json!({"slug": "shop", "name": "School", "currency": currency}),
        )
        .await
        .expect(201);
        self.post(
            "/api/v1/admin/tenants/shop/approve",
            Some(&admin),
            json!({}),
        )
        .await
        .expect(200);
        self.post(
            "/api/v1/tenants/shop/courses",
            Some(&owner),
            json!({"slug": "paid", "title": "Paid course", "price": {"amount": price, "currency": currency}}),
        )
        .await
        .expect(201);
        let section = self
            .post(
                "/api/v1/tenants/shop/courses/paid/sections",
                Some(&owner),
                json!({"title": "One"}),
            )
            .await
            .expect(201);
        let lesson = self
            .post(
                &format!(
                    "/api/v1/tenants/shop/courses/paid/sections/{}/lessons",
                    section["id"].as_str().unwrap()
                ),
                Some(&owner),
                json!({"title": "Lesson one", "kind": "video"}),
            )
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let resp = self
            .client
            .put(self.url(&format!("/api/v1/tenants/shop/lessons/{lesson}/asset")))
            .bearer_auth(&owner)
            .header("content-type", "video/mp4")
            .body(ASSET)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 204);
        self.post(
            "/api/v1/tenants/shop/courses/paid/publish",
            Some(&owner),
            json!({}),
        )
        .await
        .expect(200);
        let (student, student_id) = self.register("student@example.com").await;
        let tenant_id = self
            .get("/api/v1/tenants/shop", Some(&owner))
            .await
            .expect(200)["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        Shop {
            admin,
            owner,
            student,
            student_id,
            lesson,
            tenant_id,
        }
    }

    /// Starts a checkout of `course`; returns the response body.
    pub async fn checkout(&self, token: &str, course: &str) -> Value {
        self.post(
            "/api/v1/tenants/shop/checkout",
            Some(token),
            json!({"items": [{"course": course, "quantity": 1}]}),
        )
        .await
        .expect(201)
    }

    /// Checks out `course` as `token`, pays with a good card and waits until the order is
    /// paid; returns the order id.
    pub async fn buy(&self, token: &str, course: &str) -> String {
        let started = self.checkout(token, course).await;
        let order = started["order"]["id"].as_str().unwrap().to_owned();
        let paid = self
            .pay(
                started["redirect_url"].as_str().unwrap(),
                "4242424242424242",
            )
            .await;
        assert_eq!(paid.status, 200, "{}", paid.text);
        self.wait_for_status(token, &order, "paid").await;
        order
    }

    /// Pays a checkout on the sandbox's hosted page, as a person would (JSON form post).
    pub async fn pay(&self, redirect_url: &str, card: &str) -> Reply {
        let resp = self
            .client
            .post(redirect_url)
            .json(&json!({"card": card}))
            .send()
            .await
            .unwrap();
        crate::read(resp).await
    }

    /// Waits until the order reaches `status` (the webhook is asynchronous).
    pub async fn wait_for_status(&self, token: &str, order: &str, status: &str) -> Value {
        let mut last = Value::Null;
        for _ in 0..200 {
            last = self
                .get(&format!("/api/v1/tenants/shop/orders/{order}"), Some(token))
                .await
                .body;
            if last["status"] == status {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("order {order} never became {status}: {last}");
    }

    /// The access answer for `course`.
    pub async fn access(&self, token: Option<&str>, course: &str) -> Value {
        self.get(
            &format!("/api/v1/tenants/shop/courses/{course}/access"),
            token,
        )
        .await
        .expect(200)
    }

    /// The sandbox webhook secret the server verifies with.
    pub async fn sandbox_secret(&self) -> String {
        lyceum::services::secrets::get_or_create(&self.state.db, "sandbox_webhook_secret")
            .await
            .unwrap()
    }

    /// A sandbox event body, as the sandbox would send it.
    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per field of the wire event"
    )]
    pub fn sandbox_event(
        id: &str,
        kind: &str,
        order: &str,
        tenant: Uuid,
        session: &str,
        amount: i64,
        currency: &str,
        extra: Value,
    ) -> Vec<u8> {
        let mut data = json!({
            "session": session,
            "order_id": order,
            "tenant_id": tenant,
            "amount": {"amount": amount, "currency": currency},
            "payment_id": "sbp_test_payment",
        });
        if let (Some(data), Some(extra)) = (data.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                data.insert(k.clone(), v.clone());
            }
        }
        serde_json::to_vec(&json!({"id": id, "type": kind, "created": chrono::Utc::now().timestamp(), "data": data})).unwrap()
    }

    /// Posts a sandbox event signed with `secret` at `timestamp`.
    pub async fn deliver(&self, body: &[u8], secret: &str, timestamp: i64) -> Reply {
        let header = signature::sign(&[secret.as_bytes()], timestamp, body).unwrap();
        let resp = self
            .client
            .post(self.url("/webhooks/sandbox"))
            .header("content-type", "application/json")
            .header("sandbox-signature", header)
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        crate::read(resp).await
    }

    /// The order's stored row.
    pub async fn order_row(&self, order: &str) -> orders::Model {
        orders::Entity::find_by_id(order.parse::<Uuid>().unwrap())
            .one(&self.state.db)
            .await
            .unwrap()
            .unwrap()
    }

    /// Moves an order's expiry to the past, as if its time had run out.
    pub async fn expire_order_now(&self, order: &str) {
        use sea_orm::{ActiveModelTrait, ActiveValue::Set};
        let mut row: orders::ActiveModel = self.order_row(order).await.into();
        row.expires_at = Set(chrono::Utc::now() - chrono::Duration::minutes(1));
        row.update(&self.state.db).await.unwrap();
    }

    /// `(payment events, audit rows, entitlements)` of an order.
    pub async fn order_trail(&self, order: &str) -> (u64, u64, Vec<entitlements::Model>) {
        let id: Uuid = order.parse().unwrap();
        let db = &self.state.db;
        let events = payment_events::Entity::find()
            .filter(payment_events::Column::OrderId.eq(id))
            .count(db)
            .await
            .unwrap();
        let audit = order_audit::Entity::find()
            .filter(order_audit::Column::OrderId.eq(id))
            .count(db)
            .await
            .unwrap();
        let lines: Vec<OrderLineId> = lyceum::entities::order_lines::Entity::find()
            .filter(lyceum::entities::order_lines::Column::OrderId.eq(id))
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.id)
            .collect();
        let ents = entitlements::Entity::find()
            .filter(entitlements::Column::OrderLineId.is_in(lines))
            .all(db)
            .await
            .unwrap();
        (events, audit, ents)
    }

    /// The order's refund rows, oldest first, as (amount, status).
    pub async fn refund_rows(&self, order: &str) -> Vec<(i64, String)> {
        let id: Uuid = order.parse().unwrap();
        lyceum::entities::refunds::Entity::find()
            .filter(lyceum::entities::refunds::Column::OrderId.eq(id))
            .order_by_asc(lyceum::entities::refunds::Column::CreatedAt)
            .all(&self.state.db)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.amount, r.status.as_str().to_owned()))
            .collect()
    }

    /// A refund request row as `request` writes it before calling the gateway, whose answer
    /// never came back (unreachable, or the process stopped): `requested`, no provider id.
    pub async fn unanswered_refund_request(
        &self,
        order: &str,
        amount: i64,
        requested_by: Uuid,
    ) -> Uuid {
        use sea_orm::ActiveModelTrait;
        use sea_orm::ActiveValue::Set;
        let row = self.order_row(order).await;
        let id = RefundId::new_v7();
        let long_ago = chrono::Utc::now() - chrono::Duration::minutes(10);
        lyceum::entities::refunds::ActiveModel {
            id: Set(id),
            tenant_id: Set(row.tenant_id),
            order_id: Set(row.id),
            amount: Set(amount),
            currency: Set(row.currency.clone()),
            status: Set(lyceum::entities::refunds::RefundStatus::Requested),
            provider_refund_id: Set(None),
            requested_by: Set(requested_by.into()),
            error: Set(None),
            manual: Set(false),
            created_at: Set(long_ago),
            updated_at: Set(long_ago),
        }
        .insert(&self.state.db)
        .await
        .unwrap();
        id.into()
    }

    /// A buyer registered through the accounts service rather than over HTTP, so a test that
    /// needs many buyers does not meet the per-address registration limit; returns a token.
    pub async fn buyer(&self, email: &str) -> String {
        use lyceum::domain::{BoundedText, Email, Password};
        let input = lyceum::services::accounts::Registration {
            email: Email::parse("email", email).unwrap(),
            password: Password::parse("password", "correct horse battery".to_owned()).unwrap(),
            name: BoundedText::parse("name", "Buyer").unwrap(),
        };
        lyceum::services::accounts::register(&self.state, input)
            .await
            .unwrap()
            .1
            .token
    }

    /// Checks out `course` in `shop` with coupon `code`.
    pub async fn checkout_with_coupon(&self, token: &str, course: &str, code: &str) -> Reply {
        self.post(
            "/api/v1/tenants/shop/checkout",
            Some(token),
            json!({"items": [{"course": course}], "coupon": code}),
        )
        .await
    }

    /// The stored counters of coupon `code`: `(final uses, reserved uses)`.
    pub async fn coupon_counters(&self, code: &str) -> (i32, i32) {
        use lyceum::entities::coupons;
        let row = coupons::Entity::find()
            .filter(coupons::Column::Code.eq(code))
            .one(&self.state.db)
            .await
            .unwrap()
            .unwrap();
        (row.redemptions, row.reserved)
    }

    /// The state of coupon `code`'s uses as rows: `(reserved, redeemed, released)`.
    pub async fn coupon_uses(&self, code: &str) -> (usize, usize, usize) {
        use lyceum::entities::{coupon_redemptions, coupons};
        let coupon = coupons::Entity::find()
            .filter(coupons::Column::Code.eq(code))
            .one(&self.state.db)
            .await
            .unwrap()
            .unwrap();
        let rows = coupon_redemptions::Entity::find()
            .filter(coupon_redemptions::Column::CouponId.eq(coupon.id))
            .all(&self.state.db)
            .await
            .unwrap();
        use coupon_redemptions::RedemptionStatus;
        let count = |s: RedemptionStatus| rows.iter().filter(|r| r.status == s).count();
        (
            count(RedemptionStatus::Reserved),
            count(RedemptionStatus::Redeemed),
            count(RedemptionStatus::Released),
        )
    }
}

impl TestApp {
    /// The ledger's balances for one order: `(account, payee, amount)`, debit positive, in a
    /// stable order, zero balances left out.
    pub async fn order_books(&self, order: &str) -> Vec<(String, Option<Uuid>, i64)> {
        use lyceum::entities::ledger_entries;
        let order: Uuid = order.parse().unwrap();
        let rows = ledger_entries::Entity::find()
            .filter(ledger_entries::Column::OrderId.eq(order))
            .all(&self.state.db)
            .await
            .unwrap();
        let mut sums: std::collections::BTreeMap<(String, Option<Uuid>), i64> =
            std::collections::BTreeMap::new();
        for row in rows {
            *sums
                .entry((
                    row.account.as_str().to_owned(),
                    row.payee_id.map(|p| p.into_uuid()),
                ))
                .or_insert(0) += row.amount;
        }
        sums.into_iter()
            .filter(|(_, amount)| *amount != 0)
            .map(|((account, payee), amount)| (account, payee, amount))
            .collect()
    }

    /// Asserts the whole ledger balances: every transaction and every currency sums to zero.
    pub async fn assert_ledger_balanced(&self) {
        let totals = lyceum::services::ledger::reports::totals(&self.state.db)
            .await
            .unwrap();
        assert!(totals.balanced, "the ledger does not balance: {totals:?}");
    }
}
