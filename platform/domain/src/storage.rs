//! Lesson assets in an object store: a local directory by default, S3-compatible on request.

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;

use crate::error::{AppError, AppResult};

/// Opens the store named by `assets_url`: `s3://bucket[/prefix]` (credentials, region and
/// endpoint from the usual `AWS_*` variables, so MinIO and other S3-compatible stores work)
/// or a local directory, created when missing.
pub fn open(assets_url: &str) -> AppResult<Arc<dyn ObjectStore>> {
    if let Some(rest) = assets_url.strip_prefix("s3://") {
        let bucket = rest.split('/').next().unwrap_or_default();
        let prefix = rest[bucket.len()..].trim_matches('/');
        let store = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()?;
        return Ok(if prefix.is_empty() {
            Arc::new(store)
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(store, prefix))
        });
    }
    let dir = assets_url.strip_prefix("file://").unwrap_or(assets_url);
    std::fs::create_dir_all(dir)
        .map_err(|e| AppError::io(format!("cannot create the assets directory {dir}"), e))?;
    Ok(Arc::new(LocalFileSystem::new_with_prefix(dir)?))
}
