//! Archive member names from their headers alone, within the preview's byte budget: a zip's
//! end-of-central-directory record (zip64 too) and the central directory it points to; a
//! tar's 512-byte headers, skipping each member's data. Nothing is decompressed or
//! extracted; a header that makes no sense ends the listing.

use std::io;

use super::{MEMBERS, Preview};

/// Bytes at an offset: a file (`pread`) or, in tests, a slice.
pub(crate) trait Source {
    /// The length.
    fn size(&self) -> u64;
    /// Reads into `buf` at `offset`; fewer bytes only at the end.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
}

impl Source for std::fs::File {
    fn size(&self) -> u64 {
        self.metadata().map_or(0, |m| m.len())
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(self, buf, offset)
    }
}

impl Source for [u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let from = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.len());
        let n = buf.len().min(self.len() - from);
        buf[..n].copy_from_slice(&self[from..from + n]);
        Ok(n)
    }
}

/// The bytes a preview may still read.
#[derive(Debug)]
pub(crate) struct Budget(pub(crate) usize);

impl Budget {
    /// Up to `len` bytes at `offset` (fewer past the end or the budget).
    pub(crate) fn read(
        &mut self,
        src: &(impl Source + ?Sized),
        offset: u64,
        len: usize,
    ) -> io::Result<Vec<u8>> {
        let mut buf = vec![0; len.min(self.0)];
        let mut filled = 0;
        while filled < buf.len() {
            match src.read_at(&mut buf[filled..], offset + filled as u64) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        buf.truncate(filled);
        self.0 -= filled;
        Ok(buf)
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 2)
        .map(|s| u64::from(u16::from_le_bytes([s[0], s[1]])))
}

fn u32_at(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 4)
        .map(|s| u64::from(u32::from_le_bytes([s[0], s[1], s[2], s[3]])))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    let s: [u8; 8] = b.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(s))
}

const EOCD: &[u8] = b"PK\x05\x06";
const EOCD64: &[u8] = b"PK\x06\x06";
const LOCATOR64: &[u8] = b"PK\x06\x07";
const CENTRAL: &[u8] = b"PK\x01\x02";
/// The end of the file searched for the end-of-central-directory record (22 bytes and a
/// comment, which is short or absent in practice).
const TAIL: usize = 8 * 1024;

/// A zip's first member names from its central directory.
pub(crate) fn zip(src: &(impl Source + ?Sized), budget: &mut Budget) -> io::Result<Preview> {
    let size = src.size();
    let tail_len = TAIL.min(size as usize);
    let tail_at = size - tail_len as u64;
    let tail = budget.read(src, tail_at, tail_len)?;
    let unknown = Preview::Archive {
        format: "zip",
        members: Vec::new(),
        more: None,
    };
    let Some(eocd) = tail.windows(4).rposition(|w| w == EOCD) else {
        return Ok(unknown);
    };
    let record = &tail[eocd..];
    let (Some(mut total), Some(mut cd_size), Some(mut cd_at)) =
        (u16_at(record, 10), u32_at(record, 12), u32_at(record, 16))
    else {
        return Ok(unknown);
    };
    if total == 0xFFFF || cd_size == 0xFFFF_FFFF || cd_at == 0xFFFF_FFFF {
        // Zip64: the locator just before the record names the zip64 record.
        let Some(locator) = eocd.checked_sub(20).map(|at| &tail[at..eocd]) else {
            return Ok(unknown);
        };
        let Some(at) = u64_at(locator, 8).filter(|_| locator.starts_with(LOCATOR64)) else {
            return Ok(unknown);
        };
        let record = budget.read(src, at, 56)?;
        let (Some(t), Some(s), Some(a)) = (
            u64_at(&record, 32),
            u64_at(&record, 40),
            u64_at(&record, 48),
        ) else {
            return Ok(unknown);
        };
        if !record.starts_with(EOCD64) {
            return Ok(unknown);
        }
        (total, cd_size, cd_at) = (t, s, a);
    }
    let want = usize::try_from(cd_size).unwrap_or(usize::MAX);
    let dir = budget.read(src, cd_at, want)?;
    let mut members = Vec::new();
    let mut at = 0usize;
    while members.len() < MEMBERS {
        let Some(header) = dir.get(at..at + 46).filter(|h| h.starts_with(CENTRAL)) else {
            break;
        };
        let (Some(n), Some(m), Some(k)) =
            (u16_at(header, 28), u16_at(header, 30), u16_at(header, 32))
        else {
            break;
        };
        let Some(name) = dir.get(at + 46..at + 46 + n as usize) else {
            break;
        };
        members.push(String::from_utf8_lossy(name).into_owned());
        at += 46 + (n + m + k) as usize;
    }
    let more = (members.len() as u64) < total;
    Ok(Preview::Archive {
        format: "zip",
        members,
        more: Some(more),
    })
}

/// Whether `head` starts a POSIX (ustar) or GNU tar.
pub(crate) fn is_tar(head: &[u8]) -> bool {
    head.get(257..262) == Some(b"ustar")
}

const BLOCK: usize = 512;
/// The longest long name (GNU `L`, pax `path`) read.
const LONG_NAME: usize = 4096;

/// A NUL-terminated header field.
fn field(b: &[u8]) -> &[u8] {
    b.iter().position(|c| *c == 0).map_or(b, |end| &b[..end])
}

/// A header's size field: octal digits, or base-256 when its high bit is set.
fn tar_size(b: &[u8]) -> Option<u64> {
    if b.first().is_some_and(|c| c & 0x80 != 0) {
        return b[1..]
            .iter()
            .try_fold(0u64, |n, c| n.checked_mul(256)?.checked_add(u64::from(*c)));
    }
    let digits = std::str::from_utf8(field(b)).ok()?.trim();
    if digits.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(digits, 8).ok()
}

/// The `path=` record of a pax extended header.
fn pax_path(data: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(data);
    text.lines().find_map(|record| {
        let (_, kv) = record.split_once(' ')?;
        kv.strip_prefix("path=").map(str::to_owned)
    })
}

/// A tar's first member names from its headers.
pub(crate) fn tar(src: &(impl Source + ?Sized), budget: &mut Budget) -> io::Result<Preview> {
    let size = src.size();
    let mut members = Vec::new();
    let mut at = 0u64;
    let mut long_name: Option<String> = None;
    let more = loop {
        if members.len() >= MEMBERS || budget.0 < BLOCK {
            break None;
        }
        if at + BLOCK as u64 > size {
            break Some(false);
        }
        let header = budget.read(src, at, BLOCK)?;
        if header.len() < BLOCK || header.iter().all(|b| *b == 0) {
            break Some(false);
        }
        let Some(data_len) = tar_size(&header[124..136]) else {
            break None;
        };
        let data_at = at + BLOCK as u64;
        match header[156] {
            b'L' | b'x' => {
                let data = budget.read(src, data_at, (data_len as usize).min(LONG_NAME))?;
                long_name = if header[156] == b'L' {
                    Some(String::from_utf8_lossy(field(&data)).into_owned())
                } else {
                    pax_path(&data)
                };
            }
            b'g' | b'K' => {}
            _ => {
                let name = long_name.take().unwrap_or_else(|| {
                    let name = String::from_utf8_lossy(field(&header[..100]));
                    let prefix = field(&header[345..500]);
                    if is_tar(&header) && !prefix.is_empty() {
                        format!("{}/{name}", String::from_utf8_lossy(prefix))
                    } else {
                        name.into_owned()
                    }
                });
                members.push(name);
            }
        }
        let Some(next) = data_len
            .checked_next_multiple_of(BLOCK as u64)
            .and_then(|d| data_at.checked_add(d))
        else {
            break None;
        };
        at = next;
    };
    Ok(Preview::Archive {
        format: "tar",
        members,
        more,
    })
}
