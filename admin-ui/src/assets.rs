//! The pages' static files — one stylesheet, one script, the icon, and hls.js (vendored from npm, with its
//! licence beside it) for video lessons in browsers without native HLS — compiled into the
//! binary and served from `/assets/{name}` on the platform and on every storefront host.
//!
//! Links carry a version derived from the files' bytes (`?v=…`), so a response may be cached
//! for a year: a new build links new addresses.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::LazyLock;

use poem::http::{StatusCode, header};
use poem::{IntoResponse, Request, Response, handler};

struct File {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const FILES: &[File] = &[
    File {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../assets/app.css"),
    },
    File {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/app.js"),
    },
    File {
        name: "icon.svg",
        content_type: "image/svg+xml",
        bytes: include_bytes!("../assets/icon.svg"),
    },
    File {
        name: "hls.light.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/vendor/hls.light.min.js"),
    },
];

/// The version every asset link carries: a digest of all the files, so any change moves it.
pub static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut hasher = DefaultHasher::new();
    for file in FILES {
        file.name.hash(&mut hasher);
        file.bytes.hash(&mut hasher);
    }
    format!("{:012x}", hasher.finish() & 0xffff_ffff_ffff)
});

/// `GET /assets/{name}`.
#[handler]
pub fn serve(req: &Request) -> Response {
    let name = req.raw_path_param("name").unwrap_or_default();
    let Some(file) = FILES.iter().find(|f| f.name == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let versioned = req
        .uri()
        .query()
        .is_some_and(|q| q == format!("v={}", *VERSION));
    let cache = if versioned {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    file.bytes
        .with_content_type(file.content_type)
        .with_header(header::CACHE_CONTROL, cache)
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_is_stable_and_short() {
        assert_eq!(VERSION.len(), 12);
        assert_eq!(*VERSION, *VERSION);
    }

    #[test]
    fn no_asset_is_empty() {
        for file in FILES {
            assert!(!file.bytes.is_empty(), "{} is empty", file.name);
        }
    }
}
