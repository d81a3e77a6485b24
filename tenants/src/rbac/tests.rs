use super::*;

async fn authorizer(grants: &[Grant]) -> Authorizer {
    let mut rules = permission_rules();
    rules.extend(grants.iter().map(Grant::to_rule));
    Authorizer::new(rules).await.unwrap()
}

#[tokio::test]
async fn owners_manage_their_tenant_only() {
    let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let authz = authorizer(&[
        Grant::new(alice, Role::Owner, Domain::Tenant(a)),
        Grant::new(bob, Role::Owner, Domain::Tenant(b)),
    ])
    .await;
    let alice_p = Principal::User(alice);
    assert!(
        authz
            .authorize::<resource::Course>(&alice_p, Domain::Tenant(a), Action::Update)
            .await
            .is_ok()
    );
    assert!(matches!(
        authz
            .authorize::<resource::Course>(&alice_p, Domain::Tenant(b), Action::Update)
            .await,
        Err(Denied::Forbidden { .. })
    ));
    assert!(
        authz
            .authorize::<resource::Platform>(&alice_p, Domain::Platform, Action::Approve)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn platform_admins_hold_everywhere() {
    let admin = Uuid::now_v7();
    let authz = authorizer(&[Grant::new(admin, Role::PlatformAdmin, Domain::Platform)]).await;
    let p = Principal::User(admin);
    assert!(
        authz
            .authorize::<resource::Platform>(&p, Domain::Platform, Action::Approve)
            .await
            .is_ok()
    );
    assert!(
        authz
            .authorize::<resource::Course>(&p, Domain::Tenant(Uuid::now_v7()), Action::Delete)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn editors_cannot_manage_members_and_anonymous_only_reads_the_catalog() {
    let (editor, tenant) = (Uuid::now_v7(), Uuid::now_v7());
    let authz = authorizer(&[Grant::new(editor, Role::Editor, Domain::Tenant(tenant))]).await;
    let dom = Domain::Tenant(tenant);
    let p = Principal::User(editor);
    assert!(
        authz
            .authorize::<resource::Course>(&p, dom, Action::Publish)
            .await
            .is_ok()
    );
    assert!(
        authz
            .authorize::<resource::Member>(&p, dom, Action::Create)
            .await
            .is_err()
    );
    assert!(
        authz
            .authorize::<resource::Catalog>(&Principal::Anonymous, dom, Action::Read)
            .await
            .is_ok()
    );
    assert!(matches!(
        authz
            .authorize::<resource::Course>(&Principal::Anonymous, dom, Action::Create)
            .await,
        Err(Denied::Unauthenticated)
    ));
}

#[tokio::test]
async fn grants_can_be_added_and_removed_while_running() {
    let (user, tenant) = (Uuid::now_v7(), Uuid::now_v7());
    let authz = authorizer(&[]).await;
    let grant = Grant::new(user, Role::Owner, Domain::Tenant(tenant));
    let p = Principal::User(user);
    assert!(
        authz
            .authorize::<resource::Tenant>(&p, Domain::Tenant(tenant), Action::Update)
            .await
            .is_err()
    );
    authz.add_grant(&grant).await.unwrap();
    assert!(
        authz
            .authorize::<resource::Tenant>(&p, Domain::Tenant(tenant), Action::Update)
            .await
            .is_ok()
    );
    assert_eq!(
        authz.roles_in(user, Domain::Tenant(tenant)).await,
        vec![Role::Owner]
    );
    authz.remove_grant(&grant).await.unwrap();
    assert!(
        authz
            .authorize::<resource::Tenant>(&p, Domain::Tenant(tenant), Action::Update)
            .await
            .is_err()
    );
}

#[test]
fn grants_round_trip_through_rules_and_every_permission_names_a_known_resource() {
    let grant = Grant::new(Uuid::now_v7(), Role::Grader, Domain::Tenant(Uuid::now_v7()));
    assert_eq!(Grant::from_rule(&grant.to_rule()), Some(grant));
    for rule in permission_rules() {
        assert_eq!(rule.values.len(), 4, "{rule:?}");
        let object = rule.values[2].as_str();
        assert!(
            object == "*" || resource::ALL.contains(&object),
            "unknown resource in {rule:?}"
        );
    }
}

#[tokio::test]
async fn cached_answers_follow_every_policy_change() {
    let (user, tenant) = (Uuid::now_v7(), Uuid::now_v7());
    let authz = authorizer(&[]).await;
    let p = Principal::User(user);
    let dom = Domain::Tenant(tenant);
    let grant = Grant::new(user, Role::Editor, dom);
    for _ in 0..3 {
        assert!(
            authz
                .authorize::<resource::Course>(&p, dom, Action::Update)
                .await
                .is_err()
        );
        authz.add_grant(&grant).await.unwrap();
        assert!(
            authz
                .authorize::<resource::Course>(&p, dom, Action::Update)
                .await
                .is_ok()
        );
        assert!(
            authz
                .authorize::<resource::Course>(&p, dom, Action::Update)
                .await
                .is_ok()
        );
        authz.remove_grant(&grant).await.unwrap();
        assert!(
            authz
                .authorize::<resource::Course>(&p, dom, Action::Update)
                .await
                .is_err()
        );
    }
    authz.reload(vec![]).await.unwrap();
    assert!(
        authz
            .authorize::<resource::Catalog>(&Principal::Anonymous, dom, Action::Read)
            .await
            .is_err(),
        "a reload without permissions denies everything"
    );
}
