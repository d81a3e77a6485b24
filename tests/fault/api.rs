//! JSON calls to an instance, with a bearer token, bounded in time.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use reqwest::Method;
use serde_json::Value;

/// The longest a setup or check request may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// One answer: its status and JSON body (or `Null`).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

/// Sends `method url` with an optional token and JSON body.
pub async fn call(
    client: &reqwest::Client,
    method: Method,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Result<Answer> {
    let mut request = client.request(method.clone(), url).timeout(TIMEOUT);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("{method} {url}"))?;
    let status = response.status().as_u16();
    let text = response.text().await?;
    Ok(Answer {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    })
}

/// [`call`], insisting on `status`; returns the body.
pub async fn expect(
    client: &reqwest::Client,
    method: Method,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
    status: u16,
) -> Result<Value> {
    let answer = call(client, method.clone(), url, token, body).await?;
    if answer.status != status {
        bail!(
            "{method} {url}: expected {status}, got {}: {}",
            answer.status,
            answer.body
        );
    }
    Ok(answer.body)
}

/// The string at `pointer` (`/order/id`) of a JSON body.
pub fn string(body: &Value, pointer: &str) -> Result<String> {
    body.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .with_context(|| format!("no {pointer} in {body}"))
}
