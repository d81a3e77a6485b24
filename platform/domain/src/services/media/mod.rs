//! Media: lesson assets (upload, type checks, storage), the short-lived signed URLs that
//! serve protected lesson content, and lesson videos transcoded into HLS renditions
//! ([`videos`] runs the jobs, [`transcode`] drives ffmpeg).

pub mod assets;
pub mod content;
pub mod transcode;
pub mod types;
pub mod videos;

pub use types::AssetType;
