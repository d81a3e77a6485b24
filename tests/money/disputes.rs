//! Disputes: opened suspends access, won restores it, lost revokes it.

use lyceum_e2e::db_tests;
use lyceum_gateway_sandbox::DisputeOutcome;

db_tests! {
    async fn disputes_suspend_then_restore_or_revoke(app) {
        let shop = app.shop().await;
        let sandbox = app.state.gateways.sandbox().unwrap().clone();

        // The dispute card pays, then a dispute opens.
        let started = app.checkout(&shop.student, "paid").await;
        let order = started["order"]["id"].as_str().unwrap().to_owned();
        app.pay(started["redirect_url"].as_str().unwrap(), "4000000000000259").await;
        app.wait_for_status(&shop.student, &order, "disputed").await;
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], false);
        assert_eq!(app.order_trail(&order).await.2[0].status.as_str(), "suspended");
        // The sandbox withdrew the money for the dispute: it moved from clearing to disputes.
        let books = app.order_books(&order).await;
        assert!(books.contains(&("disputes".into(), None, 4900)) && !books.iter().any(|(a, ..)| a == "clearing"), "{books:?}");
        let payment = app.order_row(&order).await.payment_id.unwrap();
        sandbox.dispute(&payment, DisputeOutcome::Won).await.unwrap();
        app.wait_for_status(&shop.student, &order, "paid").await;
        assert_eq!(app.access(Some(&shop.student), "paid").await["access"], true);
        assert!(app.order_books(&order).await.contains(&("clearing".into(), None, 4900)));

        // Another buyer loses theirs.
        let (other, _) = app.register("other@example.com").await;
        let started = app.checkout(&other, "paid").await;
        let order = started["order"]["id"].as_str().unwrap().to_owned();
        app.pay(started["redirect_url"].as_str().unwrap(), "4000000000000259").await;
        app.wait_for_status(&other, &order, "disputed").await;
        let payment = app.order_row(&order).await.payment_id.unwrap();
        sandbox.dispute(&payment, DisputeOutcome::Lost).await.unwrap();
        app.wait_for_status(&other, &order, "refunded").await;
        assert_eq!(app.access(Some(&other), "paid").await["access"], false);
        assert_eq!(app.order_trail(&order).await.2[0].status.as_str(), "revoked");
        // Lost: the money is gone and the fee and the owner's part with it.
        assert_eq!(app.order_books(&order).await, vec![]);
        app.assert_ledger_balanced().await;
    }
}
