//! Teams: whoever makes one manages it; managers invite, nobody is in a team before joining,
//! anyone may leave; nobody else sees or changes a roster — not a student, not another
//! storefront's owner, not another team's manager — and an invitation never tells whether
//! an address has an account.

use lyceum_e2e::db_tests;
use reqwest::Method;
use serde_json::json;

db_tests! {
    async fn a_team_is_run_by_its_managers_and_joined_by_consent(app) {
        let (alice, alice_id) = app.register("alice@example.com").await;
        let (bob, bob_id) = app.register("bob@example.com").await;
        let (carol, _) = app.register("carol@example.com").await;

        let team = app.post("/api/v1/teams", Some(&alice), json!({"name": "Data team"})).await.expect(201);
        assert_eq!((team["name"].as_str(), team["role"].as_str(), team["status"].as_str()), (Some("Data team"), Some("manager"), Some("active")));
        let id = team["id"].as_str().unwrap().to_owned();
        app.post("/api/v1/teams", Some(&alice), json!({"name": ""})).await.expect_problem(422);

        // An invitation answers the same whether or not the address has an account.
        for email in ["bob@example.com", "nobody@example.com", "bob@example.com"] {
            let reply = app.post(&format!("/api/v1/teams/{id}/invitations"), Some(&alice), json!({"email": email})).await;
            assert_eq!((reply.status.as_u16(), reply.text.as_str()), (202, ""), "{email}");
        }
        app.post(&format!("/api/v1/teams/{id}/invitations"), Some(&alice), json!({"email": "not an address"})).await.expect_problem(422);
        // Bob is not in the team until he joins; he sees the invitation.
        let roster = app.get(&format!("/api/v1/teams/{id}/members"), Some(&alice)).await.expect(200);
        assert_eq!(roster.as_array().unwrap().len(), 1, "{roster}");
        let mine = app.get("/api/v1/teams", Some(&bob)).await.expect(200);
        assert_eq!((mine[0]["id"].as_str(), mine[0]["status"].as_str()), (Some(id.as_str()), Some("invited")));
        app.post(&format!("/api/v1/teams/{id}/join"), Some(&carol), json!({})).await.expect_problem(404);
        let joined = app.post(&format!("/api/v1/teams/{id}/join"), Some(&bob), json!({})).await.expect(200);
        assert_eq!((joined["role"].as_str(), joined["status"].as_str()), (Some("member"), Some("active")));
        let roster = app.get(&format!("/api/v1/teams/{id}/members"), Some(&alice)).await.expect(200);
        assert_eq!(roster.as_array().unwrap().len(), 2, "{roster}");
        // A member sees nothing of the roster and changes nothing.
        app.get(&format!("/api/v1/teams/{id}/members"), Some(&bob)).await.expect_problem(404);
        app.post(&format!("/api/v1/teams/{id}/invitations"), Some(&bob), json!({"email": "carol@example.com"})).await.expect_problem(404);
        app.put(&format!("/api/v1/teams/{id}/members/{bob_id}"), Some(&bob), json!({"role": "manager"})).await.expect_problem(404);

        // Carol manages a team of her own: she may not touch Alice's, nor Alice hers.
        let other = app.post("/api/v1/teams", Some(&carol), json!({"name": "Carol's"})).await.expect(201);
        let other_id = other["id"].as_str().unwrap();
        app.get(&format!("/api/v1/teams/{id}/members"), Some(&carol)).await.expect_problem(404);
        app.post(&format!("/api/v1/teams/{id}/invitations"), Some(&carol), json!({"email": "carol@example.com"})).await.expect_problem(404);
        app.put(&format!("/api/v1/teams/{id}/members/{bob_id}"), Some(&carol), json!({"role": "manager"})).await.expect_problem(404);
        app.call(Method::DELETE, &format!("/api/v1/teams/{id}/members/{bob_id}"), Some(&carol), None).await.expect_problem(404);
        app.get(&format!("/api/v1/teams/{other_id}/members"), Some(&alice)).await.expect_problem(404);
        let roster = app.get(&format!("/api/v1/teams/{id}/members"), Some(&alice)).await.expect(200);
        assert_eq!(roster.as_array().unwrap().len(), 2, "Carol's tries changed nothing: {roster}");

        // A team keeps a manager: Alice can neither leave nor step down alone, but can hand over.
        app.call(Method::DELETE, &format!("/api/v1/teams/{id}/members/{alice_id}"), Some(&alice), None).await.expect_problem(409);
        app.put(&format!("/api/v1/teams/{id}/members/{alice_id}"), Some(&alice), json!({"role": "member"})).await.expect_problem(409);
        app.put(&format!("/api/v1/teams/{id}/members/{bob_id}"), Some(&alice), json!({"role": "manager"})).await.expect(200);
        app.call(Method::DELETE, &format!("/api/v1/teams/{id}/members/{alice_id}"), Some(&bob), None).await.expect(204);
        let roster = app.get(&format!("/api/v1/teams/{id}/members"), Some(&bob)).await.expect(200);
        assert_eq!(roster.as_array().unwrap().len(), 1, "{roster}");
        assert_eq!(roster[0]["user_id"], bob_id.to_string());
        // Alice is out: the team is no longer hers to see.
        app.get(&format!("/api/v1/teams/{id}/members"), Some(&alice)).await.expect_problem(404);
        assert!(app.get("/api/v1/teams", Some(&alice)).await.expect(200).as_array().unwrap().is_empty());

        // Anyone may leave, or decline an invitation.
        app.post(&format!("/api/v1/teams/{id}/invitations"), Some(&bob), json!({"email": "alice@example.com"})).await;
        app.call(Method::DELETE, &format!("/api/v1/teams/{id}/members/{alice_id}"), Some(&alice), None).await.expect(204);
        assert!(app.get("/api/v1/teams", Some(&alice)).await.expect(200).as_array().unwrap().is_empty());
    }
}
