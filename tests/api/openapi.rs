//! The OpenAPI document is the contract: any change to it shows up here.
//! Run with `UPDATE_SNAPSHOTS=1` to accept a change on purpose.

use lyceum_e2e::{Backend, spawn_app};

#[tokio::test]
async fn openapi_document_matches_the_snapshot() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let served: serde_json::Value = app.get("/api/openapi.json", None).await.expect(200);
    let mut doc = served.clone();
    // The server URL carries the test's random port.
    doc["servers"] = serde_json::json!([{"url": "http://127.0.0.1:8080"}]);
    let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots/openapi.json");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == text,
        "the OpenAPI document changed; review it and run `UPDATE_SNAPSHOTS=1 cargo test -p lyceum-e2e --test api openapi` to accept"
    );
    // Every operation is in the document once: a path declared by two `#[OpenApi]` impls is
    // written twice, and a reader keeps only one of them.
    let raw = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let parsed: usize = served["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(
        raw.matches("\"operationId\"").count(),
        parsed,
        "a path is written twice in the document"
    );
    assert_eq!(
        parsed,
        operations(&lyceum::http::api::all()),
        "an operation is missing from the document"
    );
    // Every operation has an id, a tag and a summary a reader can use.
    for (path, item) in served["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["operationId"].is_string(),
                "{method} {path} has no operationId"
            );
            assert!(op["tags"].is_array(), "{method} {path} has no tag");
            assert!(
                op["summary"].is_string() || op["description"].is_string(),
                "{method} {path} is undocumented"
            );
        }
    }
    app.stop().await;
}

/// How many operations the API declares, whether or not they reach the document.
fn operations<T: poem_openapi::OpenApi>(_: &T) -> usize {
    T::meta()
        .iter()
        .flat_map(|api| &api.paths)
        .map(|path| path.operations.len())
        .sum()
}
