//! The hash algorithm a shop chose in Robokassa's Technical settings, for its signatures
//! (lowercase hex digests) and its Refund API tokens (HMAC with the same hash).

use std::fmt;

use hmac::{KeyInit, Mac, SimpleHmac};
use sha2::Digest;

/// One of the six algorithms Robokassa offers a shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HashAlgorithm {
    /// Robokassa's default for new shops.
    #[default]
    Md5,
    Ripemd160,
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlgorithm {
    pub const ALL: [HashAlgorithm; 6] = [
        Self::Md5,
        Self::Ripemd160,
        Self::Sha1,
        Self::Sha256,
        Self::Sha384,
        Self::Sha512,
    ];

    /// The name an owner sends and the account stores: `md5`, `ripemd160`, `sha1`, `sha256`,
    /// `sha384`, `sha512`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Md5 => "md5",
            Self::Ripemd160 => "ripemd160",
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// Parses a name, in any case (the cabinet writes `MD5`, `SHA256`).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(name))
    }

    /// The lowercase hex digest of `data` (its UTF-8 bytes), as Robokassa signs.
    pub fn hex_digest(self, data: &str) -> String {
        fn hex_of<D: Digest>(data: &str) -> String {
            hex::encode(D::digest(data.as_bytes()))
        }
        match self {
            Self::Md5 => hex_of::<md5::Md5>(data),
            Self::Ripemd160 => hex_of::<ripemd::Ripemd160>(data),
            Self::Sha1 => hex_of::<sha1::Sha1>(data),
            Self::Sha256 => hex_of::<sha2::Sha256>(data),
            Self::Sha384 => hex_of::<sha2::Sha384>(data),
            Self::Sha512 => hex_of::<sha2::Sha512>(data),
        }
    }

    /// The HMAC of `message` under `key` with this hash (the Refund API's JWT signature).
    pub fn hmac(self, key: &[u8], message: &[u8]) -> Vec<u8> {
        fn mac_of<D>(key: &[u8], message: &[u8]) -> Vec<u8>
        where
            D: Digest + hmac::digest::block_api::BlockSizeUser + Clone,
        {
            // HMAC takes keys of any length: longer ones are hashed, shorter ones padded.
            match <SimpleHmac<D> as KeyInit>::new_from_slice(key) {
                Ok(mut mac) => {
                    mac.update(message);
                    mac.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            }
        }
        match self {
            Self::Md5 => mac_of::<md5::Md5>(key, message),
            Self::Ripemd160 => mac_of::<ripemd::Ripemd160>(key, message),
            Self::Sha1 => mac_of::<sha1::Sha1>(key, message),
            Self::Sha256 => mac_of::<sha2::Sha256>(key, message),
            Self::Sha384 => mac_of::<sha2::Sha384>(key, message),
            Self::Sha512 => mac_of::<sha2::Sha512>(key, message),
        }
    }

    /// The JWT `alg` Robokassa's token services take for this hash (`MD5`, `SHA256`, …).
    pub fn jwt_alg(self) -> String {
        self.as_str().to_ascii_uppercase()
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_in_any_case() {
        for a in HashAlgorithm::ALL {
            assert_eq!(HashAlgorithm::parse(a.as_str()), Some(a));
            assert_eq!(HashAlgorithm::parse(&a.as_str().to_uppercase()), Some(a));
        }
        assert_eq!(HashAlgorithm::parse("sha3"), None);
    }

    #[test]
    fn digests_are_the_known_ones() {
        // RFC 1321's and FIPS 180's test vectors for "abc".
        assert_eq!(
            HashAlgorithm::Md5.hex_digest("abc"),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            HashAlgorithm::Sha1.hex_digest("abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            HashAlgorithm::Ripemd160.hex_digest("abc"),
            "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"
        );
        assert_eq!(HashAlgorithm::Sha384.hex_digest("abc").len(), 96);
        assert_eq!(HashAlgorithm::Sha512.hex_digest("abc").len(), 128);
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231 test case 2.
        let mac = HashAlgorithm::Sha256.hmac(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
