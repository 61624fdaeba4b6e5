//! Readers that hash and bound what passes through them, so every blob is verified in the same
//! pass that reads it.

use sha2::{Digest, Sha256};
use std::io::{self, Read};

/// Hashes (SHA-256) and counts every byte read through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    /// The digest (`sha256:<hex>`) and byte count of everything read so far.
    pub fn digest(&self) -> (String, u64) {
        let hash = self.hasher.clone().finalize();
        (format!("sha256:{}", hex::encode(hash)), self.count)
    }

    /// Reads the rest of the stream (for the digest), returning how many bytes that was.
    pub fn drain(&mut self) -> io::Result<u64> {
        io::copy(self, &mut io::sink())
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// The error a [`BoundedReader`] returns once more than its limit was read.
#[derive(Debug, thiserror::Error)]
#[error("{what} exceeds the limit of {limit} bytes")]
pub struct LimitHit {
    /// What was being read.
    pub what: &'static str,
    /// The limit in bytes.
    pub limit: u64,
}

/// Fails (rather than truncating) when more than `limit` bytes come through.
pub struct BoundedReader<R> {
    inner: R,
    remaining: u64,
    limit: u64,
    what: &'static str,
}

impl<R: Read> BoundedReader<R> {
    /// Wraps `inner`, allowing at most `limit` bytes of `what`.
    pub fn new(inner: R, limit: u64, what: &'static str) -> Self {
        Self {
            inner,
            remaining: limit,
            limit,
            what,
        }
    }
}

impl<R: Read> Read for BoundedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // Ask for one byte more than allowed, so reaching exactly the limit is not an error.
        let want = buf
            .len()
            .min(usize::try_from(self.remaining.saturating_add(1)).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.remaining {
            return Err(io::Error::other(LimitHit {
                what: self.what,
                limit: self.limit,
            }));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// The [`LimitHit`] inside `error`, if a [`BoundedReader`] caused it (possibly wrapped).
pub fn limit_hit(error: &io::Error) -> Option<&LimitHit> {
    let mut inner = error
        .get_ref()
        .map(|e| e as &(dyn std::error::Error + 'static));
    while let Some(e) = inner {
        if let Some(hit) = e.downcast_ref::<LimitHit>() {
            return Some(hit);
        }
        if let Some(io) = e.downcast_ref::<io::Error>() {
            inner = io
                .get_ref()
                .map(|e| e as &(dyn std::error::Error + 'static));
            continue;
        }
        inner = e.source();
    }
    None
}

/// The digest (`sha256:<hex>`) of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_what_passes() {
        let mut r = HashingReader::new(&b"hello"[..]);
        r.drain().unwrap();
        assert_eq!(r.digest().0, sha256(b"hello"));
        assert_eq!(r.digest().1, 5);
    }

    #[test]
    fn bound_allows_the_limit_and_fails_past_it() {
        let mut ok = BoundedReader::new(&[0u8; 10][..], 10, "blob");
        assert_eq!(io::copy(&mut ok, &mut io::sink()).unwrap(), 10);
        let mut over = BoundedReader::new(&[0u8; 11][..], 10, "blob");
        let err = io::copy(&mut over, &mut io::sink()).unwrap_err();
        assert_eq!(limit_hit(&err).unwrap().limit, 10);
    }
}
