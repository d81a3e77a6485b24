//! Security headers: `nosniff` on every response; on every HTML page a Content-Security-Policy
//! without inline scripts, no framing, a strict referrer policy and no caching; HSTS when the
//! platform is served over https.
//!
//! Pages that must run inline scripts they do not own (the Swagger UI under `/api/docs`) are
//! wrapped in [`HashedInlineScripts`], which allows exactly those scripts by their SHA-256 hash.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use poem::http::{HeaderName, HeaderValue, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use sha2::{Digest, Sha256};

use lyceum_domain::config::Settings;

/// The policy of the platform's own pages: scripts, styles, images and media from this origin
/// only (styles may be inline: pages carry a storefront's colour in a `style` attribute and the
/// sandbox page a small `<style>` block; no page carries an inline script), no plugins, no
/// framing, no `<base>` tricks. Video lessons play HLS through hls.js, which fetches playlists
/// and segments (`connect-src`, from the content origin when there is one) and feeds them to
/// the player as a `blob:` media source.
fn page_policy(content_origin: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; media-src 'self' blob:{content_origin}; \
         connect-src 'self'{content_origin}; font-src 'self'; object-src 'none'; \
         base-uri 'none'; frame-ancestors 'none'"
    )
}

/// Adds the headers to every response that does not set its own.
#[derive(Debug, Clone)]
pub struct SecureHeaders {
    page_csp: HeaderValue,
    hsts: Option<HeaderValue>,
}

impl SecureHeaders {
    pub fn new(settings: &Settings) -> Self {
        // Lesson media come from the content origin: the separate one when configured,
        // otherwise the platform's, which is another origin for pages on a storefront's host.
        let content = settings
            .content_url
            .as_ref()
            .unwrap_or(&settings.public_url);
        let extra_media = format!(" {}", content.origin().ascii_serialization());
        Self {
            page_csp: HeaderValue::from_str(&page_policy(&extra_media))
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'")),
            hsts: (settings.public_url.scheme() == "https")
                .then(|| HeaderValue::from_static("max-age=31536000")),
        }
    }

    fn apply(&self, response: &mut Response) {
        let html = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
        let headers = response.headers_mut();
        set_default(headers, header::X_CONTENT_TYPE_OPTIONS, || {
            HeaderValue::from_static("nosniff")
        });
        if let Some(hsts) = &self.hsts {
            set_default(headers, header::STRICT_TRANSPORT_SECURITY, || hsts.clone());
        }
        if html {
            set_default(headers, header::CONTENT_SECURITY_POLICY, || {
                self.page_csp.clone()
            });
            set_default(headers, header::X_FRAME_OPTIONS, || {
                HeaderValue::from_static("DENY")
            });
            set_default(headers, header::REFERRER_POLICY, || {
                HeaderValue::from_static("same-origin")
            });
            // Pages carry a session's CSRF token, a buyer's receipt, signed content links:
            // no shared cache may keep one.
            set_default(headers, header::CACHE_CONTROL, || {
                HeaderValue::from_static("no-store")
            });
        }
    }
}

fn set_default(
    headers: &mut poem::http::HeaderMap,
    name: HeaderName,
    value: impl FnOnce() -> HeaderValue,
) {
    if !headers.contains_key(&name) {
        headers.insert(name, value());
    }
}

impl<E: Endpoint> Middleware<E> for SecureHeaders {
    type Output = SecureHeadersEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        SecureHeadersEndpoint {
            inner,
            headers: self.clone(),
        }
    }
}

/// [`SecureHeaders`] around an endpoint.
#[derive(Debug)]
pub struct SecureHeadersEndpoint<E> {
    inner: E,
    headers: SecureHeaders,
}

impl<E: Endpoint> Endpoint for SecureHeadersEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let mut response = match self.inner.call(req).await {
            Ok(output) => output.into_response(),
            Err(e) => super::problem::render(e).await,
        };
        self.headers.apply(&mut response);
        Ok(response)
    }
}

/// Serves a fixed HTML page that carries inline scripts (the Swagger UI) under a policy that
/// allows exactly those scripts, by hash, and nothing else inline. The page never changes
/// while the process runs, so each path's page and policy are computed once.
pub struct HashedInlineScripts<E> {
    inner: E,
    pages: Mutex<HashMap<String, Arc<CachedPage>>>,
}

/// One page as first served, with its policy.
struct CachedPage {
    status: poem::http::StatusCode,
    headers: poem::http::HeaderMap,
    html: bytes::Bytes,
}

impl<E> std::fmt::Debug for HashedInlineScripts<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashedInlineScripts")
            .finish_non_exhaustive()
    }
}

impl<E> HashedInlineScripts<E> {
    pub fn new(inner: E) -> Self {
        Self {
            inner,
            pages: Mutex::new(HashMap::new()),
        }
    }
}

/// The `script-src` sources that allow each inline `<script>` of `html` by its hash.
fn script_hashes(html: &str) -> String {
    let mut sources = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let Some(open_end) = rest[start..].find('>') else {
            break;
        };
        let body_start = start + open_end + 1;
        let Some(len) = rest[body_start..].find("</script>") else {
            break;
        };
        let digest = Sha256::digest(&rest.as_bytes()[body_start..body_start + len]);
        sources.push_str(&format!(" 'sha256-{}'", STANDARD.encode(digest)));
        rest = &rest[body_start + len..];
    }
    sources
}

impl<E: Endpoint> HashedInlineScripts<E> {
    async fn load(&self, req: Request) -> Result<Arc<CachedPage>> {
        let path = req.uri().path().to_owned();
        let response = self.inner.call(req).await?.into_response();
        let (parts, body) = response.into_parts();
        let html = body.into_bytes().await?;
        let mut headers = parts.headers;
        if headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/html"))
        {
            let csp = format!(
                "default-src 'none'; script-src{}; style-src 'unsafe-inline'; \
                 img-src 'self' data:; connect-src 'self'; object-src 'none'; \
                 base-uri 'none'; frame-ancestors 'none'",
                script_hashes(&String::from_utf8_lossy(&html))
            );
            if let Ok(csp) = HeaderValue::from_str(&csp) {
                headers.insert(header::CONTENT_SECURITY_POLICY, csp);
            }
        }
        let page = Arc::new(CachedPage {
            status: parts.status,
            headers,
            html,
        });
        if page.status.is_success()
            && let Ok(mut pages) = self.pages.lock()
        {
            pages.insert(path, page.clone());
        }
        Ok(page)
    }
}

impl<E: Endpoint> Endpoint for HashedInlineScripts<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let known = self
            .pages
            .lock()
            .ok()
            .and_then(|p| p.get(req.uri().path()).cloned());
        let page = match known {
            Some(page) => page,
            None => self.load(req).await?,
        };
        let mut out = Response::builder()
            .status(page.status)
            .body(page.html.clone());
        *out.headers_mut() = page.headers.clone();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_inline_script_is_hashed() {
        let html = "<script charset=\"UTF-8\">a()</script><p>x</p><script>b()</script>";
        let hashes = script_hashes(html);
        let expect = |s: &str| format!("'sha256-{}'", STANDARD.encode(Sha256::digest(s)));
        assert_eq!(hashes, format!(" {} {}", expect("a()"), expect("b()")));
        assert_eq!(script_hashes("<p>no scripts</p>"), "");
    }
}
