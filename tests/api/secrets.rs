//! Signing secrets kept in the database are held to the same length as configured ones: a
//! stored value someone shortened or emptied stops the start, it never signs.

use lyceum::entities::platform_secrets;
use lyceum_e2e::db_tests;
use sea_orm::{ActiveValue::Set, EntityTrait};

db_tests! {
    async fn short_stored_secrets_refuse_to_start(app) {
        // The first start generated both, long enough.
        for name in ["content_signing_key", "sandbox_webhook_secret"] {
            let stored = platform_secrets::Entity::find_by_id(name.to_owned()).one(&app.state.db).await.unwrap().unwrap();
            assert!(stored.value.len() >= 32, "{name}");
        }
        for (name, value, variable) in [
            ("content_signing_key", "", "LYCEUM_CONTENT_KEY"),
            ("content_signing_key", "too-short-to-sign", "LYCEUM_CONTENT_KEY"),
            ("sandbox_webhook_secret", "0123456789abcdef0123456789abcdef,short", "LYCEUM_SANDBOX_WEBHOOK_SECRET"),
        ] {
            let original = platform_secrets::Entity::find_by_id(name.to_owned()).one(&app.state.db).await.unwrap().unwrap();
            let set = |value: &str| platform_secrets::ActiveModel { name: Set(name.to_owned()), value: Set(value.to_owned()), ..Default::default() };
            platform_secrets::Entity::update(set(value)).exec(&app.state.db).await.unwrap();
            let err = lyceum::start(app.settings.clone()).await.expect_err("a short stored secret must stop the start");
            let message = err.to_string();
            assert!(message.contains(name) && message.contains(variable) && message.contains("32"), "{message}");
            platform_secrets::Entity::update(set(&original.value)).exec(&app.state.db).await.unwrap();
        }
        // Restored, it starts again.
        lyceum::start(app.settings.clone()).await.expect("starts").stop().await.unwrap();
    }
}

mod sealed {
    use lyceum::entities::gateway_accounts;
    use lyceum::sealing::KeyRing;
    use lyceum::services::gateway_accounts::{account_for, credentials_context, reseal_all};
    use lyceum_e2e::db_tests;
    use lyceum_gateway_core::GatewayId;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
    use uuid::Uuid;

    db_tests! {
        async fn gateway_credentials_are_sealed_at_rest_and_survive_a_key_rotation(app) {
            let admin = app.admin("root@example.com").await;
            let owner = app.active_tenant("shop", "owner@example.com", &admin).await;
            let tenant: Uuid = app.get("/api/v1/tenants/shop", Some(&owner)).await.expect(200)["id"].as_str().unwrap().parse().unwrap();
            let gateway = GatewayId::Sandbox;
            // Stored as the service stores a provider's secret.
            let clear = br#"{"secret_key":"sk_live_hunter2"}"#;
            let sealed = app.state.sealing.seal(clear, &credentials_context(tenant.into(), gateway));
            let now = chrono::Utc::now();
            let row = gateway_accounts::ActiveModel {
                id: Set(lyceum::ids::GatewayAccountId::new_v7()),
                tenant_id: Set(tenant.into()),
                gateway: Set(gateway.as_str().to_owned()),
                enabled: Set(true),
                provider_account_id: Set(None),
                test_mode: Set(false),
                settings: Set("{}".to_owned()),
                sealed_credentials: Set(Some(sealed.clone())),
                credential_names: Set(r#"["secret_key"]"#.to_owned()),
                charges_enabled: Set(true),
                payouts_enabled: Set(true),
                requirements: Set("[]".to_owned()),
                checked_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&app.state.db)
            .await
            .unwrap();
            assert!(!sealed.contains("hunter2"), "not in clear at rest");
            let opened = account_for(&app.state, gateway, tenant.into()).await.unwrap();
            assert_eq!(opened.credential("secret_key"), Some("sk_live_hunter2"));
            // The owner sees the name, never the value.
            let listed = app.get("/api/v1/tenants/shop/gateways", Some(&owner)).await.expect(200);
            let sandbox = listed.as_array().unwrap().iter().find(|g| g["gateway"] == "sandbox").unwrap();
            assert_eq!(sandbox["credentials"], serde_json::json!(["secret_key"]));
            assert!(!listed.to_string().contains("hunter2"));

            // Moved to another storefront's row, it does not open.
            let other_owner = app.active_tenant("other", "other@example.com", &admin).await;
            let other: Uuid = app.get("/api/v1/tenants/other", Some(&other_owner)).await.expect(200)["id"].as_str().unwrap().parse().unwrap();
            let mut moved: gateway_accounts::ActiveModel = row.clone().into();
            moved.id = Set(lyceum::ids::GatewayAccountId::new_v7());
            moved.tenant_id = Set(other.into());
            moved.insert(&app.state.db).await.unwrap();
            assert!(account_for(&app.state, gateway, other.into()).await.is_err(), "bound to its storefront");

            // Rotation: a new key, the old one kept as previous, reseal, drop the old one.
            let old_key = app.settings.secrets_key.clone().expect("tests configure a sealing key");
            let new_key = KeyRing::generate_key();
            let mut rotating = app.settings.clone();
            rotating.secrets_key = Some(new_key.clone());
            rotating.secrets_previous_keys = vec![old_key.clone()];
            let state = lyceum::AppState::build(rotating).await.unwrap();
            assert_eq!(account_for(&state, gateway, tenant.into()).await.unwrap().credential("secret_key"), Some("sk_live_hunter2"));
            let done = reseal_all(&state).await.unwrap();
            // The value moved to `other` opens nowhere: reported, the rest resealed.
            assert_eq!((done.resealed, done.current, done.failed.len()), (1, 0, 1), "{done:?}");
            let stored = gateway_accounts::Entity::find_by_id(row.id).one(&state.db).await.unwrap().unwrap();
            assert!(state.sealing.is_current(stored.sealed_credentials.as_deref().unwrap()));
            let mut rotated = app.settings.clone();
            rotated.secrets_key = Some(new_key);
            let state = lyceum::AppState::build(rotated).await.unwrap();
            assert_eq!(account_for(&state, gateway, tenant.into()).await.unwrap().credential("secret_key"), Some("sk_live_hunter2"));
            // The old key alone no longer opens what the new one sealed.
            let mut old = app.settings.clone();
            old.secrets_key = Some(old_key);
            let state = lyceum::AppState::build(old).await.unwrap();
            let refused = account_for(&state, gateway, tenant.into()).await.unwrap_err();
            assert!(lyceum::error::report(&refused).to_string().contains("not in the key ring"), "{refused:?}");
        }
    }
}
