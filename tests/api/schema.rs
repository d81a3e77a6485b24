//! The schema can be distributed by tenant (Citus). Every table is tenant-owned (a `NOT NULL
//! tenant_id`) or named in `lyceum_migrations::distribution` as a reference or coordinator table;
//! a tenant-owned table's primary key and unique keys include `tenant_id`, and its foreign keys
//! to other tenant-owned tables pair `tenant_id` with `tenant_id`. The rules read PostgreSQL's
//! catalog, not a list of expected tables, so a table a later migration adds is held to them;
//! docs/SCALING.md's runbook must name every table in an order Citus accepts.

use std::collections::{BTreeMap, BTreeSet};

use lyceum_e2e::{Backend, TestDb};
use lyceum_migrations::distribution::{COORDINATOR_TABLES, DISTRIBUTION_COLUMN, REFERENCE_TABLES};
use lyceum_migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection};

mod catalog;
mod runbook;

use catalog::{Foreign, Table, postgres_catalog, sqlite_columns};
use runbook::runbook_names_every_table;

/// Where a table goes on Citus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Distributed,
    Reference,
    Coordinator,
}

fn place(name: &str) -> Place {
    if REFERENCE_TABLES.contains(&name) {
        Place::Reference
    } else if COORDINATOR_TABLES.contains(&name) {
        Place::Coordinator
    } else {
        Place::Distributed
    }
}

/// What is named in `distribution.rs` and every table not named there is tenant-owned: the rule
/// both databases keep. Returns the tenant-owned tables.
fn classify(
    tables: &BTreeMap<String, BTreeMap<String, bool>>,
    problems: &mut Vec<String>,
) -> BTreeSet<String> {
    for name in REFERENCE_TABLES.iter().chain(COORDINATOR_TABLES) {
        if !tables.contains_key(*name) {
            problems.push(format!(
                "{name}: named in distribution.rs but not in the schema"
            ));
        }
        if REFERENCE_TABLES.contains(name) && COORDINATOR_TABLES.contains(name) {
            problems.push(format!(
                "{name}: named both a reference and a coordinator table"
            ));
        }
    }
    let mut owned = BTreeSet::new();
    for (name, columns) in tables {
        if place(name) != Place::Distributed {
            continue;
        }
        match columns.get(DISTRIBUTION_COLUMN) {
            Some(true) => {
                owned.insert(name.clone());
            }
            Some(false) => problems.push(format!("{name}: tenant_id may be null, so it cannot be distributed by it; make it NOT NULL or name the table in distribution.rs")),
            None => problems.push(format!("{name}: no tenant_id, and not named a reference or coordinator table in distribution.rs")),
        }
    }
    owned
}

/// Every way the schema falls short of what Citus needs, one line each.
fn violations(tables: &BTreeMap<String, Table>) -> (BTreeSet<String>, Vec<String>) {
    let mut problems = Vec::new();
    let columns = tables
        .iter()
        .map(|(name, t)| (name.clone(), t.columns.clone()))
        .collect();
    let owned = classify(&columns, &mut problems);
    for (name, table) in tables {
        let here = place(name);
        if here == Place::Distributed && owned.contains(name) {
            keys(name, table, &mut problems);
        }
        for fk in &table.foreign {
            let there = if owned.contains(&fk.target) {
                Place::Distributed
            } else {
                place(&fk.target)
            };
            let at = format!("{name}.{} -> {}", fk.name, fk.target);
            match (here, there) {
                (Place::Distributed, Place::Distributed) => same_tenant(&at, fk, &mut problems),
                (Place::Distributed, Place::Reference)
                | (Place::Reference, Place::Reference)
                | (Place::Coordinator, Place::Reference | Place::Coordinator) => {}
                (Place::Distributed, Place::Coordinator) => problems.push(format!(
                    "{at}: a distributed table cannot point at a coordinator table"
                )),
                (Place::Reference, _) => problems.push(format!(
                    "{at}: a reference table can point only at reference tables"
                )),
                (Place::Coordinator, Place::Distributed) => problems.push(format!(
                    "{at}: a coordinator table cannot point at a distributed table"
                )),
            }
        }
    }
    (owned, problems)
}

fn keys(name: &str, table: &Table, problems: &mut Vec<String>) {
    if !table.keys.iter().any(|(_, primary, _)| *primary) {
        problems.push(format!("{name}: no primary key"));
    }
    for (key, primary, columns) in &table.keys {
        if !columns.iter().any(|c| c == DISTRIBUTION_COLUMN) {
            let kind = if *primary {
                "primary key"
            } else {
                "unique key"
            };
            problems.push(format!(
                "{name}: {kind} {key} ({}) lacks tenant_id",
                columns.join(", ")
            ));
        }
    }
}

/// A key between two distributed tables pairs `tenant_id` with `tenant_id`, and Citus refuses
/// to set the distribution column to null or a default, or to cascade a change of it.
fn same_tenant(at: &str, fk: &Foreign, problems: &mut Vec<String>) {
    let paired = fk
        .columns
        .iter()
        .zip(&fk.target_columns)
        .any(|(from, to)| from == DISTRIBUTION_COLUMN && to == DISTRIBUTION_COLUMN);
    if !paired {
        problems.push(format!(
            "{at}: ({}) -> ({}) does not pair tenant_id with tenant_id",
            fk.columns.join(", "),
            fk.target_columns.join(", ")
        ));
    }
    if matches!(fk.on_delete.as_str(), "n" | "d")
        || matches!(fk.on_update.as_str(), "n" | "d" | "c")
    {
        problems.push(format!(
            "{at}: sets or cascades into tenant_id (on delete {}, on update {})",
            fk.on_delete, fk.on_update
        ));
    }
}

async fn migrated(backend: Backend) -> Option<(TestDb, DatabaseConnection)> {
    let db = TestDb::create(backend).await?;
    let conn = lyceum::db::connect(&db.target).await.unwrap();
    Migrator::up(&conn, None).await.unwrap();
    Some((db, conn))
}

#[tokio::test]
async fn tenant_owned_tables_are_keyed_by_tenant_on_postgres() {
    let Some((_db, conn)) = migrated(Backend::Postgres).await else {
        return;
    };
    let tables = postgres_catalog(&conn).await;
    let (owned, problems) = violations(&tables);
    assert!(
        problems.is_empty(),
        "the schema cannot be distributed by tenant:\n{}",
        problems.join("\n")
    );
    // Not vacuous: the storefronts' data is there, and the named tables are not all of it.
    for name in [
        "courses",
        "orders",
        "entitlements",
        "ledger_entries",
        "payment_events",
        "certificates",
    ] {
        assert!(owned.contains(name), "{name} is tenant-owned");
    }
    assert_eq!(
        owned.len() + REFERENCE_TABLES.len() + COORDINATOR_TABLES.len(),
        tables.len()
    );
    runbook_names_every_table(&tables, &owned);
    conn.close().await.unwrap();
}

#[tokio::test]
async fn every_table_is_classified_on_sqlite() {
    // SQLite is one file on one node and is never distributed: migration 000014 leaves its
    // keys as they were (changing a key there means rebuilding the table), so only the
    // classification is checked here; the keys are checked on PostgreSQL.
    let (_db, conn) = migrated(Backend::Sqlite).await.unwrap();
    let mut problems = Vec::new();
    let owned = classify(&sqlite_columns(&conn).await, &mut problems);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        owned.contains("orders")
            && !owned.contains("gateway_accounts")
            && !owned.contains("outbox")
    );
    conn.close().await.unwrap();
}

/// A table that would not distribute is caught, whichever rule it breaks.
#[tokio::test]
async fn tables_that_would_not_distribute_are_refused() {
    let Some((_db, conn)) = migrated(Backend::Postgres).await else {
        return;
    };
    for sql in [
        // Tenant-owned, keyed by id alone, a platform-wide code, a key to another storefront's
        // course and one to a coordinator table.
        "CREATE TABLE widgets (id uuid PRIMARY KEY, tenant_id uuid NOT NULL REFERENCES tenants (id),
           code text UNIQUE, other_tenant uuid, course_id uuid, token_id uuid REFERENCES api_tokens (id),
           FOREIGN KEY (other_tenant, course_id) REFERENCES courses (tenant_id, id))",
        // Keys right, but the course's deletion would null tenant_id.
        "CREATE TABLE gizmos (id uuid, tenant_id uuid NOT NULL, course_id uuid, PRIMARY KEY (tenant_id, id),
           FOREIGN KEY (tenant_id, course_id) REFERENCES courses (tenant_id, id) ON DELETE SET NULL)",
        // Neither tenant-owned nor named; one whose tenant may be missing.
        "CREATE TABLE gadgets (id uuid PRIMARY KEY, name text)",
        "CREATE TABLE sprockets (id uuid PRIMARY KEY, tenant_id uuid REFERENCES tenants (id))",
        // A reference table pointing into a storefront's rows.
        "ALTER TABLE teams ADD COLUMN course_tenant uuid, ADD COLUMN course_id uuid,
           ADD FOREIGN KEY (course_tenant, course_id) REFERENCES courses (tenant_id, id)",
    ] {
        conn.execute_unprepared(sql).await.unwrap();
    }
    let (_, mut problems) = violations(&postgres_catalog(&conn).await);
    problems.sort();
    let expected = [
        "gadgets: no tenant_id, and not named",
        "gizmos.gizmos_tenant_id_course_id_fkey -> courses: sets or cascades into tenant_id",
        "sprockets: tenant_id may be null",
        "teams.teams_course_tenant_course_id_fkey -> courses: a reference table can point only at reference tables",
        "widgets.widgets_other_tenant_course_id_fkey -> courses: (other_tenant, course_id) -> (tenant_id, id) does not pair tenant_id with tenant_id",
        "widgets.widgets_token_id_fkey -> api_tokens: a distributed table cannot point at a coordinator table",
        "widgets: primary key widgets_pkey (id) lacks tenant_id",
        "widgets: unique key widgets_code_key (code) lacks tenant_id",
    ];
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
    for (found, wanted) in problems.iter().zip(expected) {
        assert!(
            found.starts_with(wanted),
            "{found:?} is not {wanted:?}\n{problems:#?}"
        );
    }
    conn.close().await.unwrap();
}
