//! The pay page's HTML. Every interpolated value goes through [`escape`]; links go through
//! [`href`] so only web URLs become links.

use std::fmt::Write;

use crate::flows::Card;
use crate::store::{Session, SessionStatus};

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0}\
main{max-width:28rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:.75rem;\
box-shadow:0 1px 4px #0002}h1{font-size:1.5rem}.badge{display:inline-block;background:#ffe9a8;\
padding:.2rem .6rem;border-radius:1rem;font-size:.8rem}.error{background:#fde2e2;color:#8a1c1c;\
padding:.6rem;border-radius:.4rem}label{display:block;margin:1rem 0 .3rem}input{width:100%;\
box-sizing:border-box;padding:.6rem;font-size:1rem;font-family:monospace}button{margin-top:1rem;\
width:100%;padding:.7rem;font-size:1rem;background:#2456d3;color:#fff;border:0;\
border-radius:.4rem;cursor:pointer}table{width:100%;border-collapse:collapse}td{padding:.2rem 0}\
td.n{text-align:right}.muted{color:#666;font-size:.85rem}code{font-size:.95rem}";

/// Text made safe for HTML content and quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A link target: web URLs and paths only, so a stored `javascript:` URL never runs.
fn href(url: &str) -> String {
    let lower = url.trim_start().to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with('/') {
        escape(url)
    } else {
        "#".to_owned()
    }
}

fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Lyceum sandbox</title><style>{STYLE}</style></head>\
         <body><main><p class=\"badge\">Sandbox: no real money moves</p>{body}</main></body></html>\n",
        escape(title)
    )
}

/// The pay page: amount, order lines, the card form (posting to this same URL), a cancel link
/// and the test cards; `message` is a decline to show above the form.
pub(crate) fn pay_page(session: &Session, message: Option<&str>) -> String {
    let amount = escape(&format!(
        "{} {}",
        session.total.to_decimal_string(),
        session.total.currency
    ));
    let mut body = format!("<h1>Pay {amount}</h1>");
    if !session.lines.is_empty() {
        body.push_str("<table>");
        for line in &session.lines {
            let _ = write!(
                body,
                "<tr><td>{} × {}</td><td class=\"n\">{} {}</td></tr>",
                escape(&line.title),
                line.quantity,
                escape(&line.unit_price.to_decimal_string()),
                escape(line.unit_price.currency.code()),
            );
        }
        body.push_str("</table>");
    }
    if let Some(message) = message {
        let _ = write!(
            body,
            "<p class=\"error\" role=\"alert\">{}</p>",
            escape(message)
        );
    }
    // No `action`: the form posts back to the URL it was served from.
    let _ = write!(
        body,
        "<form method=\"post\"><label for=\"card\">Card number</label>\
         <input id=\"card\" name=\"card\" value=\"\" inputmode=\"numeric\" autocomplete=\"off\" \
         placeholder=\"4242 4242 4242 4242\" required autofocus>\
         <button type=\"submit\">Pay {amount}</button></form>\
         <p><a href=\"{}\">Cancel and go back</a></p>\
         <h2>Test cards</h2><ul>\
         <li><code>{}</code> succeeds</li>\
         <li><code>{}</code> is declined</li>\
         <li><code>{}</code> succeeds, then the buyer disputes it</li>\
         <li>any other number is declined</li></ul>\
         <p class=\"muted\">This page expires at {} UTC.</p>",
        href(&session.cancel_url),
        spaced(Card::SUCCEEDS),
        spaced(Card::DECLINED),
        spaced(Card::DISPUTED),
        escape(&session.expires_at.format("%Y-%m-%d %H:%M").to_string()),
    );
    document("Checkout", &body)
}

/// The page for a session that can no longer be paid.
pub(crate) fn closed_page(session: &Session) -> String {
    let (title, text, link, label) = match session.status {
        SessionStatus::Paid => (
            "Already paid",
            "This checkout is already paid.",
            &session.success_url,
            "Continue",
        ),
        SessionStatus::Open | SessionStatus::Expired => (
            "Checkout expired",
            "This checkout has expired; start again from the shop.",
            &session.cancel_url,
            "Back to the shop",
        ),
    };
    let body = format!(
        "<h1>{}</h1><p>{}</p><p><a href=\"{}\">{}</a></p>",
        escape(title),
        escape(text),
        href(link),
        escape(label)
    );
    document(title, &body)
}

/// The page for a session id the sandbox does not know.
pub(crate) fn not_found_page() -> String {
    document(
        "Not found",
        "<h1>No such checkout</h1><p>The link may be mistyped, or from another sandbox.</p>",
    )
}

/// `4242424242424242` as `4242 4242 4242 4242`.
fn spaced(number: &str) -> String {
    let digits: Vec<char> = number.chars().collect();
    digits
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn only_web_urls_become_links() {
        assert_eq!(
            href("https://shop/ok?a=1&b=2"),
            "https://shop/ok?a=1&amp;b=2"
        );
        assert_eq!(href("/orders/1"), "/orders/1");
        assert_eq!(href("javascript:alert(1)"), "#");
        assert_eq!(href(" JavaScript:alert(1)"), "#");
    }

    #[test]
    fn card_numbers_are_grouped() {
        assert_eq!(spaced(Card::SUCCEEDS), "4242 4242 4242 4242");
    }
}
