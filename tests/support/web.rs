//! A browser's view: forms, cookies and redirects, and sending a request to another `Host`
//! (a storefront's subdomain or custom domain) on the same test server.

use reqwest::Response;

use crate::TestApp;

/// The value of the hidden form field `name` in `html`.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in {html}"))
        + marker.len();
    unescape(html[start..].split('"').next().unwrap())
}

/// Undoes the HTML escaping of an attribute value.
pub fn unescape(value: &str) -> String {
    value
        .replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// `name=value` of the cookie `name` a response sets, if it sets one.
pub fn set_cookie(resp: &Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
        .find(|pair| pair.starts_with(&format!("{name}=")) && pair.len() > name.len() + 1)
}

/// The `Location` of a redirect.
pub fn location(resp: &Response) -> String {
    resp.headers()
        .get("location")
        .unwrap_or_else(|| panic!("no Location in a {} answer", resp.status()))
        .to_str()
        .unwrap()
        .to_owned()
}

/// A sign-in form as a browser loads it: its cookie and its token.
#[derive(Debug, Clone)]
pub struct SignInForm {
    pub cookie: String,
    pub csrf: String,
    pub html: String,
}

impl TestApp {
    /// GET `path` on this server as if sent to `host`, with `cookie` (`name=value; …`).
    pub async fn get_on(&self, host: &str, path: &str, cookie: Option<&str>) -> Response {
        let mut req = self.client.get(self.url(path)).header("host", host);
        if let Some(cookie) = cookie {
            req = req.header("cookie", cookie);
        }
        req.send().await.unwrap()
    }

    /// Loads the platform's sign-in (or registration) page at `path`.
    pub async fn sign_in_form(&self, path: &str) -> SignInForm {
        let resp = self.client.get(self.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let cookie = set_cookie(&resp, "lyceum_form").expect("the form sets its cookie");
        let html = resp.text().await.unwrap();
        SignInForm {
            csrf: hidden(&html, "csrf"),
            cookie,
            html,
        }
    }

    /// Signs in through the web form (loading it first, as a browser does); returns the answer.
    pub async fn web_sign_in(&self, email: &str, password: &str, next: &str) -> Response {
        let form = self.sign_in_form("/login").await;
        self.client
            .post(self.url("/login"))
            .header("cookie", &form.cookie)
            .form(&[
                ("email", email),
                ("password", password),
                ("next", next),
                ("csrf", form.csrf.as_str()),
            ])
            .send()
            .await
            .unwrap()
    }
}
