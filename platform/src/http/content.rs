//! `GET /content/{token}`: the bytes behind a signed content URL.

use std::sync::Arc;

use futures_util::TryStreamExt;
use poem::http::{StatusCode, header};
use poem::web::{Data, Path, RemoteAddr};
use poem::{Body, IntoResponse, Response, handler};

use crate::error::AppError;
use crate::http::problem::ProblemResponse;
use crate::services::content::{self, Content};
use crate::state::AppState;

#[handler]
pub async fn fetch(
    Data(state): Data<&Arc<AppState>>,
    Path(token): Path<String>,
    remote: &RemoteAddr,
) -> Response {
    let address = remote.as_socket_addr().map(|a| a.ip().to_string());
    match content::fetch(state, &token, address).await {
        Ok(Content::Asset {
            content_type,
            size,
            stream,
        }) => {
            let body = Body::from_bytes_stream(stream.map_err(std::io::Error::other));
            let mut response = Response::builder()
                .status(StatusCode::OK)
                .content_type(content_type)
                .header(header::CACHE_CONTROL, "private, no-store")
                .body(body);
            if let Some(Ok(value)) = size.map(|s| s.to_string().parse()) {
                response.headers_mut().insert(header::CONTENT_LENGTH, value);
            }
            response
        }
        Ok(Content::Text(text)) => Response::builder()
            .status(StatusCode::OK)
            .content_type("text/markdown; charset=utf-8")
            .header(header::CACHE_CONTROL, "private, no-store")
            .body(text),
        Err(e) => problem(e),
    }
}

fn problem(err: AppError) -> Response {
    ProblemResponse::from(err).into_response()
}
