//! Media: lesson assets (upload, type checks, storage) and the short-lived signed URLs that
//! serve protected lesson content.

pub mod assets;
pub mod content;
pub mod types;

pub use types::AssetType;
