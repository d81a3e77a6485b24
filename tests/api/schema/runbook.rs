//! docs/SCALING.md's runbook, held to the schema.

use std::collections::{BTreeMap, BTreeSet};

use lyceum_migrations::distribution::{COORDINATOR_TABLES, REFERENCE_TABLES};

use super::catalog::Table;

/// docs/SCALING.md's runbook names each table once, with the call its place needs, and every
/// table after the tables it points at (Citus takes a foreign key only to a table it manages
/// already).
pub fn runbook_names_every_table(tables: &BTreeMap<String, Table>, owned: &BTreeSet<String>) {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/SCALING.md"))
        .unwrap();
    let calls = [
        "create_reference_table",
        "citus_add_local_table_to_metadata",
        "create_distributed_table",
    ];
    let mut runbook: Vec<(&str, String)> = Vec::new();
    for line in doc.lines() {
        for call in calls {
            if let Some((table, _)) = line
                .split_once(&format!("{call}('"))
                .and_then(|(_, rest)| rest.split_once('\''))
            {
                runbook.push((call, table.to_owned()));
            }
        }
    }
    let named = |call: &str| {
        runbook
            .iter()
            .filter(|(c, _)| *c == call)
            .map(|(_, t)| t.clone())
            .collect::<BTreeSet<_>>()
    };
    let set = |names: &[&str]| {
        names
            .iter()
            .map(|t| (*t).to_owned())
            .collect::<BTreeSet<_>>()
    };
    let hint = format!(
        "an order that works: {}",
        parents_first(tables, owned).join(", ")
    );
    assert_eq!(
        named(calls[0]),
        set(REFERENCE_TABLES),
        "SCALING.md's reference tables"
    );
    assert_eq!(
        named(calls[1]),
        set(COORDINATOR_TABLES),
        "SCALING.md's coordinator tables"
    );
    assert_eq!(
        named(calls[2]),
        *owned,
        "SCALING.md distributes every tenant-owned table; {hint}"
    );
    assert_eq!(
        runbook.len(),
        tables.len(),
        "SCALING.md names each table once"
    );
    let at = |name: &str| runbook.iter().position(|(_, t)| t == name);
    for (name, table) in tables {
        for fk in table.foreign.iter().filter(|fk| fk.target != *name) {
            assert!(
                at(&fk.target) < at(name),
                "SCALING.md takes {name} before {}, which it points at; {hint}",
                fk.target
            );
        }
    }
}

/// The tenant-owned tables, each after every tenant-owned table it points at (alphabetical
/// among equals).
fn parents_first(tables: &BTreeMap<String, Table>, owned: &BTreeSet<String>) -> Vec<String> {
    let points_at = |name: &str, parent: &str| {
        tables[name]
            .foreign
            .iter()
            .any(|fk| fk.target == parent && parent != name)
    };
    let mut order: Vec<String> = Vec::new();
    while order.len() < owned.len() {
        let next = owned
            .iter()
            .find(|t| {
                !order.contains(t) && owned.iter().all(|p| !points_at(t, p) || order.contains(p))
            })
            .expect("the same-tenant keys form no cycle");
        order.push(next.clone());
    }
    order
}
