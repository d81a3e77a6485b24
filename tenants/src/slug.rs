//! URL-safe identifiers chosen by people: `my-school`, `rust-101`.

use std::fmt;

/// Why a slug was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    #[error("a slug must be between {min} and {max} characters long")]
    Length { min: usize, max: usize },
    #[error(
        "a slug may contain only lower-case letters a-z, digits and single hyphens, and must start and end with a letter or digit"
    )]
    Characters,
    #[error("`{0}` is reserved for the platform and cannot name a storefront")]
    Reserved(String),
}

/// Lower-case ASCII letters, digits and single inner hyphens, 2 to 63 characters: fits a DNS
/// label, so a tenant slug can be a subdomain.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

impl Slug {
    pub const MIN_LEN: usize = 2;
    pub const MAX_LEN: usize = 63;

    pub fn parse(input: &str) -> Result<Self, SlugError> {
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&input.len()) {
            return Err(SlugError::Length {
                min: Self::MIN_LEN,
                max: Self::MAX_LEN,
            });
        }
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if !input.chars().all(allowed)
            || input.starts_with('-')
            || input.ends_with('-')
            || input.contains("--")
        {
            return Err(SlugError::Characters);
        }
        Ok(Self(input.to_owned()))
    }

    /// A storefront's slug: a [`Slug`] that is not one of the platform's
    /// [reserved names](crate::reserved::RESERVED_SLUGS), since it becomes a subdomain.
    pub fn parse_storefront(input: &str) -> Result<Self, SlugError> {
        let slug = Self::parse(input)?;
        if crate::reserved::is_reserved(slug.as_str()) {
            return Err(SlugError::Reserved(slug.into_inner()));
        }
        Ok(slug)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Slug {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_dns_label_shapes() {
        for ok in ["ab", "rust-101", "my-school", "a1", &"x".repeat(63)] {
            assert_eq!(Slug::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "",
            "a",
            "has space",
            "Upper",
            "-lead",
            "trail-",
            "dou--ble",
            "ünï",
            "a_b",
            "a.b",
            &"x".repeat(64),
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn storefronts_cannot_take_reserved_names() {
        assert_eq!(
            Slug::parse_storefront("www"),
            Err(SlugError::Reserved("www".into()))
        );
        assert_eq!(
            Slug::parse_storefront("webhooks"),
            Err(SlugError::Reserved("webhooks".into()))
        );
        assert!(Slug::parse_storefront("school").is_ok());
        // Courses live under a storefront's path, not a subdomain: any slug will do.
        assert!(Slug::parse("www").is_ok());
    }
}
