//! Secrets the platform generates for itself when they are not configured, stored in the
//! database so that every instance sharing it uses the same ones.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};

use super::accounts::random_secret;
use super::now;
use crate::entities::platform_secrets;
use crate::error::{AppError, AppResult};

/// The stored signing secret `name` (generated on first use), checked like a configured one:
/// a value someone shortened or emptied in the database stops the start with an error that
/// names it and `configured_by`, the variable that would override it, instead of signing
/// with a guessable key. With `list`, the value is comma-separated secrets, each checked.
pub async fn signing_secret(
    db: &DatabaseConnection,
    name: &str,
    configured_by: &str,
    list: bool,
) -> AppResult<String> {
    let value = get_or_create(db, name).await?;
    let weak = if list {
        crate::config::weak_secret_list(&value)
    } else {
        crate::config::weak_secret(&value)
    };
    match weak {
        Some(why) => Err(AppError::Misconfigured(format!(
            "the stored secret `{name}` (table platform_secrets) is refused: {why}; \
             replace it with a longer value or set {configured_by}"
        ))),
        None => Ok(value),
    }
}

/// The stored secret `name`, generated on first use; concurrent first uses agree on one.
pub async fn get_or_create(db: &DatabaseConnection, name: &str) -> AppResult<String> {
    platform_secrets::Entity::insert(platform_secrets::ActiveModel {
        name: Set(name.to_owned()),
        value: Set(random_secret()),
        created_at: Set(now()),
    })
    .on_conflict(
        OnConflict::column(platform_secrets::Column::Name)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    platform_secrets::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
        .map(|s| s.value)
        .ok_or(AppError::Internal("a platform secret just written is gone"))
}
