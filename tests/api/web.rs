//! The web pages as an attacker would try them: headers on every page, redirects that must
//! stay on the site, sign-in forms another site cannot post, sessions bound to the host they
//! were made on, custom domains served only once verified, order pages only for their buyer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;
use lyceum::services::tenancy::domains::DnsProbe;
use lyceum_e2e::web::{hidden, location, set_cookie};
use lyceum_e2e::{Backend, TestApp, db_tests, spawn_app_with};
use reqwest::Method;
use serde_json::json;

/// Scripts only from the platform's own origin, never inline; no framing.
fn assert_page_headers(resp: &reqwest::Response, what: &str) {
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what}: no {name}"))
            .to_owned()
    };
    let csp = header("content-security-policy");
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"))
        .unwrap_or_else(|| panic!("{what}: no script-src in {csp}"));
    assert!(!script_src.contains("unsafe-inline"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-eval"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert_eq!(header("x-frame-options"), "DENY", "{what}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    assert!(!header("referrer-policy").is_empty(), "{what}");
}

db_tests! {
    async fn every_page_carries_security_headers(app) {
        let admin = app.admin("root@example.com").await;
        let owner = app.active_tenant("school", "owner@example.com", &admin).await;
        app.course("school", &owner, "intro", 0).await;
        app.post("/api/v1/tenants/school/courses/intro/publish", Some(&owner), json!({})).await.expect(200);
        for path in ["/", "/s/school", "/s/school/courses/intro", "/login", "/register", "/s/nowhere", "/api/docs/"] {
            let resp = app.client.get(app.url(path)).send().await.unwrap();
            assert_page_headers(&resp, path);
        }
        let storefront = app.get_on("school.lyceum.test", "/", None).await;
        assert_eq!(storefront.status(), 200);
        assert_page_headers(&storefront, "school.lyceum.test/");
        // The API docs run the Swagger UI's own inline scripts, allowed one by one by hash.
        let docs = app.client.get(app.url("/api/docs/")).send().await.unwrap();
        let csp = docs.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("'sha256-"), "{csp}");
        // JSON is never sniffed into anything else either.
        let api = app.client.get(app.url("/api/v1/tenants/school/courses")).send().await.unwrap();
        assert_eq!(api.headers()["x-content-type-options"], "nosniff");
        assert!(api.headers().get("strict-transport-security").is_none(), "no HSTS over plain http");
    }

    async fn hsts_is_sent_when_the_platform_is_https(app) {
        let https = spawn_app_with(Backend::Sqlite, |s| s.public_url = url::Url::parse("https://127.0.0.1:0").unwrap()).await.unwrap();
        let resp = https.client.get(https.url("/healthz")).send().await.unwrap();
        assert!(resp.headers()["strict-transport-security"].to_str().unwrap().starts_with("max-age="));
        https.stop().await;
        let plain = app.client.get(app.url("/healthz")).send().await.unwrap();
        assert!(plain.headers().get("strict-transport-security").is_none());
    }

    async fn sign_in_redirects_never_leave_the_site(app) {
        app.register("ann@example.com").await;
        for evil in ["//evil.example/", "/\\evil.example", "/\t/evil.example", "https://evil.example/", "/ /evil.example", "\\\\evil.example", "///evil.example"] {
            let form = app.sign_in_form(&format!("/login?next={}", urlencode(evil))).await;
            let next = hidden(&form.html, "next");
            assert!(next.starts_with('/') && !next.starts_with("//") && !next.contains('\\'), "{evil:?} → form next {next:?}");
            let resp = app.client.post(app.url("/login")).header("cookie", &form.cookie)
                .form(&[("email", "ann@example.com"), ("password", "correct horse battery"), ("next", evil), ("csrf", form.csrf.as_str())])
                .send().await.unwrap();
            assert_eq!(resp.status(), 303, "{evil:?}");
            let to = location(&resp);
            assert!(to.starts_with('/') && !to.starts_with("//") && !to.contains('\\') && !to.chars().any(char::is_control), "{evil:?} → {to:?}");
            assert!(!to.contains("evil.example"), "{evil:?} → {to:?}");
        }
        // A same-site path survives intact.
        let resp = app.web_sign_in("ann@example.com", "correct horse battery", "/s/school/courses/x?y=1").await;
        assert_eq!(location(&resp), "/s/school/courses/x?y=1");
    }

    async fn sign_in_and_registration_forms_need_their_token(app) {
        app.register("victim-attacker@example.com").await;
        // Another site posts the form: no form cookie, or a token of another browser.
        let other_browser = app.sign_in_form("/login").await;
        for (cookie, csrf) in [(None, ""), (None, other_browser.csrf.as_str()), (Some("lyceum_form=forged-forged-forged-forged-forged-forged-forge"), other_browser.csrf.as_str())] {
            let mut req = app.client.post(app.url("/login"))
                .form(&[("email", "victim-attacker@example.com"), ("password", "correct horse battery"), ("next", "/"), ("csrf", csrf)]);
            if let Some(cookie) = cookie {
                req = req.header("cookie", cookie);
            }
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 403, "{cookie:?}");
            assert!(set_cookie(&resp, "lyceum_session").is_none(), "no session without the form's token");
        }
        let resp = app.client.post(app.url("/register"))
            .form(&[("name", "Mallory"), ("email", "new@example.com"), ("password", "correct horse battery"), ("csrf", "")])
            .send().await.unwrap();
        assert_eq!(resp.status(), 403);
        // Nothing was created by the refused registration.
        let login = app.post("/api/v1/auth/login", None, json!({"email": "new@example.com", "password": "correct horse battery"})).await;
        assert_eq!(login.status, 401);

        // The page's own form works, and so does registering through it.
        let ok = app.web_sign_in("victim-attacker@example.com", "correct horse battery", "/").await;
        assert_eq!(ok.status(), 303);
        assert!(set_cookie(&ok, "lyceum_session").is_some());
        let form = app.sign_in_form("/register").await;
        let resp = app.client.post(app.url("/register")).header("cookie", &form.cookie)
            .form(&[("name", "New"), ("email", "new@example.com"), ("password", "correct horse battery"), ("next", "/"), ("csrf", form.csrf.as_str())])
            .send().await.unwrap();
        assert_eq!(resp.status(), 303);
        assert!(set_cookie(&resp, "lyceum_session").is_some());
        app.post("/api/v1/auth/login", None, json!({"email": "new@example.com", "password": "correct horse battery"})).await.expect(200);
    }

    async fn a_storefront_session_is_valid_on_its_own_host_only(app) {
        let admin = app.admin("root@example.com").await;
        let owner = app.active_tenant("school", "owner@example.com", &admin).await;
        app.course("school", &owner, "paid", 4900).await;
        app.post("/api/v1/tenants/school/courses/paid/publish", Some(&owner), json!({})).await.expect(200);
        let other_owner = app.active_tenant("other", "other@example.com", &admin).await;
        app.course("other", &other_owner, "theirs", 100).await;
        app.post("/api/v1/tenants/other/courses/theirs/publish", Some(&other_owner), json!({})).await.expect(200);
        app.register("student@example.com").await;
        let port = app.base.rsplit(':').next().unwrap().to_owned();
        let school = format!("school.lyceum.test:{port}");

        // Passwords are not taken on the storefront's host: it sends the visitor to the platform.
        let resp = app.get_on(&school, "/login?next=/courses/paid", None).await;
        assert_eq!(resp.status(), 303);
        let to = location(&resp);
        assert!(to.starts_with(&app.base) && to.contains("site=school.lyceum.test") && to.contains("next=%2Fcourses%2Fpaid"), "{to}");
        // The host keeps a nonce in this browser: only it can redeem the code to come.
        let nonce_cookie = set_cookie(&resp, "lyceum_handoff").expect("the handoff nonce");
        let post_on_host = app.client.post(app.url("/login")).header("host", &school)
            .form(&[("email", "student@example.com"), ("password", "correct horse battery")]).send().await.unwrap();
        assert!(post_on_host.status() == 404 || post_on_host.status() == 405, "{}", post_on_host.status());
        assert!(set_cookie(&post_on_host, "lyceum_session").is_none());

        // Signing in on the platform hands the visitor back with a one-time code.
        let form = app.sign_in_form(to.trim_start_matches(&app.base)).await;
        assert_eq!(hidden(&form.html, "site"), "school.lyceum.test");
        let nonce = hidden(&form.html, "state");
        assert_eq!(format!("lyceum_handoff={nonce}"), nonce_cookie);
        let signed = app.client.post(app.url("/login")).header("cookie", &form.cookie)
            .form(&[("email", "student@example.com"), ("password", "correct horse battery"), ("next", "/courses/paid"), ("site", "school.lyceum.test"), ("state", nonce.as_str()), ("csrf", form.csrf.as_str())])
            .send().await.unwrap();
        assert_eq!(signed.status(), 303);
        let platform_cookie = set_cookie(&signed, "lyceum_session").expect("a platform session");
        let handoff = location(&signed);
        assert!(handoff.starts_with(&format!("http://school.lyceum.test:{port}/auth/handoff?code=")), "{handoff}");
        let path = handoff.split_once(&port).unwrap().1.to_owned();

        // The code is redeemed on the storefront's host only, in the browser that started the
        // sign-in only (an attacker's own code planted in a victim's browser signs nobody in),
        // and once.
        let elsewhere = app.get_on(&format!("other.lyceum.test:{port}"), &path, Some(&nonce_cookie)).await;
        assert!(set_cookie(&elsewhere, "lyceum_session").is_none());
        for planted in [None, Some("lyceum_handoff=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] {
            let refused = app.get_on(&school, &path, planted).await;
            assert_eq!(refused.status(), 403, "{planted:?}");
            assert!(set_cookie(&refused, "lyceum_session").is_none());
        }
        let redeemed = app.get_on(&school, &path, Some(&nonce_cookie)).await;
        assert_eq!(redeemed.status(), 303);
        assert_eq!(location(&redeemed), "/courses/paid");
        let host_cookie = set_cookie(&redeemed, "lyceum_session").expect("a storefront session");
        assert_ne!(host_cookie, platform_cookie);
        let again = app.get_on(&school, &path, Some(&nonce_cookie)).await;
        assert_eq!(again.status(), 403);
        assert!(set_cookie(&again, "lyceum_session").is_none());

        // The storefront session works where it was made ...
        let page = app.get_on(&school, "/courses/paid", Some(&host_cookie)).await.text().await.unwrap();
        assert!(page.contains("Buy for 49.00 USD"), "{page}");
        // ... and nowhere else: not on the platform, not on another storefront, not in the API.
        let on_platform = app.client.get(app.url("/s/school/courses/paid")).header("cookie", &host_cookie).send().await.unwrap().text().await.unwrap();
        assert!(on_platform.contains("Sign in to buy"), "{on_platform}");
        let other = app.get_on(&format!("other.lyceum.test:{port}"), "/courses/theirs", Some(&host_cookie)).await;
        assert_eq!(other.status(), 200);
        let other = other.text().await.unwrap();
        assert!(other.contains("Sign in to buy") && !other.contains("Sign out"), "{other}");
        let me = app.client.get(app.url("/api/v1/me")).header("cookie", &host_cookie).send().await.unwrap();
        assert_eq!(me.status(), 401);
        let buy = app.client.post(app.url("/s/school/courses/paid/buy")).header("cookie", &host_cookie)
            .form(&[("csrf", hidden(&page, "csrf").as_str())]).send().await.unwrap();
        assert_ne!(buy.status(), 303, "a storefront session cannot buy on the platform");
        // The platform's session is not accepted on the storefront's host either.
        let page = app.get_on(&school, "/courses/paid", Some(&platform_cookie)).await.text().await.unwrap();
        assert!(page.contains("Sign in to buy"), "{page}");

        // A sign-in for a storefront that did not start on its host goes there first.
        let unstarted = app.client.get(app.url("/login?site=school.lyceum.test&next=/courses/paid")).header("cookie", &platform_cookie).send().await.unwrap();
        assert_eq!(location(&unstarted), format!("http://school.lyceum.test:{port}/login?next=%2Fcourses%2Fpaid"));
        // Already signed in on the platform: the visitor is asked before going on.
        let start = app.get_on(&school, "/login?next=/courses/paid", None).await;
        let to = location(&start);
        let consent = app.client.get(&to).header("cookie", &platform_cookie).send().await.unwrap().text().await.unwrap();
        assert!(consent.contains("Continue to School"), "{consent}");
        let csrf = hidden(&consent, "csrf");
        let nonce = hidden(&consent, "state");
        let forged = app.client.post(app.url("/login/handoff")).header("cookie", &platform_cookie)
            .form(&[("csrf", "forged"), ("site", "school.lyceum.test"), ("state", nonce.as_str()), ("next", "/")]).send().await.unwrap();
        assert!(forged.headers().get("location").is_none_or(|l| !l.to_str().unwrap().contains("code=")));
        let go = app.client.post(app.url("/login/handoff")).header("cookie", &platform_cookie)
            .form(&[("csrf", csrf.as_str()), ("site", "school.lyceum.test"), ("state", nonce.as_str()), ("next", "/courses/paid")]).send().await.unwrap();
        assert!(location(&go).contains("/auth/handoff?code="), "{}", location(&go));
        // A site that is not a live storefront gets no code.
        let nowhere = app.client.post(app.url("/login/handoff")).header("cookie", &platform_cookie)
            .form(&[("csrf", csrf.as_str()), ("site", "evil.example"), ("state", nonce.as_str()), ("next", "/")]).send().await.unwrap();
        assert!(nowhere.headers().get("location").is_none_or(|l| !l.to_str().unwrap().contains("code=")));
    }

    async fn the_invitation_link_accepts_in_the_browser(app) {
        let admin = app.admin("root@example.com").await;
        let owner = app.active_tenant("school", "owner@example.com", &admin).await;
        let (editor, _) = app.register("editor@example.com").await;
        app.post("/api/v1/tenants/school/members", Some(&owner), json!({"email": "editor@example.com", "role": "editor"})).await.expect(201);
        let token = app.invitation_token("editor@example.com").await;
        let page = format!("/invitations/{token}");
        // Signed out, the link asks to sign in and comes back.
        let anonymous = app.client.get(app.url(&page)).send().await.unwrap();
        assert!(location(&anonymous).starts_with("/login?next=%2Finvitations%2F"), "{}", location(&anonymous));
        let signed = app.web_sign_in("editor@example.com", "correct horse battery", &page).await;
        let cookie = set_cookie(&signed, "lyceum_session").unwrap();
        let html = app.client.get(app.url(&page)).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
        let csrf = hidden(&html, "csrf");
        let forged = app.client.post(app.url(&page)).header("cookie", &cookie).form(&[("csrf", "forged")]).send().await.unwrap();
        assert_eq!(forged.status(), 403);
        app.post("/api/v1/tenants/school/courses", Some(&editor), json!({"slug": "early", "title": "Early", "price": {"amount": 0, "currency": "USD"}})).await.expect_problem(403);
        let accepted = app.client.post(app.url(&page)).header("cookie", &cookie).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(accepted.status(), 200);
        app.post("/api/v1/tenants/school/courses", Some(&editor), json!({"slug": "mine", "title": "Mine", "price": {"amount": 0, "currency": "USD"}})).await.expect(201);
    }

    async fn the_order_page_shows_an_order_to_its_link_or_its_buyer_only(app) {
        let admin = app.admin("root@example.com").await;
        let owner = app.active_tenant("school", "owner@example.com", &admin).await;
        app.course("school", &owner, "free", 0).await;
        app.post("/api/v1/tenants/school/courses/free/publish", Some(&owner), json!({})).await.expect(200);
        let (buyer, _) = app.register("buyer@example.com").await;
        let started = app.post("/api/v1/tenants/school/checkout", Some(&buyer), json!({"items": [{"course": "free"}]})).await.expect(201);
        let id = started["order"]["id"].as_str().unwrap().to_owned();
        let link = started["redirect_url"].as_str().unwrap().to_owned();
        assert!(link.contains(&format!("/checkout/{id}/complete?t=")), "{link}");
        assert_eq!(app.client.get(&link).send().await.unwrap().status(), 200);
        let token = link.rsplit_once("?t=").unwrap().1;
        let tampered = format!("{}{}", if token.starts_with('A') { 'B' } else { 'A' }, &token[1..]);
        for guess in [format!("/checkout/{id}/complete"), format!("/checkout/{id}/complete?t=AAAA"), format!("/checkout/{id}/complete?t={tampered}")] {
            let resp = app.client.get(app.url(&guess)).send().await.unwrap();
            assert_eq!(resp.status(), 404, "{guess}");
        }
        // Its buyer, signed in on the platform, sees it without the token; someone else does not.
        let mine = app.web_sign_in("buyer@example.com", "correct horse battery", "/").await;
        let cookie = set_cookie(&mine, "lyceum_session").unwrap();
        let page = app.client.get(app.url(&format!("/checkout/{id}/complete"))).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(page.status(), 200);
        app.register("nosy@example.com").await;
        let nosy = app.web_sign_in("nosy@example.com", "correct horse battery", "/").await;
        let cookie = set_cookie(&nosy, "lyceum_session").unwrap();
        let page = app.client.get(app.url(&format!("/checkout/{id}/complete"))).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(page.status(), 404);
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// DNS records the test publishes.
#[derive(Debug, Default)]
struct FakeDns(Mutex<HashMap<String, Vec<String>>>);

impl DnsProbe for FakeDns {
    fn txt_records<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Vec<String>, String>> {
        let records = self
            .0
            .lock()
            .unwrap()
            .get(name)
            .cloned()
            .unwrap_or_default();
        Box::pin(async move { Ok(records) })
    }
}

async fn custom_domains_need_proof_of_control(backend: Backend) {
    let dns = Arc::new(FakeDns::default());
    let probe: Arc<dyn DnsProbe> = dns.clone();
    let Some(app) = spawn_app_with(backend, |s| s.dns_probe = Some(probe)).await else {
        return;
    };
    check_custom_domains(&app, &dns).await;
    app.stop().await;
}

async fn check_custom_domains(app: &TestApp, dns: &FakeDns) {
    let admin = app.admin("root@example.com").await;
    let owner = app
        .active_tenant("school", "owner@example.com", &admin)
        .await;
    let rival = app
        .active_tenant("rival", "rival@example.com", &admin)
        .await;
    let set = |token: String, domain: &'static str, tenant: &'static str| async move {
        app.call(
            Method::PATCH,
            &format!("/api/v1/tenants/{tenant}"),
            Some(&token),
            Some(json!({"custom_domain": domain})),
        )
        .await
        .expect(200)
    };
    let body = set(owner.clone(), "learn.example.org", "school").await;
    assert!(
        body["custom_domain"].is_null(),
        "not served before it is verified: {body}"
    );
    let verification = &body["domain_verification"];
    assert_eq!(verification["domain"], "learn.example.org");
    assert_eq!(
        verification["record_name"],
        "_lyceum-challenge.learn.example.org"
    );
    let value = verification["record_value"].as_str().unwrap().to_owned();
    // A rival may ask for the same domain; asking proves nothing.
    set(rival.clone(), "learn.example.org", "rival").await;

    let page = app.get_on("learn.example.org", "/", None).await;
    assert_eq!(page.status(), 404, "an unverified domain serves nothing");
    app.post(
        "/api/v1/tenants/school/domain/verify",
        Some(&owner),
        json!({}),
    )
    .await
    .expect_problem(422);
    dns.0.lock().unwrap().insert(
        "_lyceum-challenge.learn.example.org".into(),
        vec!["something else".into(), value.clone()],
    );
    // The rival's token is not the published one.
    app.post(
        "/api/v1/tenants/rival/domain/verify",
        Some(&rival),
        json!({}),
    )
    .await
    .expect_problem(422);
    let verified = app
        .post(
            "/api/v1/tenants/school/domain/verify",
            Some(&owner),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(verified["custom_domain"], "learn.example.org");
    assert!(
        verified
            .get("domain_verification")
            .is_none_or(serde_json::Value::is_null),
        "{verified}"
    );
    let page = app.get_on("learn.example.org:443", "/", None).await;
    assert_eq!(page.status(), 200);
    // Only the owner verifies; the API itself is not served on the storefront's domain.
    app.post(
        "/api/v1/tenants/school/domain/verify",
        Some(&rival),
        json!({}),
    )
    .await
    .expect_problem(403);
    let api = app
        .get_on("learn.example.org", "/api/v1/tenants/school/courses", None)
        .await;
    assert_eq!(api.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_domains_need_proof_of_control_on_sqlite() {
    custom_domains_need_proof_of_control(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_domains_need_proof_of_control_on_postgres() {
    custom_domains_need_proof_of_control(Backend::Postgres).await;
}
