//! Buying as a person does in a browser: sign in, buy with the page's form, pay on the
//! sandbox's page, open the lesson — forms, cookies and redirects only.

use lyceum_e2e::db_tests;
use lyceum_e2e::money::ASSET;
use lyceum_e2e::web::hidden;

db_tests! {
    async fn a_person_buys_and_opens_a_lesson_in_the_browser(app) {
        let shop = app.shop().await;
        let course_page = app.url("/s/shop/courses/paid");
        let page = app.client.get(&course_page).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("Sign in to buy"), "{page}");

        // Signing in sets the session cookie and returns to the course.
        let login = app.web_sign_in("student@example.com", "wrong password", "/s/shop/courses/paid").await;
        assert!(login.headers()["location"].to_str().unwrap().contains("error=credentials"));
        let login = app.web_sign_in("student@example.com", "correct horse battery", "/s/shop/courses/paid").await;
        assert_eq!(login.status(), 303);
        assert_eq!(login.headers()["location"], "/s/shop/courses/paid");
        let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        let page = app.client.get(&course_page).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("Buy for 49.00 USD"), "{page}");
        let csrf = hidden(&page, "csrf");

        // Without the CSRF token the form does nothing.
        let forged = app.client.post(app.url("/s/shop/courses/paid/buy")).header("cookie", &cookie)
            .form(&[("csrf", "forged")]).send().await.unwrap();
        assert_ne!(forged.status(), 303);
        let buy = app.client.post(app.url("/s/shop/courses/paid/buy")).header("cookie", &cookie)
            .form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(buy.status(), 303);
        let pay_url = buy.headers()["location"].to_str().unwrap().to_owned();
        assert!(pay_url.contains("/sandbox/pay/"), "{pay_url}");

        // The sandbox's page takes the card from a form and sends the buyer back.
        let paid = app.client.post(&pay_url).form(&[("card", "4242 4242 4242 4242")]).send().await.unwrap();
        assert_eq!(paid.status(), 303);
        let back = paid.headers()["location"].to_str().unwrap().to_owned();
        assert!(back.contains("/checkout/") && back.contains("/complete?t="), "{back}");
        let order = back.split('/').rev().nth(1).unwrap().to_owned();
        app.wait_for_status(&shop.student, &order, "paid").await;
        let status_page = app.client.get(&back).send().await.unwrap().text().await.unwrap();
        assert!(status_page.contains("Payment confirmed"), "{status_page}");
        assert!(status_page.contains("courses&#x2f;paid") || status_page.contains("courses/paid"), "a link back to the course: {status_page}");

        let page = app.client.get(&course_page).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("You have access"), "{page}");
        // The lesson opens in the player, its video behind a signed link.
        let lesson = app.client.get(app.url(&format!("/s/shop/lessons/{}", shop.lesson))).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(lesson.status(), 200);
        let player = lesson.text().await.unwrap();
        assert!(player.contains("<video") && player.contains("Lesson one"), "{player}");
        let signed = lyceum_e2e::web::unescape(player.split("data-src=\"").nth(1).unwrap().split('"').next().unwrap());
        let bytes = app.client.get(&signed).send().await.unwrap().bytes().await.unwrap();
        assert_eq!(bytes.as_ref(), ASSET);
        // Without the cookie, the lesson asks to sign in.
        let anonymous = app.client.get(app.url(&format!("/s/shop/lessons/{}", shop.lesson))).send().await.unwrap();
        assert!(anonymous.headers()["location"].to_str().unwrap().starts_with("/login?next="));
    }
}
