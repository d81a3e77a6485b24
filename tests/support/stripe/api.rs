//! The HTTP API: `Authorization: Bearer sk_…`, form-encoded parameters, `Stripe-Account`,
//! `Idempotency-Key` (same key and parameters replay the saved answer, other parameters are
//! an `idempotency_error`), routing, and the request log.

use serde_json::Value;

use super::params::{ApiError, ApiResult, expand};
use super::state::{Emit, Saved, State};
use super::{RecordedRequest, accounts, form, objects, refunds, sessions};

/// A request as the fake received it.
#[derive(Debug)]
pub struct Incoming {
    pub method: String,
    pub path: String,
    pub query: String,
    pub body: String,
    pub authorization: Option<String>,
    pub idempotency_key: Option<String>,
    pub stripe_account: Option<String>,
    pub stripe_version: Option<String>,
}

/// The answer, and the events it caused (indexes into the event log) for delivery.
#[derive(Debug)]
pub struct Outgoing {
    pub status: u16,
    pub body: Value,
    pub request_id: String,
    pub replayed: bool,
    pub events: Vec<usize>,
}

/// What an endpoint works with: the store, the clock, the `Stripe-Account` it acts for,
/// and the events it causes.
#[derive(Debug)]
pub struct Ctx<'a> {
    pub state: &'a mut State,
    pub now: i64,
    pub account: Option<String>,
    pub emits: Vec<Emit>,
}

impl Ctx<'_> {
    /// Queues an event of an object this request acted on (a Connect event when acting for
    /// a connected account).
    pub fn emit(&mut self, emit: Emit) {
        let account = emit.account.clone().or_else(|| self.account.clone());
        self.emits.push(emit.account(account));
    }
}

pub fn handle(state: &mut State, inc: Incoming, now: i64) -> Outgoing {
    let request_id = objects::new_id("req");
    let raw = if inc.method == "GET" {
        &inc.query
    } else {
        &inc.body
    };
    let params = form::decode(raw).unwrap_or(Value::Null);
    let (status, body, replayed, emits) = answer(state, &inc, &params, now);
    let key = inc
        .idempotency_key
        .as_deref()
        .filter(|_| inc.method == "POST");
    let events = state.emit(emits, Some((&request_id, key)), now);
    state.requests.push(RecordedRequest {
        id: request_id.clone(),
        method: inc.method,
        path: inc.path,
        params,
        idempotency_key: inc.idempotency_key,
        stripe_account: inc.stripe_account,
        stripe_version: inc.stripe_version,
        status,
        replayed,
    });
    Outgoing {
        status,
        body,
        request_id,
        replayed,
        events,
    }
}

fn answer(
    state: &mut State,
    inc: &Incoming,
    params: &Value,
    now: i64,
) -> (u16, Value, bool, Vec<Emit>) {
    let fail = |e: ApiError| (e.status, e.body(), false, Vec::new());
    if let Err(e) = authenticate(state, inc.authorization.as_deref()) {
        return fail(e);
    }
    let raw = if inc.method == "GET" {
        &inc.query
    } else {
        &inc.body
    };
    if let Err(form::FormError(param)) = form::decode(raw) {
        return fail(ApiError::invalid(
            None,
            &param,
            format!("Invalid parameter: {param} (could not decode the form-encoded keys)"),
        ));
    }
    if let Some(account) = &inc.stripe_account
        && state.find(account, "account").is_none()
    {
        return fail(ApiError {
            status: 403,
            ..ApiError::invalid(
                Some("account_invalid"),
                "",
                format!(
                    "The provided key does not have access to account '{account}' (or that account does not exist). Application access may have been revoked."
                ),
            )
        });
    }
    // Keys only matter on POST; Stripe scopes them per account.
    let slot = inc
        .idempotency_key
        .clone()
        .filter(|_| inc.method == "POST")
        .map(|key| (inc.stripe_account.clone(), key));
    if let Some(slot) = &slot
        && let Some(saved) = state.idempotency.get(slot)
    {
        if saved.method == inc.method && saved.path == inc.path && saved.params == *params {
            return (saved.status, saved.body.clone(), true, Vec::new());
        }
        return fail(ApiError {
            kind: "idempotency_error",
            ..ApiError::invalid(
                None,
                "",
                format!(
                    "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{}' if you meant to execute a different request.",
                    slot.1
                ),
            )
        });
    }
    let mut cx = Ctx {
        state,
        now,
        account: inc.stripe_account.clone(),
        emits: Vec::new(),
    };
    let result = route(&mut cx, &inc.method, &inc.path, params);
    let emits = std::mem::take(&mut cx.emits);
    let (status, body, save) = match result {
        Ok(body) => (200, body, true),
        Err(e) => (e.status, e.body(), e.saved),
    };
    if save && let Some(slot) = slot {
        state.idempotency.insert(
            slot,
            Saved {
                method: inc.method.clone(),
                path: inc.path.clone(),
                params: params.clone(),
                status,
                body: body.clone(),
            },
        );
    }
    (
        status,
        body,
        false,
        if status == 200 { emits } else { Vec::new() },
    )
}

fn authenticate(state: &State, header: Option<&str>) -> ApiResult<()> {
    let unauthorized = |message: String| ApiError {
        status: 401,
        ..ApiError::invalid(None, "", message)
    };
    let Some(header) = header else {
        return Err(unauthorized("You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.".into()));
    };
    let key = header.strip_prefix("Bearer ").unwrap_or_default().trim();
    if key == state.secret_key {
        return Ok(());
    }
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    Err(unauthorized(format!(
        "Invalid API Key provided: {}****{tail}",
        key.get(..8).unwrap_or("")
    )))
}

fn route(cx: &mut Ctx, method: &str, path: &str, params: &Value) -> ApiResult<Value> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        ("POST", ["v1", "accounts"]) => accounts::create(cx, params),
        ("GET", ["v1", "accounts", id]) => accounts::retrieve(cx, id, params),
        ("POST", ["v1", "account_links"]) => accounts::create_link(cx, params),
        ("POST", ["v1", "checkout", "sessions"]) => sessions::create(cx, params),
        ("GET", ["v1", "checkout", "sessions", id]) => sessions::retrieve(cx, id, params),
        ("POST", ["v1", "checkout", "sessions", id, "expire"]) => sessions::expire(cx, id, params),
        ("POST", ["v1", "refunds"]) => refunds::create(cx, params),
        ("GET", ["v1", "refunds"]) => refunds::list(cx, params),
        ("GET", ["v1", collection, id]) => retrieve(cx, collection, id, params),
        _ => Err(ApiError {
            status: 404,
            ..ApiError::invalid(
                None,
                "",
                format!(
                    "Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/."
                ),
            )
        }),
    }
}

/// `GET /v1/<collection>/<id>` for the objects the fake keeps.
fn retrieve(cx: &mut Ctx, collection: &str, id: &str, params: &Value) -> ApiResult<Value> {
    let object = match collection {
        "payment_intents" => "payment_intent",
        "charges" => "charge",
        "refunds" => "refund",
        "disputes" => "dispute",
        "transfers" => "transfer",
        "application_fees" => "application_fee",
        "events" => "event",
        _ => {
            return Err(ApiError {
                status: 404,
                ..ApiError::invalid(
                    None,
                    "",
                    format!("Unrecognized request URL (GET: /v1/{collection}/{id})."),
                )
            });
        }
    };
    if object == "event" {
        // Events are kept as sent; a connected account's events are read with its header.
        return cx
            .state
            .events
            .iter()
            .find(|e| e.id == id && e.account == cx.account)
            .map(|e| e.payload.clone())
            .ok_or_else(|| ApiError::no_such("event", id, "id"));
    }
    super::params::known(params, &["expand"], "")?;
    let found = cx
        .state
        .get(id, cx.account.as_deref())
        .filter(|v| v["object"] == object)
        .cloned()
        .ok_or_else(|| ApiError::no_such(object, id, "id"))?;
    Ok(expanded(cx, found, &expand(params)))
}

/// Replaces ids by their objects along `expand[]` paths (`payment_intent`,
/// `payment_intent.latest_charge`); unknown paths are left as they are.
pub fn expanded(cx: &Ctx, mut value: Value, paths: &[String]) -> Value {
    for path in paths {
        let parts: Vec<&str> = path.split('.').collect();
        expand_path(cx, &mut value, &parts);
    }
    value
}

fn expand_path(cx: &Ctx, value: &mut Value, path: &[&str]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let Some(field) = value.get_mut(*first) else {
        return;
    };
    if let Some(id) = field.as_str()
        && let Some(object) = cx.state.get(id, cx.account.as_deref())
    {
        *field = object.clone();
    }
    if field.is_object() {
        expand_path(cx, field, rest);
    }
}
