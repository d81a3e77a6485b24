//! Reading request bodies the platform will not keep.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

/// How much of an oversized body is read and thrown away before answering, so that clients
/// that send the whole body before reading (most do) see the 413 instead of a broken pipe.
pub const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

/// Reads and discards a body, up to `cap` bytes or 30 seconds.
pub async fn drain<S, E>(body: &mut S, cap: usize)
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let _ = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        let mut seen = 0_usize;
        while let Some(Ok(chunk)) = body.next().await {
            seen += chunk.len();
            if seen > cap {
                break;
            }
        }
    })
    .await;
}
