//! Lesson assets: checked against the lesson kind's media types, streamed into the object
//! store, recorded on the lesson after the upload.

use futures_util::{Stream, StreamExt};
use lyceum_tenants::rbac::{Authorized, action, resource};
use object_store::ObjectStoreExt;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, TransactionTrait,
};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use super::types::AssetType;
use crate::entities::lessons;
use crate::error::{AppError, AppResult};
use crate::ids::LessonId;
use crate::services::invalidation::Invalidations;
use crate::services::now;
use crate::services::tenancy::tenants::{Tenant, ensure_covers};
use crate::state::AppState;

/// Stores `body` as the lesson's asset, replacing any earlier one. A `content_type` the
/// lesson's kind does not take (see [`AssetType::for_lesson`]) is refused before anything is
/// written; so is a body larger than `limit` bytes. Either way the lesson stays as it was.
pub async fn upload<S>(
    state: &AppState,
    auth: &Authorized<resource::Course, action::Update>,
    tenant: &Tenant,
    lesson_id: LessonId,
    content_type: Option<&str>,
    mut body: S,
    limit: usize,
) -> AppResult<()>
where
    S: Stream<Item = Result<bytes::Bytes, AppError>> + Unpin,
{
    ensure_covers(auth, tenant)?;
    let lesson = lessons::Entity::find_by_id(lesson_id)
        .filter(lessons::Column::TenantId.eq(tenant.id))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("lesson"))?;
    let asset_type = match AssetType::for_lesson(lesson.kind, content_type) {
        Ok(t) => t,
        Err(e) => {
            // Read the body away (bounded) so the client sees the answer, not a reset.
            let drain = limit.min(crate::io::DRAIN_LIMIT);
            crate::io::drain(&mut body, drain).await;
            return Err(e);
        }
    };
    let key = Path::from(format!(
        "tenants/{}/lessons/{}/{}",
        tenant.id,
        lesson.id,
        // A fresh name per upload: the object, not a row, so no typed id.
        Uuid::now_v7()
    ));
    let mut writer = BufWriter::new(state.assets.clone(), key.clone());
    let mut size = 0_usize;
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                writer.abort().await.ok();
                return Err(AppError::invalid(
                    "body",
                    format!("the upload broke off: {e}"),
                ));
            }
        };
        size += chunk.len();
        if size > limit {
            writer.abort().await.ok();
            crate::io::drain(&mut body, crate::io::DRAIN_LIMIT).await;
            return Err(AppError::TooLarge { limit });
        }
        writer
            .write_all(&chunk)
            .await
            .map_err(|e| AppError::io("writing the asset failed", e))?;
    }
    writer
        .shutdown()
        .await
        .map_err(|e| AppError::io("finishing the asset failed", e))?;
    let previous = lesson.asset_key.clone();
    let txn = state.db.begin().await?;
    lessons::ActiveModel {
        id: Set(lesson.id),
        asset_key: Set(Some(key.to_string())),
        asset_content_type: Set(Some(asset_type.essence().to_owned())),
        asset_size: Set(Some(i64::try_from(size).unwrap_or(i64::MAX))),
        updated_at: Set(now()),
        // A new video's length is known once it is transcoded.
        duration_seconds: Set(None),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    let video = asset_type.is_video().then(|| key.to_string());
    let stale = super::videos::follow_upload(&txn, tenant.id, lesson.id, video.as_deref()).await?;
    // The outline says whether a lesson has a file.
    state.commit(txn, Invalidations::catalog(tenant.id)).await?;
    if let Some(prefix) = stale {
        super::videos::delete_prefix(state, &prefix).await;
    }
    if let Some(old) = previous {
        // The row no longer points at it; a failure here only leaves an orphan behind.
        if let Err(e) = state.assets.delete(&Path::from(old)).await {
            tracing::warn!(error = %crate::error::report(&e), "could not delete a replaced asset");
        }
    }
    tracing::info!(tenant.id = %tenant.id, lesson.id = %lesson.id, size, "lesson asset stored");
    Ok(())
}
