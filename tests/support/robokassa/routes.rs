//! The fake's HTTP front: the payment page, OpStateExt and the Refund API.

use std::collections::BTreeMap;
use std::sync::Mutex;

use poem::http::StatusCode;
use poem::{Request, Response};

use super::{Invoice, Link, RefundRequest, State, sign};

pub(super) async fn serve(state: &Mutex<State>, mut req: Request) -> Response {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let body = req.take_body().into_string().await.unwrap_or_default();
    let params = |text: &str| -> BTreeMap<String, String> {
        url::form_urlencoded::parse(text.as_bytes())
            .into_owned()
            .collect()
    };
    let mut state = state.lock().expect("the fake's state");
    match (method.as_str(), path.as_str()) {
        ("GET" | "POST", "/Merchant/Index.aspx") => {
            let p = params(if method == "GET" { &query } else { &body });
            pay_page(&mut state, p)
        }
        ("GET" | "POST", "/Merchant/WebService/Service.asmx/OpStateExt") => {
            let p = params(if method == "GET" { &query } else { &body });
            op_state(&mut state, &p)
        }
        ("POST", "/RefundService/Refund/Create") => refund_create(&mut state, &body),
        ("GET", "/RefundService/Refund/GetState") => {
            let p = params(&query);
            let found = state.refunds.iter().find(|r| Some(&r.id) == p.get("id"));
            match found {
                Some(r) => json(
                    200,
                    serde_json::json!({"requestId": r.id, "label": r.label}),
                ),
                None => json(404, serde_json::json!({"message": "no such request"})),
            }
        }
        _ => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body("no such page"),
    }
}

fn pay_page(state: &mut State, params: BTreeMap<String, String>) -> Response {
    let Some(shop) = state.shop.clone() else {
        return bad("no shop");
    };
    let received = params.get("SignatureValue").cloned().unwrap_or_default();
    let expected = shop.hash.hex(&sign::link_base(&params, &shop.password1));
    let signature_ok = params.get("MerchantLogin") == Some(&shop.login)
        && received.eq_ignore_ascii_case(&expected);
    let receipt_text = params.get("Receipt").map(|encoded| {
        url::form_urlencoded::parse(format!("r={encoded}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    });
    let receipt = receipt_text
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok());
    let receipt_adds_up = receipt_text.as_deref().is_none_or(|text| {
        let out_sum = params.get("OutSum").map_or(0, |s| kopecks(s));
        item_sums(text).iter().map(|s| kopecks(s)).sum::<i64>() == out_sum
    });
    state.links.push(Link {
        params: params.clone(),
        signature_ok,
        receipt,
        receipt_adds_up,
    });
    if !signature_ok {
        return bad("Ошибка: неверные параметры (SignatureValue)");
    }
    let inv_id = params.get("InvId").cloned().unwrap_or_default();
    let shp = params
        .iter()
        .filter(|(k, _)| k.to_ascii_lowercase().starts_with("shp_"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let op_key = format!("opkey-{inv_id}-{}", uuid::Uuid::new_v4().simple());
    state.invoices.entry(inv_id.clone()).or_insert(Invoice {
        inv_id: inv_id.clone(),
        out_sum: params.get("OutSum").cloned().unwrap_or_default(),
        shp,
        email: params.get("Email").cloned().unwrap_or_default(),
        state: 5,
        op_key,
    });
    Response::builder()
        .content_type("text/html; charset=utf-8")
        .body(format!("<h1>Robokassa</h1><p>Invoice {inv_id}</p>"))
}

fn op_state(state: &mut State, p: &BTreeMap<String, String>) -> Response {
    state.op_state_calls += 1;
    let Some(shop) = state.shop.clone() else {
        return bad("no shop");
    };
    let inv_id = p.get("InvoiceID").cloned().unwrap_or_default();
    let expected = shop
        .hash
        .hex(&format!("{}:{inv_id}:{}", shop.login, shop.password2));
    let code = |code: u32| {
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<OperationStateResponse xmlns="http://merchant.roboxchange.com/WebService/"><Result><Code>{code}</Code></Result></OperationStateResponse>"#
        )
    };
    let xml = if p.get("MerchantLogin") != Some(&shop.login) {
        code(2)
    } else if !p
        .get("Signature")
        .is_some_and(|s| s.eq_ignore_ascii_case(&expected))
    {
        code(1)
    } else {
        match state.invoices.get(&inv_id) {
            None => code(3),
            Some(i) => {
                let fields: String = i
                    .shp
                    .iter()
                    .map(|(k, v)| format!("<Field><Name>{k}</Name><Value>{v}</Value></Field>"))
                    .collect();
                format!(
                    r#"<?xml version="1.0" encoding="utf-8"?>
<OperationStateResponse xmlns="http://merchant.roboxchange.com/WebService/">
  <Result><Code>0</Code></Result>
  <State><Code>{}</Code><RequestDate>2026-11-29T10:00:00.000+03:00</RequestDate><StateDate>2026-11-29T10:01:00.000+03:00</StateDate></State>
  <Info><IncCurrLabel>BankCardPSR</IncCurrLabel><IncSum>{}</IncSum><IncAccount>220220******1234</IncAccount><PaymentMethod><Code>BankCard</Code><Description>Банковская карта</Description></PaymentMethod><OutCurrLabel>BankCardPSR</OutCurrLabel><OutSum>{}</OutSum><OpKey>{}</OpKey><BankCardRRN>000000000001</BankCardRRN></Info>
  <UserField>{fields}</UserField>
</OperationStateResponse>"#,
                    i.state,
                    i.out_sum,
                    super::six_decimals(&i.out_sum),
                    i.op_key
                )
            }
        }
    };
    Response::builder()
        .content_type("text/xml; charset=utf-8")
        .body(xml)
}

fn refund_create(state: &mut State, body: &str) -> Response {
    let Some(shop) = state.shop.clone() else {
        return bad("no shop");
    };
    let refused = |message: &str| {
        json(
            200,
            serde_json::json!({"success": false, "message": message}),
        )
    };
    let Some(key) = shop.password3.as_deref() else {
        return refused("Refund API is not enabled for this shop");
    };
    let Some(payload) = sign::jwt_payload(shop.hash, key, body) else {
        return refused("invalid token");
    };
    let Some(op_key) = payload["OpKey"].as_str() else {
        return refused("no OpKey");
    };
    if !state
        .invoices
        .values()
        .any(|i| i.op_key == op_key && i.state == 100)
    {
        return refused("no paid operation with this OpKey");
    }
    let id = uuid::Uuid::new_v4().to_string();
    state.refunds.push(RefundRequest {
        id: id.clone(),
        op_key: op_key.to_owned(),
        refund_sum: payload.get("RefundSum").map(ToString::to_string),
        label: "processing".into(),
    });
    if std::mem::take(&mut state.lose_next_create_answer) {
        return json(502, serde_json::json!({"message": "bad gateway"}));
    }
    json(
        200,
        serde_json::json!({"success": true, "message": null, "requestId": id}),
    )
}

/// The `sum` numbers of a receipt's items, as written (read from the text, not as floats).
fn item_sums(json: &str) -> Vec<String> {
    json.split("\"sum\":")
        .skip(1)
        .map(|rest| {
            rest.trim_start()
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect()
        })
        .collect()
}

/// `1490.5` → 149050 kopecks.
fn kopecks(decimal: &str) -> i64 {
    let (whole, fraction) = decimal.split_once('.').unwrap_or((decimal, ""));
    let fraction = format!("{fraction:0<2}");
    whole.parse::<i64>().unwrap_or(-1) * 100 + fraction[..2].parse::<i64>().unwrap_or(-1)
}

fn bad(why: &str) -> Response {
    Response::builder()
        .status(StatusCode::BAD_REQUEST)
        .body(why.to_owned())
}

fn json(status: u16, body: serde_json::Value) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
        .content_type("application/json")
        .body(body.to_string())
}
