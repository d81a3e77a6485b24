use std::fmt;

use secrecy::SecretString;

use super::FieldError;

/// Trimmed text of `MIN..=MAX` characters (titles, names, descriptions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundedText<const MIN: usize, const MAX: usize>(String);

impl<const MIN: usize, const MAX: usize> BoundedText<MIN, MAX> {
    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        let trimmed = input.trim();
        let len = trimmed.chars().count();
        if len < MIN || len > MAX {
            return Err(FieldError::new(
                field,
                if MIN == 0 {
                    format!("must be at most {MAX} characters")
                } else {
                    format!("must be between {MIN} and {MAX} characters")
                },
            ));
        }
        if trimmed
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
        {
            return Err(FieldError::new(
                field,
                "must not contain control characters",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl<const MIN: usize, const MAX: usize> fmt::Display for BoundedText<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password: 8 to 256 characters. Kept secret in memory and never logged.
#[derive(Debug)]
pub struct Password(SecretString);

impl Password {
    pub const MIN: usize = 8;
    pub const MAX: usize = 256;

    pub fn parse(field: &str, input: String) -> Result<Self, FieldError> {
        let len = input.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&len) {
            return Err(FieldError::new(
                field,
                format!("must be between {} and {} characters", Self::MIN, Self::MAX),
            ));
        }
        Ok(Self(SecretString::from(input)))
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_in_characters_and_trimmed() {
        type Title = BoundedText<1, 5>;
        assert_eq!(Title::parse("t", "  héllo ").unwrap().as_str(), "héllo");
        assert!(Title::parse("t", "   ").is_err());
        assert!(Title::parse("t", "toolong").is_err());
        assert!(Title::parse("t", "a\u{0}b").is_err());
        assert!(Password::parse("p", "short".into()).is_err());
        assert!(Password::parse("p", "long enough".into()).is_ok());
    }
}
