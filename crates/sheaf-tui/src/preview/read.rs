//! Reading a file for its preview: only a regular file is opened, and with `O_NONBLOCK` so
//! that one swapped for a FIFO after the check still cannot block; at most [`BUDGET`] bytes
//! are read however large it is. Blocking IO: callers run it off the UI thread.

use std::fs::OpenOptions;
use std::io;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use super::archive::{self, Budget, Source};
use super::{BUDGET, Preview, text_lines};

/// The first read: enough for every format's magic bytes and a tar header.
const HEAD: usize = 4096;

/// What a file that is not a regular one is.
fn special(t: std::fs::FileType) -> &'static str {
    if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a named pipe (FIFO): not read"
    } else if t.is_socket() {
        "a socket: not read"
    } else if t.is_char_device() || t.is_block_device() {
        "a device: not read"
    } else {
        "not a regular file: not read"
    }
}

fn unreadable(e: &io::Error) -> Preview {
    let reason = match e.kind() {
        io::ErrorKind::NotFound => "the file is gone".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    };
    Preview::Unreadable { reason }
}

/// The preview of the file at `path`, reading at most [`BUDGET`] bytes of it.
#[must_use]
pub fn read(path: &Path) -> Preview {
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => {
            return Preview::Special {
                kind: special(m.file_type()),
            };
        }
        Ok(_) => {}
        Err(e) => return unreadable(&e),
    }
    let nonblock = rustix::fs::OFlags::NONBLOCK.bits() as i32;
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(nonblock)
        .open(path)
    {
        Ok(f) => f,
        Err(e) => return unreadable(&e),
    };
    match file.metadata() {
        Ok(m) if !m.is_file() => Preview::Special {
            kind: special(m.file_type()),
        },
        Ok(_) => classify(&file).unwrap_or_else(|e| unreadable(&e)),
        Err(e) => unreadable(&e),
    }
}

/// The preview of `src`'s bytes.
pub(crate) fn classify(src: &(impl Source + ?Sized)) -> io::Result<Preview> {
    let size = src.size();
    if size == 0 {
        return Ok(Preview::Empty);
    }
    let mut budget = Budget(BUDGET);
    let head = budget.read(src, 0, HEAD)?;
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return archive::zip(src, &mut budget);
    }
    if archive::is_tar(&head) {
        return archive::tar(src, &mut budget);
    }
    if let Ok(t) = imagesize::image_type(&head) {
        let name = format!("{t:?}");
        let format = name.split('(').next().unwrap_or(&name).to_uppercase();
        // Some formats put the size after long metadata (a JPEG's EXIF): read on.
        let mut bytes = head;
        let mut dims = imagesize::blob_size(&bytes).ok();
        if dims.is_none() && (bytes.len() as u64) < size {
            bytes.extend(budget.read(src, bytes.len() as u64, BUDGET)?);
            dims = imagesize::blob_size(&bytes).ok();
        }
        return Ok(Preview::Image {
            format,
            size: dims.map(|d| (d.width, d.height)),
        });
    }
    let mut bytes = head;
    if (bytes.len() as u64) < size {
        bytes.extend(budget.read(src, bytes.len() as u64, BUDGET)?);
    }
    let cut = (bytes.len() as u64) < size;
    if let Some((lines, more)) = text_lines(&bytes, cut) {
        return Ok(Preview::Text { lines, more });
    }
    let kind =
        infer::get(&bytes).map_or_else(|| "binary data".to_owned(), |t| t.mime_type().to_owned());
    Ok(Preview::Binary { kind })
}
