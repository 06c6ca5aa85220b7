//! Content checksums for nodes and macros (`checksum` in the manifest, `state:modified`).

use sha2::{Digest, Sha256};

/// Lower-case hex SHA-256 of `text`.
pub fn sha256(text: &str) -> String {
    sha256_bytes(text.as_bytes())
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex MD5 of `text` (dbt uses it for generic test names and ids).
pub fn md5(text: &str) -> String {
    use md5::Digest as _;
    hex(&md5::Md5::digest(text.as_bytes()))
}

/// A reader that hashes (SHA-256) and counts what passes through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: std::io::Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// Read what is left, then return the byte count and the hex digest of everything read.
    pub fn finish(mut self) -> std::io::Result<(u64, String)> {
        std::io::copy(&mut self, &mut std::io::sink())?;
        Ok((self.bytes, hex(&self.hasher.finalize())))
    }
}

impl<R: std::io::Read> std::io::Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_digests() {
        assert_eq!(
            super::sha256("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(super::md5("abc"), "900150983cd24fb0d6963f7d28e17f72");
        let mut reader = super::HashingReader::new(&b"abc"[..]);
        let mut first = [0u8; 1];
        std::io::Read::read_exact(&mut reader, &mut first).unwrap();
        assert_eq!(
            reader.finish().unwrap(),
            (3, super::sha256("abc")),
            "finish reads the rest"
        );
    }
}
