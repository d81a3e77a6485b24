//! Robokassa's signatures: the strings it hashes and how they are compared.
//!
//! - payment link (Password #1): `MerchantLogin:OutSum:InvId[:Receipt][:SuccessUrl2:SuccessUrl2Method:FailUrl2:FailUrl2Method]:Password1[:Shp_a=…:Shp_b=…]`,
//!   the receipt URL-encoded (the documentation's fiscalization page; the `robokassa` PyPI
//!   library does the same), the `Shp_` parameters after the password, sorted by name;
//! - ResultURL (Password #2): `OutSum:InvId:Password2[:Shp_…]` over the **received** `OutSum`
//!   string and every received `Shp_` parameter, sorted by name;
//! - SuccessURL (Password #1): `OutSum:InvId:Password1[:Shp_…]`;
//! - OpStateExt (Password #2): `MerchantLogin:InvoiceID:Password2`.
//!
//! Signatures are lowercase hex; received ones are compared in any case, in constant time.
//! `tests/fixtures/robokassa/signatures.json` holds vectors the PyPI library computed.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use subtle::ConstantTimeEq;

use crate::HashAlgorithm;

/// A `Shp_` parameter as it is signed: `name=value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopParam {
    pub name: String,
    pub value: String,
}

impl ShopParam {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// Where Robokassa sends the buyer back to, and with which method (`GET` or `POST`): the
/// `SuccessUrl2`/`FailUrl2` parameters, which override the cabinet's SuccessURL and FailURL
/// and are then part of the link's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnUrls {
    pub success_url: String,
    pub success_method: &'static str,
    pub fail_url: String,
    pub fail_method: &'static str,
}

/// What a payment link signs. Its `Debug` leaves Password #1 out.
#[derive(Clone, Copy)]
pub struct LinkFields<'a> {
    pub merchant_login: &'a str,
    pub out_sum: &'a str,
    pub inv_id: &'a str,
    /// The receipt's JSON, already URL-encoded ([`url_encode`]).
    pub receipt: Option<&'a str>,
    pub return_urls: Option<&'a ReturnUrls>,
    pub password1: &'a str,
    pub shp: &'a [ShopParam],
}

impl std::fmt::Debug for LinkFields<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkFields")
            .field("merchant_login", &self.merchant_login)
            .field("out_sum", &self.out_sum)
            .field("inv_id", &self.inv_id)
            .field("receipt", &self.receipt)
            .field("shp", &self.shp)
            .finish_non_exhaustive()
    }
}

/// The string a payment link's `SignatureValue` hashes.
pub fn link_base(fields: &LinkFields<'_>) -> String {
    let mut parts: Vec<&str> = vec![fields.merchant_login, fields.out_sum, fields.inv_id];
    if let Some(receipt) = fields.receipt {
        parts.push(receipt);
    }
    if let Some(urls) = fields.return_urls {
        parts.extend([
            urls.success_url.as_str(),
            urls.success_method,
            urls.fail_url.as_str(),
            urls.fail_method,
        ]);
    }
    parts.push(fields.password1);
    with_shp(parts.join(":"), fields.shp)
}

/// The `SignatureValue` of a payment link.
pub fn link_signature(hash: HashAlgorithm, fields: &LinkFields<'_>) -> String {
    hash.hex_digest(&link_base(fields))
}

/// The string a ResultURL (`password` = Password #2) or SuccessURL (Password #1) notification
/// hashes: `OutSum:InvId:Password[:Shp_…]`.
pub fn result_base(out_sum: &str, inv_id: &str, password: &str, shp: &[ShopParam]) -> String {
    with_shp(format!("{out_sum}:{inv_id}:{password}"), shp)
}

/// The signature of a ResultURL or SuccessURL notification.
pub fn result_signature(
    hash: HashAlgorithm,
    out_sum: &str,
    inv_id: &str,
    password: &str,
    shp: &[ShopParam],
) -> String {
    hash.hex_digest(&result_base(out_sum, inv_id, password, shp))
}

/// The `Signature` of an OpStateExt request: `MerchantLogin:InvoiceID:Password2`.
pub fn op_state_signature(
    hash: HashAlgorithm,
    merchant_login: &str,
    inv_id: &str,
    password2: &str,
) -> String {
    hash.hex_digest(&format!("{merchant_login}:{inv_id}:{password2}"))
}

/// Whether a received hex signature equals the expected one, in any letter case and in
/// constant time (for signatures of the same length).
pub fn matches(received: &str, expected: &str) -> bool {
    let received = received.trim().to_ascii_lowercase();
    let expected = expected.to_ascii_lowercase();
    received.len() == expected.len() && bool::from(received.as_bytes().ct_eq(expected.as_bytes()))
}

fn with_shp(mut base: String, shp: &[ShopParam]) -> String {
    let mut sorted: Vec<&ShopParam> = shp.iter().collect();
    // By name, as Python sorts strings (by code point; UTF-8 byte order is the same).
    sorted.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.value.cmp(&b.value)));
    for p in sorted {
        base.push(':');
        base.push_str(&p.name);
        base.push('=');
        base.push_str(&p.value);
    }
    base
}

/// Percent-encodes every byte of `text`'s UTF-8 except the unreserved `A–Z a–z 0–9 - . _ ~`
/// (uppercase hex), as Python's `urllib.parse.quote(text, safe="")` and PHP's `rawurlencode`
/// do: how the receipt is encoded before it is signed and sent.
pub fn url_encode(text: &str) -> String {
    utf8_percent_encode(text, UNRESERVED).to_string()
}

/// Everything but RFC 3986's unreserved characters is escaped (`%XX`, upper-case hex).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_link_example_hashes_as_both_libraries_do() {
        // ../shared/GATEWAYS.md §5: both PyPI libraries give this MD5.
        let shp = [
            ShopParam::new("Shp_tenant", "acme"),
            ShopParam::new("Shp_course", "rust101"),
        ];
        let fields = LinkFields {
            merchant_login: "demo",
            out_sum: "100.00",
            inv_id: "42",
            receipt: None,
            return_urls: None,
            password1: "pass1",
            shp: &shp,
        };
        assert_eq!(
            link_base(&fields),
            "demo:100.00:42:pass1:Shp_course=rust101:Shp_tenant=acme"
        );
        assert_eq!(
            link_signature(HashAlgorithm::Md5, &fields),
            "daf7545c9830a8269976797686c13ef9"
        );
    }

    #[test]
    fn the_result_base_is_the_documented_one() {
        let shp = [
            ShopParam::new("Shp_oplata", "1"),
            ShopParam::new("Shp_login", "Vasya"),
        ];
        assert_eq!(
            result_base("100.000000", "450009", "Пароль#2", &shp),
            "100.000000:450009:Пароль#2:Shp_login=Vasya:Shp_oplata=1"
        );
    }

    #[test]
    fn comparison_ignores_case_and_refuses_other_lengths() {
        assert!(matches("ABCdef", "abcdef"));
        assert!(!matches("abcde", "abcdef"));
        assert!(!matches("abcdee", "abcdef"));
    }

    #[test]
    fn url_encoding_is_quote_with_nothing_safe() {
        assert_eq!(
            url_encode(r#"{"a": "Курс 1/2"}"#),
            "%7B%22a%22%3A%20%22%D0%9A%D1%83%D1%80%D1%81%201%2F2%22%7D"
        );
        assert_eq!(url_encode("a-b.c_d~e"), "a-b.c_d~e");
    }
}
