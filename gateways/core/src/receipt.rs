//! A storefront's 54-FZ receipt settings: what Russian law makes a seller print for every
//! payment and refund (a fiscal receipt with the tax system, each item's VAT rate, what is
//! sold and how it is paid), and who the supplier is when the platform sells on a seller's
//! behalf.
//!
//! One vocabulary for every provider that fiscalizes (YooKassa, Robokassa): the names are the
//! ones both providers' receipt formats use for subjects and modes, and Robokassa's for tax
//! systems and VAT rates; each provider's crate maps them to its own codes. The owner sends
//! them as the `receipt` object of `PUT …/gateways/{gateway}`; they are stored with the
//! account's settings under `receipt.*` and shown back.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::AccountInputError;

/// Declares a closed set of names with `as_str`, `parse` and `ALL`.
macro_rules! names {
    ($(#[$doc:meta])* $ty:ident { $($(#[$vdoc:meta])* $variant:ident => $name:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $ty {
            $($(#[$vdoc])* $variant,)+
        }

        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($name => Some(Self::$variant),)+
                    _ => None,
                }
            }

            fn choices() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }
    };
}

names! {
    /// The seller's tax system (система налогообложения).
    TaxSystem {
        /// General (ОСН).
        Osn => "osn",
        /// Simplified, on income (УСН доходы).
        UsnIncome => "usn_income",
        /// Simplified, on income minus expenses (УСН доходы − расходы).
        UsnIncomeOutcome => "usn_income_outcome",
        /// Imputed income (ЕНВД), abolished in 2021; kept for old shops' settings.
        Envd => "envd",
        /// Unified agricultural tax (ЕСХН).
        Esn => "esn",
        /// Patent (ПСН).
        Patent => "patent",
    }
}

names! {
    /// An item's VAT rate.
    Vat {
        /// Not subject to VAT (без НДС).
        None => "none",
        Vat0 => "vat0",
        Vat5 => "vat5",
        Vat7 => "vat7",
        Vat10 => "vat10",
        Vat20 => "vat20",
        Vat22 => "vat22",
        /// Calculated rates (5/105, 7/107, 10/110, 20/120, 22/122), for prepayments.
        Vat105 => "vat105",
        Vat107 => "vat107",
        Vat110 => "vat110",
        Vat120 => "vat120",
        Vat122 => "vat122",
    }
}

names! {
    /// What is sold (признак предмета расчёта).
    PaymentSubject {
        Service => "service",
        IntellectualActivity => "intellectual_activity",
        Commodity => "commodity",
        Job => "job",
        Payment => "payment",
        AgentCommission => "agent_commission",
        PropertyRight => "property_right",
        Composite => "composite",
        Another => "another",
    }
}

names! {
    /// How it is paid (признак способа расчёта).
    PaymentMode {
        FullPrepayment => "full_prepayment",
        Prepayment => "prepayment",
        Advance => "advance",
        FullPayment => "full_payment",
        PartialPayment => "partial_payment",
        Credit => "credit",
        CreditPayment => "credit_payment",
    }
}

/// The seller the platform sells for (поставщик), printed on receipts the platform's shop
/// issues as the seller's agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supplier {
    pub name: String,
    /// ИНН: 10 digits (an organisation) or 12 (an individual entrepreneur).
    pub inn: String,
    /// `+` and digits, when given.
    pub phone: Option<String>,
}

/// A storefront's receipt settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptSettings {
    /// Whether receipts are sent with payments and refunds at all (a shop that fiscalizes
    /// elsewhere turns them off).
    pub enabled: bool,
    /// Sent when set; a shop with one tax system may leave it to the provider's cabinet.
    pub tax_system: Option<TaxSystem>,
    pub vat: Vat,
    pub payment_subject: PaymentSubject,
    pub payment_mode: PaymentMode,
    pub supplier: Option<Supplier>,
}

impl Default for ReceiptSettings {
    /// Receipts on, a course sold as a service paid in full, without VAT.
    fn default() -> Self {
        Self {
            enabled: true,
            tax_system: None,
            vat: Vat::None,
            payment_subject: PaymentSubject::Service,
            payment_mode: PaymentMode::FullPayment,
            supplier: None,
        }
    }
}

/// The JSON field of `PUT …/gateways/{gateway}` the settings come in.
pub const FIELD: &str = "receipt";
const PREFIX: &str = "receipt.";

impl ReceiptSettings {
    /// Reads the `receipt` object an owner sent (absent: the defaults). Unknown fields and
    /// unknown names are refused, each naming the field.
    pub fn parse(value: Option<&Value>) -> Result<Self, AccountInputError> {
        let mut settings = Self::default();
        let Some(value) = value else {
            return Ok(settings);
        };
        let Value::Object(object) = value else {
            return Err(AccountInputError::new(FIELD, "must be an object"));
        };
        let mut supplier = (None, None, None);
        for (key, value) in object {
            let field = format!("{FIELD}.{key}");
            if key == "enabled" {
                settings.enabled = value
                    .as_bool()
                    .ok_or_else(|| AccountInputError::new(&field, "must be true or false"))?;
                continue;
            }
            let text = text(&field, value)?;
            match key.as_str() {
                "tax_system" => {
                    settings.tax_system =
                        Some(pick(&field, text, TaxSystem::parse, TaxSystem::choices)?)
                }
                "vat" => settings.vat = pick(&field, text, Vat::parse, Vat::choices)?,
                "payment_subject" => {
                    settings.payment_subject =
                        pick(&field, text, PaymentSubject::parse, PaymentSubject::choices)?
                }
                "payment_mode" => {
                    settings.payment_mode =
                        pick(&field, text, PaymentMode::parse, PaymentMode::choices)?
                }
                "supplier_name" => supplier.0 = Some(supplier_name(&field, text)?),
                "supplier_inn" => supplier.1 = Some(inn(&field, text)?),
                "supplier_phone" => supplier.2 = Some(phone(&field, text)?),
                _ => {
                    return Err(AccountInputError::new(
                        field,
                        "unknown field; receipts take enabled, tax_system, vat, payment_subject, payment_mode, supplier_name, supplier_inn and supplier_phone",
                    ));
                }
            }
        }
        settings.supplier = match supplier {
            (None, None, None) => None,
            (Some(name), Some(inn), phone) => Some(Supplier { name, inn, phone }),
            (None, _, _) => {
                return Err(AccountInputError::new(
                    format!("{FIELD}.supplier_name"),
                    "a supplier needs a name",
                ));
            }
            (_, None, _) => {
                return Err(AccountInputError::new(
                    format!("{FIELD}.supplier_inn"),
                    "a supplier needs an INN",
                ));
            }
        };
        Ok(settings)
    }

    /// The settings as the account stores and shows them (`receipt.*`).
    pub fn to_settings(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut put = |k: &str, v: &str| {
            out.insert(format!("{PREFIX}{k}"), v.to_owned());
        };
        put("enabled", if self.enabled { "true" } else { "false" });
        if let Some(t) = self.tax_system {
            put("tax_system", t.as_str());
        }
        put("vat", self.vat.as_str());
        put("payment_subject", self.payment_subject.as_str());
        put("payment_mode", self.payment_mode.as_str());
        if let Some(s) = &self.supplier {
            put("supplier_name", &s.name);
            put("supplier_inn", &s.inn);
            if let Some(p) = &s.phone {
                put("supplier_phone", p);
            }
        }
        out
    }

    /// The settings an account stored (defaults for what it did not store). A stored value
    /// that no longer parses falls back to its default rather than failing a payment.
    pub fn from_settings(settings: &BTreeMap<String, String>) -> Self {
        let get = |k: &str| settings.get(&format!("{PREFIX}{k}")).map(String::as_str);
        let default = Self::default();
        Self {
            enabled: get("enabled") != Some("false"),
            tax_system: get("tax_system").and_then(TaxSystem::parse),
            vat: get("vat").and_then(Vat::parse).unwrap_or(default.vat),
            payment_subject: get("payment_subject")
                .and_then(PaymentSubject::parse)
                .unwrap_or(default.payment_subject),
            payment_mode: get("payment_mode")
                .and_then(PaymentMode::parse)
                .unwrap_or(default.payment_mode),
            supplier: match (get("supplier_name"), get("supplier_inn")) {
                (Some(name), Some(inn)) => Some(Supplier {
                    name: name.to_owned(),
                    inn: inn.to_owned(),
                    phone: get("supplier_phone").map(str::to_owned),
                }),
                _ => None,
            },
        }
    }
}

/// The receipt settings among an account's fields, parsed; the other fields are left to the
/// provider's crate.
pub fn from_fields(fields: &Map<String, Value>) -> Result<ReceiptSettings, AccountInputError> {
    ReceiptSettings::parse(fields.get(FIELD))
}

fn text<'v>(field: &str, value: &'v Value) -> Result<&'v str, AccountInputError> {
    value
        .as_str()
        .ok_or_else(|| AccountInputError::new(field, "must be a string"))
}

fn pick<T>(
    field: &str,
    text: &str,
    parse: fn(&str) -> Option<T>,
    choices: fn() -> String,
) -> Result<T, AccountInputError> {
    parse(text)
        .ok_or_else(|| AccountInputError::new(field, format!("must be one of {}", choices())))
}

fn supplier_name(field: &str, text: &str) -> Result<String, AccountInputError> {
    let name = text.trim();
    if name.is_empty() || name.chars().count() > 239 || name.chars().any(char::is_control) {
        return Err(AccountInputError::new(
            field,
            "must be 1 to 239 printable characters",
        ));
    }
    Ok(name.to_owned())
}

fn inn(field: &str, text: &str) -> Result<String, AccountInputError> {
    if !matches!(text.len(), 10 | 12) || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AccountInputError::new(field, "must be 10 or 12 digits"));
    }
    Ok(text.to_owned())
}

fn phone(field: &str, text: &str) -> Result<String, AccountInputError> {
    let digits = text.strip_prefix('+').unwrap_or(text);
    if !(7..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AccountInputError::new(
            field,
            "must be an international number: + and 7 to 15 digits",
        ));
    }
    Ok(format!("+{digits}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn absent_settings_are_the_defaults() {
        assert_eq!(ReceiptSettings::parse(None), Ok(ReceiptSettings::default()));
        assert_eq!(
            ReceiptSettings::from_settings(&BTreeMap::new()),
            ReceiptSettings::default()
        );
    }

    #[test]
    fn settings_round_trip_through_storage() {
        let parsed = ReceiptSettings::parse(Some(&json!({
            "tax_system": "usn_income",
            "vat": "vat20",
            "payment_subject": "intellectual_activity",
            "payment_mode": "full_prepayment",
            "supplier_name": "ИП Иванов И. И.",
            "supplier_inn": "123456789012",
            "supplier_phone": "79001234567",
        })))
        .unwrap();
        assert_eq!(parsed.tax_system, Some(TaxSystem::UsnIncome));
        assert_eq!(
            parsed.supplier.as_ref().unwrap().phone.as_deref(),
            Some("+79001234567")
        );
        assert_eq!(
            ReceiptSettings::from_settings(&parsed.to_settings()),
            parsed
        );
        let off = ReceiptSettings::parse(Some(&json!({"enabled": false}))).unwrap();
        assert!(!ReceiptSettings::from_settings(&off.to_settings()).enabled);
    }

    #[test]
    fn bad_input_names_its_field() {
        for (body, field) in [
            (json!({"vat": "vat18"}), "receipt.vat"),
            (json!({"tax_system": 1}), "receipt.tax_system"),
            (json!({"supplier_inn": "12345"}), "receipt.supplier_inn"),
            (
                json!({"supplier_inn": "1234567890"}),
                "receipt.supplier_name",
            ),
            (
                json!({"supplier_name": "ООО Ромашка"}),
                "receipt.supplier_inn",
            ),
            (
                json!({"supplier_name": "x", "supplier_inn": "1234567890", "supplier_phone": "call me"}),
                "receipt.supplier_phone",
            ),
            (json!({"colour": "red"}), "receipt.colour"),
            (json!({"enabled": "yes"}), "receipt.enabled"),
            (json!("osn"), "receipt"),
        ] {
            let err = ReceiptSettings::parse(Some(&body)).unwrap_err();
            assert_eq!(err.field, field, "{body}");
        }
    }

    #[test]
    fn every_name_parses_back() {
        for v in Vat::ALL {
            assert_eq!(Vat::parse(v.as_str()), Some(*v));
        }
        for t in TaxSystem::ALL {
            assert_eq!(TaxSystem::parse(t.as_str()), Some(*t));
        }
        for s in PaymentSubject::ALL {
            assert_eq!(PaymentSubject::parse(s.as_str()), Some(*s));
        }
        for m in PaymentMode::ALL {
            assert_eq!(PaymentMode::parse(m.as_str()), Some(*m));
        }
    }
}
