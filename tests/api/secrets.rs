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
