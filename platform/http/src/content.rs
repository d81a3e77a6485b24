//! `GET /content/{token}`: the bytes behind a signed content URL, served inert.
//!
//! Whatever an editor uploaded, the browser must not run it on an origin it trusts: every
//! response says `nosniff`, carries a sandboxing CSP, and anything that is not media a
//! browser plays or draws is a download. Single byte ranges are answered so players can seek.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::TryStreamExt;
use poem::http::{HeaderName, HeaderValue, StatusCode, header};
use poem::web::{Data, Path, RemoteAddr};
use poem::{Body, Endpoint, IntoResponse, Request, Response, handler};

use super::range::{self, Ranged};
use crate::problem::{ProblemResponse, problem_response};
use lyceum_domain::error::AppError;
use lyceum_domain::ids::LessonId;
use lyceum_domain::services::media::AssetType;
use lyceum_domain::services::media::content::{self, Asset, Content};
use lyceum_domain::state::AppState;
use lyceum_web::site;

/// No script, no plugin, no form, no same-origin rights even when opened as a page; media and
/// images (the only things shown inline) may load themselves, and the browser's own media
/// viewer may style itself.
pub const CONTENT_SECURITY_POLICY: &str =
    "sandbox; default-src 'none'; media-src 'self'; img-src 'self'; style-src 'unsafe-inline'";

/// Where content is served from.
const PREFIX: &str = "/content/";

/// With a separate content origin (`LYCEUM_CONTENT_URL`), its host answers only content, and
/// content is answered only there: the platform's cookies never travel with a content fetch,
/// and nothing on the platform origin serves uploaded bytes. Without one, everything passes.
pub async fn origin_gate<E: Endpoint>(next: Arc<E>, req: Request) -> poem::Result<Response> {
    let on_content_host = req
        .data::<Arc<AppState>>()
        .and_then(|s| s.settings.content_url.as_ref())
        .and_then(|u| u.host_str())
        .map(|content_host| site::names_host(site::request_host(&req), content_host));
    if let Some(on_content_host) = on_content_host
        && on_content_host != is_content_path(req.uri().path())
    {
        return Ok(problem_response(
            StatusCode::NOT_FOUND,
            "not-found",
            "nothing is served here",
        ));
    }
    next.call(req).await.map(IntoResponse::into_response)
}

/// `/content/{token}` and nothing deeper, so no other route can answer on the content host.
fn is_content_path(path: &str) -> bool {
    path.strip_prefix(PREFIX)
        .is_some_and(|token| !token.is_empty() && !token.contains('/'))
}

/// How a body is described to the browser, beyond the security headers.
struct Shape {
    content_type: &'static str,
    disposition: Option<String>,
    size: Option<u64>,
}

#[handler]
pub async fn fetch(
    Data(state): Data<&Arc<AppState>>,
    Path(token): Path<String>,
    remote: &RemoteAddr,
    req: &Request,
) -> Response {
    let address = remote.as_socket_addr().map(|a| a.ip().to_string());
    let mut response = match content::fetch(state, &token, address).await {
        Ok(Content::Asset(asset) | Content::Segment(asset)) => asset_response(state, req, &asset)
            .await
            .unwrap_or_else(problem),
        Ok(Content::Playlist(text)) => playlist_response(text),
        Ok(Content::Text(text)) => text_response(req, text),
        Err(e) => problem(e),
    };
    guard(response.headers_mut());
    response
}

/// A lesson's text: plain text shown in the page, never Markdown or HTML to render.
fn text_response(req: &Request, text: String) -> Response {
    let bytes = Bytes::from(text);
    let shape = Shape {
        content_type: "text/plain; charset=utf-8",
        disposition: None,
        size: Some(bytes.len() as u64),
    };
    match requested_range(req, shape.size) {
        Ranged::Whole => respond(StatusCode::OK, &shape, None, Body::from(bytes)),
        Ranged::Part(part) => {
            let slice = usize::try_from(part.start).unwrap_or(usize::MAX)
                ..usize::try_from(part.end).unwrap_or(usize::MAX);
            let body = bytes
                .get(slice)
                .map(Bytes::copy_from_slice)
                .unwrap_or_default();
            respond(
                StatusCode::PARTIAL_CONTENT,
                &shape,
                Some(part),
                Body::from(body),
            )
        }
        Ranged::Unsatisfiable => unsatisfiable(shape.size),
    }
}

/// An HLS playlist, already rewritten with the viewer's signed links.
fn playlist_response(text: String) -> Response {
    let bytes = Bytes::from(text);
    let shape = Shape {
        content_type: "application/vnd.apple.mpegurl",
        disposition: None,
        size: Some(bytes.len() as u64),
    };
    respond(StatusCode::OK, &shape, None, Body::from(bytes))
}

async fn asset_response(
    state: &AppState,
    req: &Request,
    asset: &Asset,
) -> Result<Response, AppError> {
    // A type stored before the allow-list, or since removed from it, is only bytes.
    let (content_type, extension, inline) = AssetType::parse(&asset.content_type)
        .map_or(("application/octet-stream", "bin", false), |k| {
            (k.essence(), k.extension(), k.shown_inline())
        });
    let shape = Shape {
        content_type,
        disposition: Some(disposition(asset.lesson, extension, inline)),
        size: asset.size,
    };
    let (status, part) = match requested_range(req, shape.size) {
        Ranged::Whole => (StatusCode::OK, None),
        Ranged::Part(part) => (StatusCode::PARTIAL_CONTENT, Some(part)),
        Ranged::Unsatisfiable => return Ok(unsatisfiable(shape.size)),
    };
    let stream = content::read(state, asset, part.clone()).await?;
    let body = Body::from_bytes_stream(stream.map_err(std::io::Error::other));
    Ok(respond(status, &shape, part, body))
}

/// `inline` for media a browser plays or draws, `attachment` for everything else, with a
/// name that says nothing the uploader chose.
fn disposition(lesson: LessonId, extension: &str, inline: bool) -> String {
    let how = if inline { "inline" } else { "attachment" };
    format!("{how}; filename=\"lesson-{lesson}.{extension}\"")
}

/// The range asked for; `If-Range` names a validator this endpoint never hands out, so with
/// it the whole body is sent (RFC 9110 §13.1.5), as it is when the size is unknown.
fn requested_range(req: &Request, size: Option<u64>) -> Ranged {
    match (req.header(header::RANGE), size) {
        (Some(value), Some(size)) if req.header(header::IF_RANGE).is_none() => {
            range::resolve(value, size)
        }
        _ => Ranged::Whole,
    }
}

fn respond(
    status: StatusCode,
    shape: &Shape,
    part: Option<std::ops::Range<u64>>,
    body: Body,
) -> Response {
    let mut response = Response::builder()
        .status(status)
        .content_type(shape.content_type)
        .body(body);
    let headers = response.headers_mut();
    if let Some(value) = shape
        .disposition
        .as_deref()
        .and_then(|d| HeaderValue::from_str(d).ok())
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    let length = match (&part, shape.size) {
        (Some(part), Some(size)) => {
            let end = part.end.saturating_sub(1);
            if let Ok(value) = HeaderValue::from_str(&format!("bytes {}-{end}/{size}", part.start))
            {
                headers.insert(header::CONTENT_RANGE, value);
            }
            Some(part.end - part.start)
        }
        (_, size) => size,
    };
    if let Some(length) = length {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    response
}

fn unsatisfiable(size: Option<u64>) -> Response {
    let mut response = Response::builder()
        .status(StatusCode::RANGE_NOT_SATISFIABLE)
        .body(Body::empty());
    if let Some(Ok(value)) = size.map(|s| HeaderValue::from_str(&format!("bytes */{s}"))) {
        response.headers_mut().insert(header::CONTENT_RANGE, value);
    }
    response
}

/// The headers every answer of this endpoint carries, errors included.
fn guard(headers: &mut poem::http::HeaderMap) {
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        // A storefront's own domain is another site: its player must be able to load the
        // video. The signed link is the credential, not where the page came from.
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            "cross-origin",
        ),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "private, no-store"),
        (header::ACCEPT_RANGES, "bytes"),
        // The player's HLS script fetches playlists and segments from the content origin.
        // The signed URL is the only credential (no cookie is ever sent or honoured here),
        // so letting any page read what it already holds the link to adds nothing.
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

fn problem(err: AppError) -> Response {
    ProblemResponse::from(err).into_response()
}
