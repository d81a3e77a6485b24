//! Connected accounts and Account Links: an Express account starts with nothing enabled;
//! its link opens the fake's onboarding page (single use, five minutes).

use serde_json::{Value, json};

use super::api::{Ctx, expanded};
use super::objects;
use super::params::{
    ApiError, ApiResult, expand, known, metadata, opt_bool, opt_str, opt_url, req_str,
};
use super::state::Link;

/// Every top-level parameter of `POST /v1/accounts` (async-stripe rc.10's request).
#[rustfmt::skip]
const PARAMS: &[&str] = &[
    "account_token", "business_profile", "business_type", "capabilities", "company", "controller",
    "country", "default_currency", "documents", "email", "expand", "external_account", "groups",
    "individual", "metadata", "settings", "tos_acceptance", "type",
];
#[rustfmt::skip]
const IMPLEMENTED: &[&str] = &[
    "business_profile", "capabilities", "country", "email", "expand", "metadata", "type",
];
#[rustfmt::skip]
const BUSINESS_PROFILE: &[&str] = &[
    "mcc", "name", "product_description", "support_email", "support_phone", "support_url", "url",
];
#[rustfmt::skip]
const LINK_PARAMS: &[&str] = &[
    "account", "collect", "collection_options", "expand", "refresh_url", "return_url", "type",
];

pub fn create(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    known(p, PARAMS, "")?;
    if let Some(key) = p
        .as_object()
        .and_then(|m| m.keys().find(|k| !IMPLEMENTED.contains(&k.as_str())))
    {
        return Err(ApiError::invalid(
            None,
            key,
            format!("The fake Stripe does not implement `{key}` on accounts."),
        ));
    }
    match req_str(p, "type", "type")? {
        "express" | "standard" | "custom" => {}
        other => {
            return Err(ApiError::invalid(
                None,
                "type",
                format!("Invalid type: must be one of custom, express, or standard (got {other})"),
            ));
        }
    }
    if let Some(country) = opt_str(p, "country", "country")?
        && (country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()))
    {
        return Err(ApiError::invalid(
            Some("country_unsupported"),
            "country",
            format!("Country '{country}' is unknown."),
        ));
    }
    if let Some(email) = opt_str(p, "email", "email")?
        && !email.contains('@')
    {
        return Err(ApiError::invalid(
            Some("email_invalid"),
            "email",
            format!("Invalid email address: {email}"),
        ));
    }
    if let Some(capabilities) = p.get("capabilities") {
        let Some(map) = capabilities.as_object() else {
            return Err(ApiError::invalid(None, "capabilities", "Invalid hash"));
        };
        for (name, capability) in map {
            let at = format!("capabilities[{name}]");
            known(capability, &["requested"], &at)?;
            opt_bool(capability, "requested", &format!("{at}[requested]"))?;
        }
    }
    if let Some(profile) = p.get("business_profile") {
        known(profile, BUSINESS_PROFILE, "business_profile")?;
    }
    let metadata = metadata(p, "metadata", "metadata")?;
    let id = objects::new_id("acct");
    let mut account = objects::account(&id, cx.now, p);
    account["metadata"] = json!(metadata);
    if let Some(given) = p["business_profile"].as_object() {
        for (key, value) in given {
            account["business_profile"][key] = value.clone();
        }
    }
    cx.state.put(None, account.clone());
    Ok(expanded(cx, account, &expand(p)))
}

pub fn retrieve(cx: &mut Ctx, id: &str, p: &Value) -> ApiResult<Value> {
    known(p, &["expand"], "")?;
    let account = cx
        .state
        .find(id, "account")
        .map(|s| s.value.clone())
        .ok_or_else(|| ApiError::no_such("account", id, "account"))?;
    Ok(expanded(cx, account, &expand(p)))
}

pub fn create_link(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    known(p, LINK_PARAMS, "")?;
    let account = req_str(p, "account", "account")?;
    if cx.state.find(account, "account").is_none() {
        return Err(ApiError::invalid(
            Some("resource_missing"),
            "account",
            format!("No such account: '{account}'"),
        ));
    }
    match req_str(p, "type", "type")? {
        "account_onboarding" => {}
        "account_update" => {
            // Stripe collects an Express or Standard account's updates itself.
            let kind = cx
                .state
                .find(account, "account")
                .map(|s| s.value["type"].clone());
            if kind.is_some_and(|k| k != "custom") {
                return Err(ApiError::invalid(
                    None,
                    "type",
                    "Account Links of type `account_update` are only for accounts whose requirements the platform collects (Custom accounts).",
                ));
            }
        }
        other => {
            return Err(ApiError::invalid(
                None,
                "type",
                format!(
                    "Invalid type: must be one of account_onboarding or account_update (got {other})"
                ),
            ));
        }
    }
    let refresh_url = opt_url(p, "refresh_url", "refresh_url")?
        .ok_or_else(|| ApiError::missing("refresh_url"))?;
    let return_url =
        opt_url(p, "return_url", "return_url")?.ok_or_else(|| ApiError::missing("return_url"))?;
    let token = objects::new_id("link");
    let expires_at = cx.now + 300;
    cx.state.links.insert(
        token.clone(),
        Link {
            account: account.to_owned(),
            refresh_url: refresh_url.to_owned(),
            return_url: return_url.to_owned(),
            expires_at,
            used: false,
        },
    );
    Ok(json!({
        "object": "account_link",
        "created": cx.now,
        "expires_at": expires_at,
        "url": format!("{}/setup/e/{account}/{token}", cx.state.base),
    }))
}
