//! Learning after the purchase: progress merged out of order, completion exactly at the
//! threshold, one certificate under racing completions and revoked by a refund, quizzes that
//! never show their answers and hold their limits on the server, drip boundaries, and a real
//! video transcoded to HLS whose playlists stop with the refund.

use chrono::{Duration, Utc};
use futures_util::future::join_all;
use lyceum::entities::{
    certificates, entitlements, lesson_progress, lessons, outbox, quiz_attempts, transcodes,
};
use lyceum_e2e::money::Shop;
use lyceum_e2e::{TestApp, db_tests};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use serde_json::{Value, json};

/// Adds a required text lesson (Markdown) to the shop's course; returns its id.
async fn text_lesson(app: &TestApp, shop: &Shop, title: &str, extra: Value) -> String {
    let detail = app
        .get(
            "/api/v1/tenants/shop/studio/courses/paid",
            Some(&shop.owner),
        )
        .await
        .expect(200);
    let section = detail["sections"][0]["id"].as_str().unwrap().to_owned();
    let mut body = json!({"title": title, "kind": "text", "body": "# Notes\n\n```rust\nfn main() {}\n```\n\n<script>alert(1)</script>"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.post(
        &format!("/api/v1/tenants/shop/courses/paid/sections/{section}/lessons"),
        Some(&shop.owner),
        body,
    )
    .await
    .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn set_duration(app: &TestApp, lesson: &str, seconds: i32) {
    let row = lessons::Entity::find_by_id(lesson.parse::<uuid::Uuid>().unwrap())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let mut active: lessons::ActiveModel = row.into();
    active.duration_seconds = Set(Some(seconds));
    active.update(&app.state.db).await.unwrap();
}

async fn report(
    app: &TestApp,
    token: &str,
    lesson: &str,
    position: u32,
    watched: u32,
    sent_at: chrono::DateTime<Utc>,
) -> Value {
    app.put(
        &format!("/api/v1/tenants/shop/lessons/{lesson}/progress"),
        Some(token),
        json!({"position_seconds": position, "watched_seconds": watched, "sent_at": sent_at.to_rfc3339()}),
    )
    .await
    .expect(200)
}

db_tests! {
    async fn progress_completes_a_course_once_and_a_refund_revokes_its_certificate(app) {
        let shop = app.shop().await;
        let video = shop.lesson.clone();
        set_duration(&app, &video, 100).await;
        let text = text_lesson(&app, &shop, "Reading", json!({})).await;
        // Before buying: 402, and progress cannot be reported.
        app.get(&format!("/api/v1/tenants/shop/lessons/{text}"), Some(&shop.student)).await.expect_problem(402);
        let order = app.buy(&shop.student, "paid").await;

        // Markdown rendered and sanitised.
        let page = app.get(&format!("/api/v1/tenants/shop/lessons/{text}"), Some(&shop.student)).await.expect(200);
        let html = page["html"].as_str().unwrap();
        assert!(html.contains("<h1>Notes</h1>") && html.contains("language-rust"), "{html}");
        assert!(!html.contains("<script"), "{html}");

        // Nobody watches faster than twice the time since they opened the lesson.
        let t0 = Utc::now() - Duration::seconds(30);
        let rushed = report(&app, &shop.student, &video, 0, 100, t0).await;
        assert_eq!(rushed["lesson"]["watched_seconds"], 30, "{rushed}");
        assert!(rushed["lesson"].get("completed_at").is_none(), "{rushed}");
        // The learner opened it ten minutes ago, then.
        let row = lesson_progress::Entity::find().one(&app.state.db).await.unwrap().unwrap();
        let mut active: lesson_progress::ActiveModel = row.into();
        active.first_seen_at = Set(Utc::now() - Duration::minutes(10));
        active.update(&app.state.db).await.unwrap();
        // Out of order: the later report (by the player's clock) wins the position, watch time only grows.
        report(&app, &shop.student, &video, 60, 60, t0 + Duration::seconds(20)).await;
        let late = report(&app, &shop.student, &video, 30, 30, t0 + Duration::seconds(10)).await;
        assert_eq!((late["lesson"]["position_seconds"].as_u64(), late["lesson"]["watched_seconds"].as_u64()), (Some(60), Some(60)), "{late}");
        // 79 of 100 seconds is not yet 80%; 80 is, exactly.
        let below = report(&app, &shop.student, &video, 79, 79, t0 + Duration::seconds(21)).await;
        assert!(below["lesson"].get("completed_at").is_none(), "{below}");
        assert_eq!(below["course"]["percent"], 0);
        let at = report(&app, &shop.student, &video, 80, 80, t0 + Duration::seconds(22)).await;
        assert!(at["lesson"]["completed_at"].is_string(), "{at}");
        assert_eq!(at["course"]["percent"], 50);
        // A video with a known length is done by watching, not by saying so.
        app.post(&format!("/api/v1/tenants/shop/lessons/{video}/done"), Some(&shop.student), json!({})).await.expect_problem(409);

        // Racing "done"s of the last lesson complete the course once: one certificate, one e-mail.
        let done_path = format!("/api/v1/tenants/shop/lessons/{text}/done");
        let done = join_all((0..6).map(|_| app.post(&done_path, Some(&shop.student), json!({})))).await;
        let mut codes = Vec::new();
        for reply in done {
            let body = reply.expect(200);
            assert_eq!(body["course"]["percent"], 100, "{body}");
            codes.push(body["course"]["certificate"].as_str().unwrap().to_owned());
        }
        codes.dedup();
        assert_eq!(codes.len(), 1, "{codes:?}");
        let code = codes.remove(0);
        assert_eq!(certificates::Entity::find().count(&app.state.db).await.unwrap(), 1);
        let mails = outbox::Entity::find()
            .filter(outbox::Column::Kind.eq(outbox::OutboxKind::CertificateIssued))
            .count(&app.state.db)
            .await
            .unwrap();
        assert_eq!(mails, 1);

        // The dashboard and the public verification.
        let mine = app.get("/api/v1/me/learning", Some(&shop.student)).await.expect(200);
        let course = &mine.as_array().unwrap()[0];
        assert_eq!((course["percent"].as_u64(), course["access"].as_str(), course["certificate"].as_str()), (Some(100), Some("active"), Some(code.as_str())), "{mine}");
        assert_eq!(course["last_lesson"].as_str(), Some(text.as_str()));
        let verified = app.get(&format!("/api/v1/certificates/{}", code.to_lowercase()), None).await.expect(200);
        assert_eq!((verified["status"].as_str(), verified["course"].as_str()), (Some("valid"), Some("Paid course")), "{verified}");
        let pdf = app.client.get(app.url(&format!("/api/v1/certificates/{code}/pdf"))).send().await.unwrap();
        assert_eq!(pdf.status(), 200);
        assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"));
        app.get("/api/v1/certificates/LYC-0000-0000-0000-0000", None).await.expect_problem(404);
        // Its public page, which the QR code on the PDF points at; JSON for a client that asks.
        assert_eq!(verified["url"].as_str(), Some(app.url(&format!("/certificates/{code}")).as_str()));
        let page = app.client.get(app.url(&format!("/certificates/{code}"))).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("This certificate is valid") && html.contains("Paid course") && html.contains("Test User"), "{html}");
        let json_page: Value = app.client.get(app.url(&format!("/certificates/{code}"))).header("accept", "application/json").send().await.unwrap().json().await.unwrap();
        assert_eq!(json_page["status"], "valid");
        let missing = app.client.get(app.url("/certificates/LYC-0000-0000-0000-0000")).send().await.unwrap();
        assert_eq!(missing.status(), 404);

        // The refund revokes access and the certificate; the lesson answers 402 again.
        app.post(&format!("/api/v1/tenants/shop/orders/{order}/refunds"), Some(&shop.owner), json!({})).await.expect(202);
        app.wait_for_status(&shop.student, &order, "refunded").await;
        let verified = app.get(&format!("/api/v1/certificates/{code}"), None).await.expect(200);
        assert_eq!(verified["status"], "revoked", "{verified}");
        let html = app.client.get(app.url(&format!("/certificates/{code}"))).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("This certificate was revoked"), "{html}");
        app.get(&format!("/api/v1/tenants/shop/lessons/{text}"), Some(&shop.student)).await.expect_problem(402);
        app.put(&format!("/api/v1/tenants/shop/lessons/{video}/progress"), Some(&shop.student), json!({"position_seconds": 1, "watched_seconds": 1})).await.expect_problem(402);
        let mine = app.get("/api/v1/me/learning", Some(&shop.student)).await.expect(200);
        assert_eq!(mine[0]["access"], "revoked", "{mine}");
    }

    async fn quizzes_never_show_answers_and_hold_their_limits_on_the_server(app) {
        let shop = app.shop().await;
        let lesson = text_lesson(&app, &shop, "Check yourself", json!({})).await;
        let quiz = json!({
            "title": "Capitals",
            "pass_percent": 75,
            "max_attempts": 3,
            "time_limit_seconds": 60,
            "questions": [
                {"kind": "single", "prompt": "Capital of France?", "options": [
                    {"text": "Paris-ZQX", "correct": true}, {"text": "Lyon", "correct": false}]},
                {"kind": "multiple", "prompt": "Primes?", "options": [
                    {"text": "2", "correct": true}, {"text": "3", "correct": true}, {"text": "4", "correct": false}]},
                {"kind": "true_false", "prompt": "The sky is green.", "answer": false, "explanation": "EXPLAIN-QQQ"},
                {"kind": "short_text", "prompt": "Largest ocean?", "answer": {"match": "exact", "values": ["Pacific-WWW"]}},
            ]
        });
        let authored = app.put(&format!("/api/v1/tenants/shop/lessons/{lesson}/quiz"), Some(&shop.owner), quiz).await.expect(200);
        assert_eq!(authored["questions"].as_array().unwrap().len(), 4);
        // A student of the storefront may not read the authored quiz.
        app.get(&format!("/api/v1/tenants/shop/lessons/{lesson}/quiz"), Some(&shop.student)).await.expect_problem(403);
        app.buy(&shop.student, "paid").await;

        let started = app.post(&format!("/api/v1/tenants/shop/lessons/{lesson}/quiz/attempts"), Some(&shop.student), json!({})).await.expect(201);
        let raw = started.to_string();
        for leak in ["correct", "answer", "Pacific-WWW", "EXPLAIN-QQQ", "values", "explanation"] {
            assert!(!raw.contains(leak), "the attempt shows `{leak}`: {raw}");
        }
        assert!(raw.contains("Paris-ZQX"), "options are shown: {raw}");
        // A reload returns the same attempt instead of spending another.
        let again = app.post(&format!("/api/v1/tenants/shop/lessons/{lesson}/quiz/attempts"), Some(&shop.student), json!({})).await.expect(201);
        assert_eq!(again["id"], started["id"]);

        // Answer everything right, from the authored answers the staff see.
        let by_prompt = |prompt: &str| authored["questions"].as_array().unwrap().iter().find(|q| q["prompt"] == prompt).unwrap().clone();
        let pick = |q: &Value| q["options"].as_array().unwrap().iter().filter(|o| o["correct"] == true).map(|o| o["id"].clone()).collect::<Vec<_>>();
        let france = by_prompt("Capital of France?");
        let primes = by_prompt("Primes?");
        let answers = json!({"answers": [
            {"question": france["id"], "kind": "single", "option": pick(&france)[0]},
            {"question": primes["id"], "kind": "multiple", "options": pick(&primes)},
            {"question": by_prompt("The sky is green.")["id"], "kind": "true_false", "value": false},
            {"question": by_prompt("Largest ocean?")["id"], "kind": "short_text", "text": "  pacific-www "},
        ]});
        let attempt = started["id"].as_str().unwrap();
        // A wrong first attempt says what was wrong, not what is right: the answers would
        // hand the next attempt a key.
        let wrong = json!({"answers": [{"question": by_prompt("The sky is green.")["id"], "kind": "true_false", "value": true}]});
        let failed = app.post(&format!("/api/v1/tenants/shop/quiz-attempts/{attempt}/answers"), Some(&shop.student), wrong).await.expect(200);
        assert_eq!((failed["score"].as_u64(), failed["passed"].as_bool()), (Some(0), Some(false)), "{failed}");
        let shown = failed.to_string();
        for leak in ["Pacific-WWW", "EXPLAIN-QQQ"] {
            assert!(!shown.contains(leak), "a failed attempt shows `{leak}`: {shown}");
        }
        assert!(failed["results"].as_array().unwrap().iter().all(|r| r["correct_options"].as_array().unwrap().is_empty()), "{failed}");
        // Once only.
        app.post(&format!("/api/v1/tenants/shop/quiz-attempts/{attempt}/answers"), Some(&shop.student), answers.clone()).await.expect_problem(409);
        // Another learner cannot submit someone's attempt.
        let other = app.buyer("other@example.com").await;
        let next = app.post(&format!("/api/v1/tenants/shop/lessons/{lesson}/quiz/attempts"), Some(&shop.student), json!({})).await.expect(201);
        assert_eq!(next["number"], 2);
        let next_id = next["id"].as_str().unwrap();
        app.post(&format!("/api/v1/tenants/shop/quiz-attempts/{next_id}/answers"), Some(&other), answers.clone()).await.expect_problem(404);
        // Everything right: passed, and now the feedback explains.
        let feedback = app.post(&format!("/api/v1/tenants/shop/quiz-attempts/{next_id}/answers"), Some(&shop.student), answers.clone()).await.expect(200);
        assert_eq!((feedback["score"].as_u64(), feedback["passed"].as_bool()), (Some(100), Some(true)), "{feedback}");
        assert_eq!(feedback["results"].as_array().unwrap().len(), 4);
        assert!(feedback.to_string().contains("EXPLAIN-QQQ"), "feedback explains after a pass");

        // The second attempt runs out of time on the server: refused and counted as failed.
        let second = app.post(&format!("/api/v1/tenants/shop/lessons/{lesson}/quiz/attempts"), Some(&shop.student), json!({})).await.expect(201);
        assert_eq!(second["number"], 3);
        let second_id: uuid::Uuid = second["id"].as_str().unwrap().parse().unwrap();
        let row = quiz_attempts::Entity::find_by_id(second_id).one(&app.state.db).await.unwrap().unwrap();
        let mut active: quiz_attempts::ActiveModel = row.into();
        active.deadline_at = Set(Some(Utc::now() - Duration::seconds(3)));
        active.update(&app.state.db).await.unwrap();
        let late = app.post(&format!("/api/v1/tenants/shop/quiz-attempts/{second_id}/answers"), Some(&shop.student), answers).await.expect_problem(409);
        assert!(late["detail"].as_str().unwrap().contains("time limit"), "{late}");
        let row = quiz_attempts::Entity::find_by_id(second_id).one(&app.state.db).await.unwrap().unwrap();
        assert_eq!((row.score, row.passed), (Some(0), Some(false)));
        // Every attempt is used.
        app.post(&format!("/api/v1/tenants/shop/lessons/{lesson}/quiz/attempts"), Some(&shop.student), json!({})).await.expect_problem(409);
        let list = app.get(&format!("/api/v1/tenants/shop/lessons/{lesson}/quiz/attempts"), Some(&shop.student)).await.expect(200);
        assert_eq!(list.as_array().unwrap().len(), 3);
        let page = app.get(&format!("/api/v1/tenants/shop/lessons/{lesson}"), Some(&shop.student)).await.expect(200);
        assert_eq!((page["quiz"]["passed"].as_bool(), page["quiz"]["attempts_used"].as_u64()), (Some(true), Some(3)), "{page}");
    }

    async fn free_previews_never_complete_a_paid_course(app) {
        let shop = app.shop().await;
        let preview = text_lesson(&app, &shop, "Taster", json!({"free_preview": true})).await;
        // Only the preview is required.
        app.call(reqwest::Method::PATCH, &format!("/api/v1/tenants/shop/lessons/{}", shop.lesson), Some(&shop.owner), Some(json!({"required": false}))).await.expect(200);
        // Anyone may read a free preview's page; a signed-in visitor may keep progress in it.
        app.get(&format!("/api/v1/tenants/shop/lessons/{preview}"), None).await.expect(200);
        let done = app.post(&format!("/api/v1/tenants/shop/lessons/{preview}/done"), Some(&shop.student), json!({})).await.expect(200);
        assert!(done["course"].get("completed_at").is_none(), "{done}");
        assert!(done["course"].get("certificate").is_none(), "{done}");
        assert_eq!(certificates::Entity::find().count(&app.state.db).await.unwrap(), 0);
        let mine = app.get("/api/v1/me/learning", Some(&shop.student)).await.expect(200);
        assert_eq!(mine, json!([]), "a preview is no enrolment");
        // A video still being transcoded is not done by saying so. The row is held in
        // processing under an hour's lease, as a long transcode would be, whatever the worker
        // has made of the test's bytes by now (it used to race the worker on a loaded machine).
        let lesson: uuid::Uuid = shop.lesson.parse().unwrap();
        transcodes::Entity::update_many()
            .col_expr(transcodes::Column::Status, sea_orm::sea_query::Expr::value(transcodes::TranscodeStatus::Processing.as_str()))
            .col_expr(transcodes::Column::LeaseUntil, sea_orm::sea_query::Expr::value(Utc::now() + Duration::hours(1)))
            // A worker midway finishes against its own start time, which this is not.
            .col_expr(transcodes::Column::StartedAt, sea_orm::sea_query::Expr::value(Utc::now()))
            .filter(transcodes::Column::LessonId.eq(lesson))
            .exec(&app.state.db).await.unwrap();
        app.post(&format!("/api/v1/tenants/shop/lessons/{}/done", shop.lesson), Some(&shop.student), json!({})).await.expect_problem(402);
        app.buy(&shop.student, "paid").await;
        app.post(&format!("/api/v1/tenants/shop/lessons/{}/done", shop.lesson), Some(&shop.student), json!({})).await.expect_problem(409);
        // With access, the next change completes the course.
        let done = app.post(&format!("/api/v1/tenants/shop/lessons/{preview}/done"), Some(&shop.student), json!({})).await.expect(200);
        assert!(done["course"]["certificate"].is_string(), "{done}");
    }

    async fn drip_holds_lessons_back_until_their_time(app) {
        let shop = app.shop().await;
        let later = text_lesson(&app, &shop, "Week two", json!({"drip_days": 7})).await;
        let dated = text_lesson(&app, &shop, "Launch day", json!({})).await;
        let opens = (Utc::now() + Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        app.call(reqwest::Method::PATCH, &format!("/api/v1/tenants/shop/lessons/{dated}"), Some(&shop.owner), Some(json!({"drip_at": opens}))).await.expect(200);
        app.buy(&shop.student, "paid").await;
        let granted = entitlements::Entity::find().one(&app.state.db).await.unwrap().unwrap().granted_at;

        let locked = app.get(&format!("/api/v1/tenants/shop/lessons/{later}"), Some(&shop.student)).await.expect_problem(403);
        assert_eq!(locked["type"], "urn:lyceum:problem:locked", "{locked}");
        let unlocks: chrono::DateTime<Utc> = locked["unlocks_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(unlocks, granted + Duration::days(7));
        // The content link and progress are held back the same way.
        app.get(&format!("/api/v1/tenants/shop/lessons/{later}/content"), Some(&shop.student)).await.expect_problem(403);
        app.post(&format!("/api/v1/tenants/shop/lessons/{later}/done"), Some(&shop.student), json!({})).await.expect_problem(403);
        let dated_locked = app.get(&format!("/api/v1/tenants/shop/lessons/{dated}"), Some(&shop.student)).await.expect_problem(403);
        assert_eq!(dated_locked["unlocks_at"].as_str().map(|s| s.parse::<chrono::DateTime<Utc>>().unwrap().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)), Some(opens));
        // A date just passed opens it.
        let passed = (Utc::now() - Duration::seconds(1)).to_rfc3339();
        app.call(reqwest::Method::PATCH, &format!("/api/v1/tenants/shop/lessons/{dated}"), Some(&shop.owner), Some(json!({"drip_at": passed}))).await.expect(200);
        app.get(&format!("/api/v1/tenants/shop/lessons/{dated}"), Some(&shop.student)).await.expect(200);
        // Clearing the delay opens the other.
        app.call(reqwest::Method::PATCH, &format!("/api/v1/tenants/shop/lessons/{later}"), Some(&shop.owner), Some(json!({"drip_days": null}))).await.expect(200);
        app.get(&format!("/api/v1/tenants/shop/lessons/{later}"), Some(&shop.student)).await.expect(200);
        // Out-of-range settings are refused.
        app.call(reqwest::Method::PATCH, &format!("/api/v1/tenants/shop/lessons/{later}"), Some(&shop.owner), Some(json!({"drip_days": 0}))).await.expect_problem(422);
    }

    async fn a_real_video_is_transcoded_and_its_playlists_stop_with_the_refund(app) {
        if lyceum::services::media::transcode::Ffmpeg::locate().is_err() {
            eprintln!("SKIPPED: ffmpeg not found (install Debian's ffmpeg, or set LYCEUM_FFMPEG); the HLS test did not run");
            return;
        }
        let shop = app.shop().await;
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("clip.mp4");
        let made = std::process::Command::new("ffmpeg")
            .args(["-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-f", "lavfi", "-i", "sine=frequency=440", "-t", "3", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-pix_fmt", "yuv420p"])
            .arg(&source)
            .status()
            .unwrap();
        assert!(made.success());
        let resp = app
            .client
            .put(app.url(&format!("/api/v1/tenants/shop/lessons/{}/asset", shop.lesson)))
            .bearer_auth(&shop.owner)
            .header("content-type", "video/mp4")
            .body(std::fs::read(&source).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 204);
        let status = app.get(&format!("/api/v1/tenants/shop/lessons/{}/video", shop.lesson), Some(&shop.owner)).await.expect(200);
        // The instance's own worker may already have taken it.
        assert!(["queued", "processing", "ready"].contains(&status["status"].as_str().unwrap()), "{status}");
        let status = app.transcoded("shop", &shop.lesson, &shop.owner).await;
        assert_eq!(status["status"], "ready", "{status}");
        let names: Vec<&str> = status["renditions"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["360p"], "never upscaled: {status}");
        let seconds = status["duration_seconds"].as_u64().unwrap();
        assert!((2..=4).contains(&seconds), "{status}");

        let order = app.buy(&shop.student, "paid").await;
        let link = app.get(&format!("/api/v1/tenants/shop/lessons/{}/content", shop.lesson), Some(&shop.student)).await.expect(200);
        let master_url = link["hls_url"].as_str().unwrap().to_owned();
        let master = app.client.get(&master_url).send().await.unwrap();
        assert_eq!(master.status(), 200);
        assert_eq!(master.headers()["content-type"], "application/vnd.apple.mpegurl");
        let master = master.text().await.unwrap();
        let media_url = master.lines().find(|l| l.contains("/content/")).unwrap().to_owned();
        assert!(master.contains("RESOLUTION=640x360"), "{master}");
        let media = app.client.get(&media_url).send().await.unwrap().text().await.unwrap();
        assert!(media.contains("#EXT-X-ENDLIST"), "{media}");
        let segment_url = media.lines().find(|l| l.contains("/content/")).unwrap().to_owned();
        let segment = app.client.get(&segment_url).send().await.unwrap();
        assert_eq!(segment.status(), 200);
        assert_eq!(segment.headers()["content-type"], "video/mp2t");
        assert!(!segment.bytes().await.unwrap().is_empty());

        // The refund stops the player: playlists and segments are refused with the same links.
        app.post(&format!("/api/v1/tenants/shop/orders/{order}/refunds"), Some(&shop.owner), json!({})).await.expect(202);
        app.wait_for_status(&shop.student, &order, "refunded").await;
        for url in [&master_url, &media_url, &segment_url] {
            let refused = app.client.get(url.as_str()).send().await.unwrap();
            assert_eq!(refused.status(), 403, "{url}");
        }
    }

    async fn the_studio_edits_and_deletes_what_it_made(app) {
        let shop = app.shop().await;
        // A course with orders cannot be deleted; a fresh one can, with its lessons.
        let order_course = app.buy(&shop.student, "paid").await;
        assert!(!order_course.is_empty());
        app.call(reqwest::Method::DELETE, "/api/v1/tenants/shop/courses/paid", Some(&shop.owner), None).await.expect_problem(409);
        app.post("/api/v1/tenants/shop/courses", Some(&shop.owner), json!({"slug": "spare", "title": "Spare", "price": {"amount": 100, "currency": "USD"}})).await.expect(201);
        let section = app.post("/api/v1/tenants/shop/courses/spare/sections", Some(&shop.owner), json!({"title": "S"})).await.expect(201)["id"].as_str().unwrap().to_owned();
        app.call(reqwest::Method::PATCH, &format!("/api/v1/tenants/shop/sections/{section}"), Some(&shop.owner), Some(json!({"title": "Renamed"}))).await.expect(204);
        let lesson = app.post(&format!("/api/v1/tenants/shop/courses/spare/sections/{section}/lessons"), Some(&shop.owner), json!({"title": "L", "kind": "video"})).await.expect(201)["id"].as_str().unwrap().to_owned();
        let chapters = app.put(&format!("/api/v1/tenants/shop/lessons/{lesson}/chapters"), Some(&shop.owner), json!({"chapters": [{"title": "Intro", "start_second": 0}, {"title": "Main", "start_second": 30}]})).await.expect(200);
        assert_eq!(chapters["chapters"].as_array().unwrap().len(), 2);
        app.put(&format!("/api/v1/tenants/shop/lessons/{lesson}/chapters"), Some(&shop.owner), json!({"chapters": [{"title": "B", "start_second": 30}, {"title": "A", "start_second": 10}]})).await.expect_problem(422);
        let edited = app.call(reqwest::Method::PATCH, &format!("/api/v1/tenants/shop/lessons/{lesson}"), Some(&shop.owner), Some(json!({"title": "Edited", "required": false, "free_preview": true}))).await.expect(200);
        assert_eq!((edited["title"].as_str(), edited["required"].as_bool(), edited["free_preview"].as_bool()), (Some("Edited"), Some(false), Some(true)));
        let detail = app.get("/api/v1/tenants/shop/studio/courses/spare", Some(&shop.owner)).await.expect(200);
        assert_eq!(detail["sections"][0]["title"], "Renamed");
        app.call(reqwest::Method::PATCH, "/api/v1/tenants/shop/courses/spare", Some(&shop.owner), Some(json!({"complete_percent": 90}))).await.expect(200);
        app.call(reqwest::Method::PATCH, "/api/v1/tenants/shop/courses/spare", Some(&shop.owner), Some(json!({"complete_percent": 0}))).await.expect_problem(422);
        app.call(reqwest::Method::DELETE, &format!("/api/v1/tenants/shop/lessons/{lesson}"), Some(&shop.owner), None).await.expect(204);
        app.call(reqwest::Method::DELETE, &format!("/api/v1/tenants/shop/sections/{section}"), Some(&shop.owner), None).await.expect(204);
        app.call(reqwest::Method::DELETE, "/api/v1/tenants/shop/courses/spare", Some(&shop.owner), None).await.expect(204);
        app.get("/api/v1/tenants/shop/studio/courses/spare", Some(&shop.owner)).await.expect_problem(404);
        // Editors change lessons but do not delete them; students do neither.
        let (editor, _) = app.register("editor@example.com").await;
        app.add_staff("shop", &shop.owner, "editor@example.com", "editor").await;
        app.call(reqwest::Method::PATCH, &format!("/api/v1/tenants/shop/lessons/{}", shop.lesson), Some(&editor), Some(json!({"title": "By the editor"}))).await.expect(200);
        app.call(reqwest::Method::DELETE, &format!("/api/v1/tenants/shop/lessons/{}", shop.lesson), Some(&editor), None).await.expect_problem(403);
        app.call(reqwest::Method::DELETE, &format!("/api/v1/tenants/shop/lessons/{}", shop.lesson), Some(&shop.student), None).await.expect_problem(403);
    }
}
