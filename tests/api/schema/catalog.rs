//! The tables, columns, unique keys and foreign keys of a migrated database, read from its
//! catalog.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

/// A table as the catalog describes it.
#[derive(Debug, Default)]
pub struct Table {
    /// Column name → whether it is `NOT NULL`.
    pub columns: BTreeMap<String, bool>,
    /// Unique indexes (the primary key among them): name, primary, columns in order.
    pub keys: Vec<(String, bool, Vec<String>)>,
    pub foreign: Vec<Foreign>,
}

#[derive(Debug)]
pub struct Foreign {
    pub name: String,
    pub columns: Vec<String>,
    pub target: String,
    pub target_columns: Vec<String>,
    /// `pg_constraint.confdeltype` / `confupdtype`: a, r, c, n (set null), d (set default).
    pub on_delete: String,
    pub on_update: String,
}

const TABLES: &str = "
SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')";

const COLUMNS: &str = "
SELECT table_name::text AS name, column_name::text AS col, is_nullable = 'NO' AS not_null
FROM information_schema.columns WHERE table_schema = current_schema()";

// Expression columns of an index have no attribute: they are named `(expression)`.
const KEYS: &str = "
SELECT t.relname AS name, i.relname AS key, x.indisprimary AS primary,
       string_agg(coalesce(a.attname::text, '(expression)'), ',' ORDER BY k.ord) AS cols
FROM pg_index x
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
WHERE n.nspname = current_schema() AND x.indisunique
GROUP BY t.relname, i.relname, x.indisprimary";

const FOREIGN: &str = "
SELECT c.conname AS key, t.relname AS name, f.relname AS target,
       c.confdeltype::text AS on_delete, c.confupdtype::text AS on_update,
       (SELECT string_agg(a.attname, ',' ORDER BY k.ord)
          FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS cols,
       (SELECT string_agg(a.attname, ',' ORDER BY k.ord)
          FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) AS target_cols
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_class f ON f.oid = c.confrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE c.contype = 'f' AND n.nspname = current_schema()";

async fn rows(conn: &DatabaseConnection, sql: &str) -> Vec<sea_orm::QueryResult> {
    conn.query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap()
}

fn list(joined: String) -> Vec<String> {
    joined.split(',').map(str::to_owned).collect()
}

pub async fn postgres_catalog(conn: &DatabaseConnection) -> BTreeMap<String, Table> {
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for row in rows(conn, TABLES).await {
        tables.entry(row.try_get("", "name").unwrap()).or_default();
    }
    let table = |row: &sea_orm::QueryResult| -> String { row.try_get("", "name").unwrap() };
    for row in rows(conn, COLUMNS).await {
        if let Some(t) = tables.get_mut(&table(&row)) {
            t.columns.insert(
                row.try_get("", "col").unwrap(),
                row.try_get("", "not_null").unwrap(),
            );
        }
    }
    for row in rows(conn, KEYS).await {
        let key = (
            row.try_get("", "key").unwrap(),
            row.try_get("", "primary").unwrap(),
            list(row.try_get("", "cols").unwrap()),
        );
        tables.get_mut(&table(&row)).unwrap().keys.push(key);
    }
    for row in rows(conn, FOREIGN).await {
        let foreign = Foreign {
            name: row.try_get("", "key").unwrap(),
            columns: list(row.try_get("", "cols").unwrap()),
            target: row.try_get("", "target").unwrap(),
            target_columns: list(row.try_get("", "target_cols").unwrap()),
            on_delete: row.try_get("", "on_delete").unwrap(),
            on_update: row.try_get("", "on_update").unwrap(),
        };
        tables.get_mut(&table(&row)).unwrap().foreign.push(foreign);
    }
    tables
}

/// Each table's columns and whether they are `NOT NULL`, from SQLite's catalog.
pub async fn sqlite_columns(conn: &DatabaseConnection) -> BTreeMap<String, BTreeMap<String, bool>> {
    let mut tables = BTreeMap::new();
    for row in rows(
        conn,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .await
    {
        let name: String = row.try_get("", "name").unwrap();
        let mut columns = BTreeMap::new();
        let sql = format!("SELECT name, \"notnull\" AS not_null FROM pragma_table_info('{name}')");
        for column in rows(conn, &sql).await {
            columns.insert(
                column.try_get("", "name").unwrap(),
                column.try_get::<i32>("", "not_null").unwrap() == 1,
            );
        }
        tables.insert(name, columns);
    }
    tables
}
