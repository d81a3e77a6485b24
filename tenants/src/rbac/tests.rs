use lyceum_kernel::ids::{TenantId, UserId};

use super::*;

async fn authorizer(grants: &[Grant]) -> Authorizer {
    let mut rules = permission_rules();
    rules.extend(grants.iter().map(Grant::to_rule));
    Authorizer::new(rules).await.unwrap()
}

#[tokio::test]
async fn owners_manage_their_tenant_only() {
    let (alice, bob) = (UserId::new_v7(), UserId::new_v7());
    let (a, b) = (TenantId::new_v7(), TenantId::new_v7());
    let authz = authorizer(&[
        Grant::new(alice, Role::Owner, Domain::Tenant(a)),
        Grant::new(bob, Role::Owner, Domain::Tenant(b)),
    ])
    .await;
    let alice_p = Principal::User(alice);
    assert!(
        authz
            .authorize::<resource::Course, action::Update>(&alice_p, Domain::Tenant(a))
            .await
            .is_ok()
    );
    assert!(matches!(
        authz
            .authorize::<resource::Course, action::Update>(&alice_p, Domain::Tenant(b))
            .await,
        Err(Denied::Forbidden { .. })
    ));
    assert!(
        authz
            .authorize::<resource::Platform, action::Approve>(&alice_p, Domain::Platform)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn platform_admins_hold_everywhere() {
    let admin = UserId::new_v7();
    let authz = authorizer(&[Grant::new(admin, Role::PlatformAdmin, Domain::Platform)]).await;
    let p = Principal::User(admin);
    assert!(
        authz
            .authorize::<resource::Platform, action::Approve>(&p, Domain::Platform)
            .await
            .is_ok()
    );
    assert!(
        authz
            .authorize::<resource::Course, action::Delete>(&p, Domain::Tenant(TenantId::new_v7()))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn editors_cannot_manage_members_and_anonymous_only_reads_the_catalog() {
    let (editor, tenant) = (UserId::new_v7(), TenantId::new_v7());
    let authz = authorizer(&[Grant::new(editor, Role::Editor, Domain::Tenant(tenant))]).await;
    let dom = Domain::Tenant(tenant);
    let p = Principal::User(editor);
    assert!(
        authz
            .authorize::<resource::Course, action::Publish>(&p, dom)
            .await
            .is_ok()
    );
    assert!(
        authz
            .authorize::<resource::Member, action::Create>(&p, dom)
            .await
            .is_err()
    );
    assert!(
        authz
            .authorize::<resource::Catalog, action::Read>(&Principal::Anonymous, dom)
            .await
            .is_ok()
    );
    assert!(matches!(
        authz
            .authorize::<resource::Course, action::Create>(&Principal::Anonymous, dom)
            .await,
        Err(Denied::Unauthenticated)
    ));
}

#[tokio::test]
async fn grants_can_be_added_and_removed_while_running() {
    let (user, tenant) = (UserId::new_v7(), TenantId::new_v7());
    let authz = authorizer(&[]).await;
    let grant = Grant::new(user, Role::Owner, Domain::Tenant(tenant));
    let p = Principal::User(user);
    assert!(
        authz
            .authorize::<resource::Tenant, action::Update>(&p, Domain::Tenant(tenant))
            .await
            .is_err()
    );
    authz.add_grant(&grant).await.unwrap();
    assert!(
        authz
            .authorize::<resource::Tenant, action::Update>(&p, Domain::Tenant(tenant))
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
            .authorize::<resource::Tenant, action::Update>(&p, Domain::Tenant(tenant))
            .await
            .is_err()
    );
}

#[test]
fn grants_round_trip_through_rules_and_every_permission_names_a_known_resource() {
    let grant = Grant::new(
        UserId::new_v7(),
        Role::Grader,
        Domain::Tenant(TenantId::new_v7()),
    );
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
    let (user, tenant) = (UserId::new_v7(), TenantId::new_v7());
    let authz = authorizer(&[]).await;
    let p = Principal::User(user);
    let dom = Domain::Tenant(tenant);
    let grant = Grant::new(user, Role::Editor, dom);
    for _ in 0..3 {
        assert!(
            authz
                .authorize::<resource::Course, action::Update>(&p, dom)
                .await
                .is_err()
        );
        authz.add_grant(&grant).await.unwrap();
        assert!(
            authz
                .authorize::<resource::Course, action::Update>(&p, dom)
                .await
                .is_ok()
        );
        assert!(
            authz
                .authorize::<resource::Course, action::Update>(&p, dom)
                .await
                .is_ok()
        );
        authz.remove_grant(&grant).await.unwrap();
        assert!(
            authz
                .authorize::<resource::Course, action::Update>(&p, dom)
                .await
                .is_err()
        );
    }
    authz.reload(vec![]).await.unwrap();
    assert!(
        authz
            .authorize::<resource::Catalog, action::Read>(&Principal::Anonymous, dom)
            .await
            .is_err(),
        "a reload without permissions denies everything"
    );
}

/// Stands for a service that changes a course: it names the one proof it accepts.
fn edit_course(proof: &Authorized<resource::Course, action::Update>) -> Action {
    proof.action()
}

fn type_of<T: 'static>(_: &T) -> std::any::TypeId {
    std::any::TypeId::of::<T>()
}

#[tokio::test]
async fn a_proof_is_typed_by_its_action_as_well_as_its_resource() {
    let (grader, editor, tenant) = (UserId::new_v7(), UserId::new_v7(), TenantId::new_v7());
    let dom = Domain::Tenant(tenant);
    let authz = authorizer(&[
        Grant::new(grader, Role::Grader, dom),
        Grant::new(editor, Role::Editor, dom),
    ])
    .await;
    let read = authz
        .authorize::<resource::Course, action::Read>(&Principal::User(grader), dom)
        .await
        .unwrap();
    assert_eq!(read.action(), Action::Read);
    assert!(
        authz
            .authorize::<resource::Course, action::Update>(&Principal::User(grader), dom)
            .await
            .is_err(),
        "a grader reads courses and may not edit them"
    );
    let update = authz
        .authorize::<resource::Course, action::Update>(&Principal::User(editor), dom)
        .await
        .unwrap();
    assert_eq!(edit_course(&update), Action::Update);
    // `edit_course(&read)` does not compile: the grader's read proof is another type.
    assert_ne!(type_of(&read), type_of(&update));
    assert_ne!(
        std::any::TypeId::of::<Authorized<resource::Course, action::Read>>(),
        std::any::TypeId::of::<Authorized<resource::Catalog, action::Read>>(),
    );
    assert_eq!(<action::Publish as Verb>::NAME, "publish");
}
