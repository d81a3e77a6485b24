//! Stripe's form encoding: `application/x-www-form-urlencoded` pairs whose keys nest with
//! brackets (`line_items[0][price_data][currency]=usd`, `expand[]=payment_intent`), decoded
//! into a JSON tree of strings. Numeric segments make arrays, `[]` appends; every leaf stays a
//! string, as on the wire, and the endpoints parse integers and booleans where they expect
//! them.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// A node while decoding; maps whose keys are all numbers become arrays at the end.
#[derive(Debug)]
enum Node {
    Leaf(String),
    Map(BTreeMap<String, Node>),
    List(Vec<Node>),
}

/// A key that clashes with another (`a=1&a[b]=2`) or is malformed (`a[b`); the Stripe
/// parameter name it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError(pub String);

/// Decodes a form body or query string into a JSON object.
pub fn decode(raw: &str) -> Result<Value, FormError> {
    let mut root = BTreeMap::new();
    for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        let path = segments(&key).ok_or_else(|| FormError(key.to_string()))?;
        insert(&mut root, &path, value.into_owned()).map_err(|()| FormError(path[0].clone()))?;
    }
    Ok(to_json(Node::Map(root)))
}

/// `a[b][0][]` → `["a", "b", "0", ""]`; `None` when the brackets do not close.
fn segments(key: &str) -> Option<Vec<String>> {
    let (head, mut rest) = match key.find('[') {
        Some(at) => (&key[..at], &key[at..]),
        None => (key, ""),
    };
    if head.is_empty() {
        return None;
    }
    let mut out = vec![head.to_owned()];
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[')?;
        let close = inner.find(']')?;
        out.push(inner[..close].to_owned());
        rest = &inner[close + 1..];
    }
    Some(out)
}

fn insert(map: &mut BTreeMap<String, Node>, path: &[String], value: String) -> Result<(), ()> {
    let (first, rest) = path.split_first().ok_or(())?;
    if rest.is_empty() {
        return match map.insert(first.clone(), Node::Leaf(value)) {
            Some(Node::Map(_) | Node::List(_)) => Err(()),
            _ => Ok(()),
        };
    }
    if rest[0].is_empty() {
        // `a[]=x` appends a value; `a[][b]=x` appends an object per occurrence.
        let entry = map
            .entry(first.clone())
            .or_insert_with(|| Node::List(Vec::new()));
        let Node::List(items) = entry else {
            return Err(());
        };
        if rest.len() == 1 {
            items.push(Node::Leaf(value));
            return Ok(());
        }
        let mut child = BTreeMap::new();
        insert(&mut child, &rest[1..], value)?;
        items.push(Node::Map(child));
        return Ok(());
    }
    let entry = map
        .entry(first.clone())
        .or_insert_with(|| Node::Map(BTreeMap::new()));
    let Node::Map(child) = entry else {
        return Err(());
    };
    insert(child, rest, value)
}

fn to_json(node: Node) -> Value {
    match node {
        Node::Leaf(s) => Value::String(s),
        Node::List(items) => Value::Array(items.into_iter().map(to_json).collect()),
        Node::Map(map) => {
            let numeric = !map.is_empty() && map.keys().all(|k| k.parse::<usize>().is_ok());
            if numeric {
                let mut items: Vec<(usize, Node)> = map
                    .into_iter()
                    .filter_map(|(k, v)| k.parse().ok().map(|i| (i, v)))
                    .collect();
                items.sort_by_key(|(i, _)| *i);
                Value::Array(items.into_iter().map(|(_, v)| to_json(v)).collect())
            } else {
                Value::Object(
                    map.into_iter()
                        .map(|(k, v)| (k, to_json(v)))
                        .collect::<Map<_, _>>(),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_keys_become_objects_and_arrays() {
        let raw = "mode=payment&line_items[0][price_data][currency]=usd\
                   &line_items[0][price_data][product_data][name]=Rust+101\
                   &line_items[1][quantity]=2&line_items[0][quantity]=3\
                   &metadata[order_id]=o%201&expand[]=payment_intent&expand[]=line_items\
                   &success_url=https%3A%2F%2Fx.test%2Fok%3Fs%3D%7BCHECKOUT_SESSION_ID%7D";
        assert_eq!(
            decode(raw).unwrap(),
            json!({
                "mode": "payment",
                "line_items": [
                    {"price_data": {"currency": "usd", "product_data": {"name": "Rust 101"}}, "quantity": "3"},
                    {"quantity": "2"}
                ],
                "metadata": {"order_id": "o 1"},
                "expand": ["payment_intent", "line_items"],
                "success_url": "https://x.test/ok?s={CHECKOUT_SESSION_ID}"
            })
        );
    }

    #[test]
    fn indexes_order_numerically_and_clashes_are_refused() {
        let items: Vec<String> = (0..12).rev().map(|i| format!("a[{i}]={i}")).collect();
        let decoded = decode(&items.join("&")).unwrap();
        let expected: Vec<String> = (0..12).map(|i| i.to_string()).collect();
        assert_eq!(decoded["a"], json!(expected));
        assert_eq!(decode("a=1&a[b]=2"), Err(FormError("a".into())));
        assert_eq!(decode("a[b]=2&a=1"), Err(FormError("a".into())));
        assert_eq!(decode("a[b=1"), Err(FormError("a[b".into())));
        assert_eq!(decode(""), Ok(json!({})));
    }
}
