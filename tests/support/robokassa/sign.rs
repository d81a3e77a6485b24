//! The fake's own signatures: the documented strings, hashed with the hash crates directly.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac, SimpleHmac};
use sha2::Digest;

/// The hashes the fake's shop may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Md5,
    Sha256,
}

impl Hash {
    pub fn name(self) -> &'static str {
        match self {
            Self::Md5 => "md5",
            Self::Sha256 => "sha256",
        }
    }

    pub fn hex(self, text: &str) -> String {
        match self {
            Self::Md5 => hex::encode(md5::Md5::digest(text.as_bytes())),
            Self::Sha256 => hex::encode(sha2::Sha256::digest(text.as_bytes())),
        }
    }

    fn hmac(self, key: &[u8], message: &[u8]) -> Vec<u8> {
        match self {
            Self::Md5 => {
                let mut mac = <SimpleHmac<md5::Md5> as KeyInit>::new_from_slice(key).unwrap();
                mac.update(message);
                mac.finalize().into_bytes().to_vec()
            }
            Self::Sha256 => {
                let mut mac = <SimpleHmac<sha2::Sha256> as KeyInit>::new_from_slice(key).unwrap();
                mac.update(message);
                mac.finalize().into_bytes().to_vec()
            }
        }
    }
}

fn shp_tail(shp: &[(String, String)]) -> String {
    let mut sorted: Vec<String> = shp.iter().map(|(k, v)| format!("{k}={v}")).collect();
    sorted.sort();
    sorted.iter().map(|p| format!(":{p}")).collect()
}

/// ResultURL: `OutSum:InvId:Password2[:Shp_…]`.
pub fn result(
    hash: Hash,
    out_sum: &str,
    inv_id: &str,
    password2: &str,
    shp: &[(String, String)],
) -> String {
    hash.hex(&format!("{out_sum}:{inv_id}:{password2}{}", shp_tail(shp)))
}

/// A payment link's base, from its received (decoded) parameters.
pub fn link_base(params: &std::collections::BTreeMap<String, String>, password1: &str) -> String {
    let get = |k: &str| params.get(k).cloned().unwrap_or_default();
    let mut parts = vec![get("MerchantLogin"), get("OutSum"), get("InvId")];
    if let Some(receipt) = params.get("Receipt") {
        parts.push(receipt.clone());
    }
    if params.contains_key("SuccessUrl2") || params.contains_key("FailUrl2") {
        parts.extend([
            get("SuccessUrl2"),
            get("SuccessUrl2Method"),
            get("FailUrl2"),
            get("FailUrl2Method"),
        ]);
    }
    parts.push(password1.to_owned());
    let shp: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k.to_ascii_lowercase().starts_with("shp_"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    format!("{}{}", parts.join(":"), shp_tail(&shp))
}

/// Checks a JWT signed with `key` by `hash`; returns its payload.
pub fn jwt_payload(hash: Hash, key: &str, token: &str) -> Option<serde_json::Value> {
    let (message, signature) = token.trim().trim_matches('"').rsplit_once('.')?;
    let expected = URL_SAFE_NO_PAD.encode(hash.hmac(key.as_bytes(), message.as_bytes()));
    if expected != signature {
        return None;
    }
    let (header, payload) = message.split_once('.')?;
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    if !header["alg"].as_str()?.eq_ignore_ascii_case(hash.name()) {
        return None;
    }
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}
