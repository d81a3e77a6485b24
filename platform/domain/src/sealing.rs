//! Sealing: credentials at rest (a tenant's YooKassa secret key, its Robokassa passwords),
//! encrypted with XChaCha20-Poly1305 under the platform's key ring.
//!
//! A sealed value is `v1.<key id>.<nonce>.<ciphertext>` (base64url, no padding): the key id
//! names which key of the ring sealed it, so keys can be rotated — configure the new key as
//! `LYCEUM_SECRETS_KEY`, keep the old one in `LYCEUM_SECRETS_PREVIOUS_KEYS` until
//! `lyceum secrets rotate` has resealed every value under the new one. Every value is bound to
//! where it belongs (its *context*, e.g. `gateway_account:<tenant>:<gateway>`) as associated
//! data, so a sealed secret copied to another tenant's row does not open.
//!
//! Without a configured key, one is generated into `{data_dir}/secrets.key` (mode 0600) on
//! first start: good for one instance, never for several sharing a database (each would make
//! its own), which is why a deployment of several instances must configure one.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// The bytes of a key: 256 bits.
const KEY_BYTES: usize = 32;
/// XChaCha20's nonce: 192 bits, safe to draw at random for every value.
const NONCE_BYTES: usize = 24;
const VERSION: &str = "v1";

/// Why a key ring could not be built or a value could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("{what} is not a base64-encoded 32-byte key")]
    BadKey { what: String },
    #[error("the key file {path} could not be read or written")]
    KeyFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "LYCEUM_SECRETS_KEY is required with a database server (DATABASE_URL): every instance \
         must seal with the same key; `lyceum secrets new-key` prints one"
    )]
    KeyRequired,
    #[error("the sealed value is malformed")]
    Malformed,
    #[error("the value was sealed with key `{0}`, which is not in the key ring")]
    UnknownKey(String),
    #[error("the sealed value does not open: altered, or moved from where it was sealed")]
    Tampered,
}

/// One key and its id (the first 8 hex digits of its SHA-256, which reveal nothing of it).
struct RingKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl RingKey {
    fn new(bytes: &[u8; KEY_BYTES]) -> Self {
        let digest = Sha256::new()
            .chain_update(b"lyceum sealing key id\0")
            .chain_update(bytes)
            .finalize();
        Self {
            id: hex::encode(&digest[..4]),
            cipher: XChaCha20Poly1305::new(bytes.into()),
        }
    }
}

/// The current key (which seals) and the previous ones (which still open).
pub struct KeyRing {
    current: RingKey,
    previous: Vec<RingKey>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("current", &self.current.id)
            .field(
                "previous",
                &self.previous.iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl KeyRing {
    /// A ring from configured keys (base64 of 32 bytes each).
    pub fn from_keys(current: &SecretString, previous: &[SecretString]) -> Result<Self, SealError> {
        let current = RingKey::new(&decode_key(current, "LYCEUM_SECRETS_KEY")?);
        let previous = previous
            .iter()
            .enumerate()
            .map(|(i, key)| {
                decode_key(
                    key,
                    &format!("LYCEUM_SECRETS_PREVIOUS_KEYS entry {}", i + 1),
                )
                .map(|bytes| RingKey::new(&bytes))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { current, previous })
    }

    /// The configured ring, or one made of the key in `{data_dir}/secrets.key`, generated
    /// there when missing — but only for the embedded SQLite database: instances sharing a
    /// database server would each make their own key and open none of each other's values.
    pub fn from_settings(settings: &crate::config::Settings) -> Result<Self, SealError> {
        match &settings.secrets_key {
            Some(key) => Self::from_keys(key, &settings.secrets_previous_keys),
            None if matches!(settings.database, crate::config::DatabaseTarget::Url(_)) => {
                Err(SealError::KeyRequired)
            }
            None => {
                let key = key_file(&settings.data_dir.join("secrets.key"))?;
                Self::from_keys(&key, &settings.secrets_previous_keys)
            }
        }
    }

    /// A fresh random key, base64-encoded, as `lyceum secrets new-key` prints it.
    pub fn generate_key() -> SecretString {
        let bytes: [u8; KEY_BYTES] = rand::random();
        SecretString::from(STANDARD.encode(bytes))
    }

    /// The id of the key that seals.
    pub fn current_key_id(&self) -> &str {
        &self.current.id
    }

    /// Seals `plaintext` for `context` under the current key.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> String {
        let nonce: [u8; NONCE_BYTES] = rand::random();
        #[expect(
            clippy::expect_used,
            reason = "XChaCha20-Poly1305 encryption fails only for messages over 256 GiB"
        )]
        let ciphertext = self
            .current
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .expect("a credential is far below the cipher's limit");
        format!(
            "{VERSION}.{}.{}.{}",
            self.current.id,
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(ciphertext)
        )
    }

    /// Opens a value sealed for `context` by any key of the ring.
    pub fn open(
        &self,
        sealed: &str,
        context: &str,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, SealError> {
        let mut parts = sealed.split('.');
        let (Some(VERSION), Some(key_id), Some(nonce), Some(ciphertext), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(SealError::Malformed);
        };
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == key_id)
            .ok_or_else(|| SealError::UnknownKey(key_id.to_owned()))?;
        let nonce: [u8; NONCE_BYTES] = URL_SAFE_NO_PAD
            .decode(nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or(SealError::Malformed)?;
        let ciphertext = URL_SAFE_NO_PAD
            .decode(ciphertext)
            .map_err(|_| SealError::Malformed)?;
        key.cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map(zeroize::Zeroizing::new)
            .map_err(|_| SealError::Tampered)
    }

    /// Whether `sealed` was sealed by the current key (else `rotate` reseals it).
    pub fn is_current(&self, sealed: &str) -> bool {
        sealed
            .split('.')
            .nth(1)
            .is_some_and(|id| id == self.current.id)
    }
}

fn decode_key(key: &SecretString, what: &str) -> Result<[u8; KEY_BYTES], SealError> {
    let bad = || SealError::BadKey {
        what: what.to_owned(),
    };
    let bytes = zeroize::Zeroizing::new(
        STANDARD
            .decode(key.expose_secret().trim())
            .map_err(|_| bad())?,
    );
    bytes.as_slice().try_into().map_err(|_| bad())
}

/// The key kept in `path`, created (readable by this user only) when missing.
fn key_file(path: &Path) -> Result<SecretString, SealError> {
    let failed = |source| SealError::KeyFile {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(key) => {
            #[cfg(unix)]
            if let Ok(meta) = std::fs::metadata(path) {
                use std::os::unix::fs::PermissionsExt;
                if meta.permissions().mode() & 0o077 != 0 {
                    tracing::warn!(path = %path.display(), "the sealing key file is readable by other users; chmod 600 it");
                }
            }
            return Ok(SecretString::from(key.trim().to_owned()));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(failed(e)),
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    let key = KeyRing::generate_key();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            use std::io::Write;
            file.write_all(key.expose_secret().as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(failed)?;
            tracing::warn!(
                path = %path.display(),
                "generated the key that seals gateway credentials; back it up with the database, \
                 and set LYCEUM_SECRETS_KEY when several instances share one database"
            );
            Ok(key)
        }
        // Another process made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => std::fs::read_to_string(path)
            .map(|k| SecretString::from(k.trim().to_owned()))
            .map_err(failed),
        Err(e) => Err(failed(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> (KeyRing, SecretString) {
        let key = KeyRing::generate_key();
        (KeyRing::from_keys(&key, &[]).unwrap(), key)
    }

    #[test]
    fn a_sealed_value_opens_in_its_context_only() {
        let (ring, _) = ring();
        let sealed = ring.seal(b"sk_live_hunter2", "gateway_account:a:yookassa");
        assert!(!sealed.contains("hunter2"));
        assert_eq!(
            ring.open(&sealed, "gateway_account:a:yookassa")
                .unwrap()
                .as_slice(),
            b"sk_live_hunter2"
        );
        assert!(matches!(
            ring.open(&sealed, "gateway_account:b:yookassa"),
            Err(SealError::Tampered)
        ));
    }

    #[test]
    fn the_same_value_seals_differently_each_time() {
        let (ring, _) = ring();
        assert_ne!(ring.seal(b"x", "c"), ring.seal(b"x", "c"));
    }

    #[test]
    fn an_altered_value_does_not_open() {
        let (ring, _) = ring();
        let sealed = ring.seal(b"secret", "c");
        let mut bytes = sealed.clone().into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(bytes).unwrap();
        assert!(matches!(ring.open(&altered, "c"), Err(SealError::Tampered)));
        assert!(matches!(
            ring.open("v1.abc", "c"),
            Err(SealError::Malformed)
        ));
        assert!(matches!(
            ring.open(&sealed.replacen("v1.", "v2.", 1), "c"),
            Err(SealError::Malformed)
        ));
    }

    #[test]
    fn rotation_opens_old_values_and_seals_under_the_new_key() {
        let (old_ring, old_key) = ring();
        let sealed_before = old_ring.seal(b"secret", "c");
        let new_key = KeyRing::generate_key();
        let rotated = KeyRing::from_keys(&new_key, &[old_key]).unwrap();
        assert!(!rotated.is_current(&sealed_before));
        assert_eq!(
            rotated.open(&sealed_before, "c").unwrap().as_slice(),
            b"secret"
        );
        let resealed = rotated.seal(b"secret", "c");
        assert!(rotated.is_current(&resealed));
        // Once the old key is dropped, values it sealed name it.
        let only_new = KeyRing::from_keys(&new_key, &[]).unwrap();
        assert!(matches!(
            only_new.open(&sealed_before, "c"),
            Err(SealError::UnknownKey(id)) if id == old_ring.current_key_id()
        ));
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        for bad in ["", "not base64!", &STANDARD.encode([0u8; 16])] {
            assert!(matches!(
                KeyRing::from_keys(&SecretString::from(bad.to_owned()), &[]),
                Err(SealError::BadKey { .. })
            ));
        }
    }

    #[test]
    fn a_database_server_needs_a_configured_key() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = crate::config::Settings::for_data_dir(dir.path().to_owned()).unwrap();
        assert!(
            KeyRing::from_settings(&settings).is_ok(),
            "SQLite: a key file"
        );
        settings.database = crate::config::DatabaseTarget::Url(SecretString::from(
            "postgres://db.example/lyceum".to_owned(),
        ));
        assert!(matches!(
            KeyRing::from_settings(&settings),
            Err(SealError::KeyRequired)
        ));
        settings.secrets_key = Some(KeyRing::generate_key());
        assert!(KeyRing::from_settings(&settings).is_ok());
    }

    #[test]
    fn a_generated_key_file_is_kept_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("secrets.key");
        let first = key_file(&path).unwrap();
        let second = key_file(&path).unwrap();
        assert_eq!(first.expose_secret(), second.expose_secret());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(
                mode & 0o077,
                0,
                "the key file is readable by others: {mode:o}"
            );
        }
        let debug = format!("{:?}", KeyRing::from_keys(&first, &[]).unwrap());
        assert!(!debug.contains(first.expose_secret()));
    }
}
