//! Stripe's errors and the parameter checks that produce them.
//!
//! Errors have Stripe's shape, `{"error": {"type", "code", "message", "param"}}`. A
//! validation error is not saved under an idempotency key (a corrected retry may reuse it);
//! an error met while executing (a refused refund) is, as Stripe documents.

use serde_json::{Map, Value, json};

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub kind: &'static str,
    pub code: Option<&'static str>,
    pub message: String,
    pub param: Option<String>,
    /// Whether a retry with the same idempotency key gets this answer again.
    pub saved: bool,
}

impl ApiError {
    /// A 400 `invalid_request_error` for a bad parameter (not saved).
    pub fn invalid(code: Option<&'static str>, param: &str, message: impl Into<String>) -> Self {
        Self {
            status: 400,
            kind: "invalid_request_error",
            code,
            message: message.into(),
            param: (!param.is_empty()).then(|| param.to_owned()),
            saved: false,
        }
    }

    pub fn missing(param: &str) -> Self {
        Self::invalid(
            Some("parameter_missing"),
            param,
            format!("Missing required param: {param}."),
        )
    }

    pub fn unknown(param: &str) -> Self {
        Self::invalid(
            Some("parameter_unknown"),
            param,
            format!(
                "Received unknown parameter: {param}. (The fake Stripe knows the parameters async-stripe's request types can send.)"
            ),
        )
    }

    /// A 404 `resource_missing`: `No such checkout.session: 'cs_…'`.
    pub fn no_such(object: &str, id: &str, param: &str) -> Self {
        Self {
            status: 404,
            ..Self::invalid(
                Some("resource_missing"),
                param,
                format!("No such {object}: '{id}'"),
            )
        }
    }

    /// An error met while executing: saved under the idempotency key.
    pub fn state(code: Option<&'static str>, param: &str, message: impl Into<String>) -> Self {
        Self {
            saved: true,
            ..Self::invalid(code, param, message)
        }
    }

    pub fn body(&self) -> Value {
        let mut error = json!({"type": self.kind, "message": self.message});
        if let Some(code) = self.code {
            error["code"] = json!(code);
            error["doc_url"] = json!(format!(
                "https://stripe.com/docs/error-codes/{}",
                code.replace('_', "-")
            ));
        }
        if let Some(param) = &self.param {
            error["param"] = json!(param);
        }
        json!({"error": error})
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Refuses keys of `params` (an object) not in `allowed`; `prefix` names where they sit
/// (`payment_intent_data`), for the error's `param`.
pub fn known(params: &Value, allowed: &[&str], prefix: &str) -> ApiResult<()> {
    let Some(map) = params.as_object() else {
        return Err(ApiError::invalid(None, prefix, "Invalid hash"));
    };
    for key in map.keys() {
        if !allowed.contains(&key.as_str()) {
            let name = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}[{key}]")
            };
            return Err(ApiError::unknown(&name));
        }
    }
    Ok(())
}

/// A string parameter, `None` when absent.
pub fn opt_str<'a>(params: &'a Value, key: &str, name: &str) -> ApiResult<Option<&'a str>> {
    match params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::invalid(
            None,
            name,
            format!("Invalid string: {name}"),
        )),
    }
}

pub fn req_str<'a>(params: &'a Value, key: &str, name: &str) -> ApiResult<&'a str> {
    match opt_str(params, key, name)? {
        Some(s) if !s.is_empty() => Ok(s),
        Some(_) => Err(ApiError::invalid(
            Some("parameter_invalid_empty"),
            name,
            format!(
                "You passed an empty string for '{name}'. We assume empty values are an attempt to unset a parameter; however '{name}' cannot be unset. You should remove '{name}' from your request or supply a non-empty value."
            ),
        )),
        None => Err(ApiError::missing(name)),
    }
}

pub fn opt_int(params: &Value, key: &str, name: &str) -> ApiResult<Option<i64>> {
    opt_str(params, key, name)?
        .map(|s| {
            s.parse::<i64>().map_err(|_| {
                ApiError::invalid(
                    Some("parameter_invalid_integer"),
                    name,
                    format!("Invalid integer: {s}"),
                )
            })
        })
        .transpose()
}

pub fn opt_bool(params: &Value, key: &str, name: &str) -> ApiResult<Option<bool>> {
    match opt_str(params, key, name)? {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(ApiError::invalid(
            None,
            name,
            format!("Invalid boolean: {other}"),
        )),
    }
}

/// An absolute http(s) URL.
pub fn opt_url<'a>(params: &'a Value, key: &str, name: &str) -> ApiResult<Option<&'a str>> {
    let Some(s) = opt_str(params, key, name)? else {
        return Ok(None);
    };
    match url::Url::parse(s) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => Ok(Some(s)),
        _ => Err(ApiError::invalid(
            Some("url_invalid"),
            name,
            "Not a valid URL",
        )),
    }
}

/// Metadata: string values, at most 50 keys of at most 40 characters, values of at most 500.
pub fn metadata(params: &Value, key: &str, name: &str) -> ApiResult<Map<String, Value>> {
    let Some(value) = params.get(key) else {
        return Ok(Map::new());
    };
    let Some(map) = value.as_object() else {
        return Err(ApiError::invalid(None, name, "Invalid hash"));
    };
    if map.len() > 50 {
        return Err(ApiError::invalid(
            None,
            name,
            "Invalid metadata: metadata cannot have more than 50 keys",
        ));
    }
    for (k, v) in map {
        let Some(v) = v.as_str() else {
            return Err(ApiError::invalid(
                None,
                &format!("{name}[{k}]"),
                "Invalid string",
            ));
        };
        if k.chars().count() > 40 || v.chars().count() > 500 {
            return Err(ApiError::invalid(
                None,
                &format!("{name}[{k}]"),
                "Metadata keys can be up to 40 characters long and values up to 500 characters long",
            ));
        }
    }
    // Empty values unset a key, which on a new object means it is absent.
    Ok(map
        .iter()
        .filter(|(_, v)| v.as_str().is_some_and(|s| !s.is_empty()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect())
}

/// Currencies whose minor unit is the major unit.
#[rustfmt::skip]
const ZERO_DECIMAL: &[&str] = &[
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
];
/// Currencies with three decimals, whose amounts Stripe requires to end in 0.
const THREE_DECIMAL: &[&str] = &["bhd", "jod", "kwd", "omr", "tnd"];

/// The number of decimals of a (lowercase) currency in Stripe's amounts.
pub fn exponent(currency: &str) -> u32 {
    if ZERO_DECIMAL.contains(&currency) {
        0
    } else if THREE_DECIMAL.contains(&currency) {
        3
    } else {
        2
    }
}

/// Stripe's rule for three-decimal currencies: "these API calls require the least-significant
/// (last) digit to be 0" (stripe.com/docs/currencies).
pub fn check_amount(amount: i64, currency: &str, param: &str) -> ApiResult<()> {
    if exponent(currency) == 3 && amount % 10 != 0 {
        return Err(ApiError::invalid(
            Some("invalid_charge_amount"),
            param,
            format!(
                "Invalid amount {amount} for {}: amounts in three-decimal currencies must end in 0. See https://stripe.com/docs/currencies#three-decimal",
                currency.to_ascii_uppercase()
            ),
        ));
    }
    Ok(())
}

/// `expand[]` paths of a request.
pub fn expand(params: &Value) -> Vec<String> {
    params["expand"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
