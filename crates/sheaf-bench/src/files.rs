//! Files on disk for the folder benchmarks.

use std::path::Path;

use crate::Result;

/// Writes `files` files of 200 bytes under `root`, `per_folder` to a folder
/// (`d0000/f000000.txt`, …), each created, written and closed in turn.
pub fn make_tree(root: &Path, files: usize, per_folder: usize) -> Result<()> {
    let body = [b'x'; 200];
    for i in 0..files {
        let dir = root.join(format!("d{:04}", i / per_folder));
        if i % per_folder == 0 {
            std::fs::create_dir_all(&dir)?;
        }
        std::fs::write(dir.join(format!("f{i:06}.txt")), body)?;
    }
    Ok(())
}
