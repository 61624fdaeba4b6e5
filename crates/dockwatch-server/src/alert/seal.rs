//! Channel settings at rest: ChaCha20-Poly1305 with the server's 32-byte key and a random nonce
//! per value, stored as `v1:` + hex(nonce ‖ ciphertext).

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;

/// The key that seals channel settings.
#[derive(Clone)]
pub struct SealKey([u8; 32]);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey([redacted])")
    }
}

impl SealKey {
    /// A key from its 32 bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A new random key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Parses 64 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, String> {
        let bytes = hex::decode(text.trim()).map_err(|e| format!("not hex: {e}"))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "expected 32 bytes (64 hex digits)".to_owned())?;
        Ok(Self(bytes))
    }

    /// The key as 64 hex digits (for the key file).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Encrypts `plain`.
    pub fn seal(&self, plain: &str) -> String {
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.0));
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
            .expect("encrypting in memory does not fail");
        format!("v1:{}{}", hex::encode(nonce), hex::encode(sealed))
    }

    /// Decrypts what [`SealKey::seal`] made with this key.
    pub fn open(&self, sealed: &str) -> Result<String, String> {
        let hexed = sealed.strip_prefix("v1:").ok_or("unknown sealed format")?;
        let bytes = hex::decode(hexed).map_err(|e| format!("not hex: {e}"))?;
        if bytes.len() < 12 + 16 {
            return Err("too short".into());
        }
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.0));
        let plain = cipher
            .decrypt(Nonce::from_slice(&bytes[..12]), &bytes[12..])
            .map_err(|_| "wrong key or tampered value".to_owned())?;
        String::from_utf8(plain).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_only_with_its_key() {
        let key = SealKey::generate();
        let sealed = key.seal(r#"{"secret":"whsec_abc"}"#);
        assert!(!sealed.contains("whsec"));
        assert_eq!(key.open(&sealed).unwrap(), r#"{"secret":"whsec_abc"}"#);
        assert_ne!(key.seal("x"), key.seal("x"));
        assert!(SealKey::generate().open(&sealed).is_err());
        let back = SealKey::from_hex(&key.to_hex()).unwrap();
        assert!(back.open(&sealed).is_ok());
        assert!(SealKey::from_hex("abcd").is_err());
    }
}
