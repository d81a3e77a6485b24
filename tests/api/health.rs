use lyceum_e2e::db_tests;

db_tests! {
    async fn health_readiness_and_metrics(app) {
        assert_eq!(app.get("/healthz", None).await.text, "ok");
        let ready = app.get("/readyz", None).await.expect(200);
        assert_eq!(ready["status"], "ready");

        // A caller's request id is echoed; otherwise one is made up.
        let resp = app.client.get(app.url("/healthz")).header("x-request-id", "abc-123").send().await.unwrap();
        assert_eq!(resp.headers()["x-request-id"], "abc-123");
        let resp = app.client.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(resp.headers()["x-request-id"].len(), 36);

        app.get("/api/v1/tenants/nope/courses", None).await.expect_problem(404);
        let metrics = app.get("/metrics", None).await.text;
        assert!(metrics.contains("lyceum_http_requests_total{method=\"GET\",operation=\"list_courses\",status=\"404\"} 1"), "{metrics}");
        assert!(metrics.contains("lyceum_http_request_duration_seconds_bucket"), "{metrics}");
    }

    async fn unknown_routes_answer_problem_json(app) {
        app.get("/api/v1/nothing-here", None).await.expect_problem(404);
        app.call(reqwest::Method::DELETE, "/api/v1/auth/register", None, None).await.expect_problem(405);
    }
}
