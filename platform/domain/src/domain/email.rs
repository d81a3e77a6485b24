use std::fmt;

use super::FieldError;

/// A syntactically valid e-mail address, lower-cased so that one person has one account.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        let trimmed = input.trim();
        if trimmed.len() > 254 {
            return Err(FieldError::new(
                field,
                "an e-mail address is at most 254 characters",
            ));
        }
        let parsed: email_address::EmailAddress = trimmed
            .parse()
            .map_err(|_| FieldError::new(field, "not a valid e-mail address"))?;
        Ok(Self(parsed.as_str().to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Addresses are personal data: `Debug` shows only the domain.
impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let domain = self.0.rsplit('@').next().unwrap_or_default();
        write!(f, "Email(***@{domain})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_cases_and_refuses_garbage() {
        assert_eq!(
            Email::parse("email", " Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
        for bad in ["", "ann", "ann@", "@example.com", "a b@example.com"] {
            assert!(Email::parse("email", bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            format!("{:?}", Email::parse("e", "ann@example.com").unwrap()),
            "Email(***@example.com)"
        );
    }
}
