//! A writer that churns a folder with random file operations from a seed, run as its own
//! process (the `churn` binary) so that several write at once as real programs do. It keeps
//! an exact model of the files it owns, so it can tell where each file that was there when
//! it started ended up (or that it is gone): the identity rules are checked against that.
//!
//! Given the same files on disk and the same seed it makes the same operations in the same
//! order; how many it makes depends on the time it is given.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::Rng;

/// Which operations a writer makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mix {
    /// Create, append, rename (within and across the area's folders) and delete files whose
    /// names start with the writer's prefix, in the area's existing sub-folders, which other
    /// writers share.
    Files,
    /// Everything in an area of its own: the file operations, atomic saves, `mkdir -p` with a
    /// file at every level, `rm -rf` of a folder and `mv` of a folder.
    All,
}

impl Mix {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Files => "files",
            Self::All => "all",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        [Self::Files, Self::All]
            .into_iter()
            .find(|m| m.name() == name)
    }
}

/// What a writer reports on stdout (one JSON line) when its time is up.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Report {
    /// Operations made.
    pub ops: u64,
    /// Each file it owned at the start that is still there: start path → path now.
    pub survivors: BTreeMap<String, String>,
    /// The start paths of the files it owned at the start that it deleted.
    pub deleted: Vec<String>,
    /// How many files it owns now.
    pub files: usize,
}

/// A writer's settings, as the `churn` binary takes them.
#[derive(Debug, Clone)]
pub struct Churn {
    /// The operations.
    pub mix: Mix,
    /// Where it works.
    pub area: PathBuf,
    /// Its file and folder names start with this (unique among the writers).
    pub prefix: String,
    /// Makes the names it creates unique across several runs on the same area.
    pub tag: u64,
    /// The seed of its operations.
    pub seed: u64,
    /// How long it writes.
    pub time: Duration,
}

impl Churn {
    /// The command line of the `churn` binary at `exe` for these settings.
    pub fn command(&self, exe: &Path) -> std::process::Command {
        let mut cmd = std::process::Command::new(exe);
        cmd.arg(self.mix.name())
            .arg(&self.area)
            .arg(&self.prefix)
            .arg(self.tag.to_string())
            .arg(self.seed.to_string())
            .arg(self.time.as_millis().to_string());
        cmd
    }

    /// The settings from the `churn` binary's arguments.
    pub fn from_args(args: &[String]) -> Result<Self, String> {
        let usage = "churn files|all AREA PREFIX TAG SEED MILLISECONDS";
        let [mix, area, prefix, tag, seed, millis] = args else {
            return Err(usage.to_owned());
        };
        let number = |s: &str| s.parse::<u64>().map_err(|_| usage.to_owned());
        Ok(Self {
            mix: Mix::parse(mix).ok_or_else(|| usage.to_owned())?,
            area: PathBuf::from(area),
            prefix: prefix.clone(),
            tag: number(tag)?,
            seed: number(seed)?,
            time: Duration::from_millis(number(millis)?),
        })
    }

    /// Makes operations until the time is up; answers the report. Panics on an I/O error
    /// (the area is the writer's: nothing else removes its files).
    pub fn run(&self) -> Report {
        let mut w = Writer::start(self);
        let deadline = Instant::now() + self.time;
        let mut burst = 0_u32;
        while Instant::now() < deadline {
            w.step();
            // Mostly a short random pause; now and then a burst of operations without one.
            if burst > 0 {
                burst -= 1;
            } else if w.rng.below(400) == 0 {
                burst = 300;
            } else {
                std::thread::sleep(Duration::from_micros(w.rng.below(1500) as u64));
            }
        }
        w.report()
    }
}

/// The writer's model: the files it owns (path → the path it had at the start, if it was
/// there then) and the folders it may use.
struct Writer<'c> {
    churn: &'c Churn,
    rng: Rng,
    files: BTreeMap<PathBuf, Option<PathBuf>>,
    /// The folders it writes into: in `All`, every folder of the area, the area too.
    folders: BTreeSet<PathBuf>,
    deleted: Vec<PathBuf>,
    next: u64,
    ops: u64,
}

impl<'c> Writer<'c> {
    fn start(churn: &'c Churn) -> Self {
        let mut files = BTreeMap::new();
        let mut folders = BTreeSet::new();
        let own = |p: &Path| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&churn.prefix))
        };
        match churn.mix {
            Mix::Files => {
                for e in std::fs::read_dir(&churn.area).unwrap().flatten() {
                    if e.file_type().unwrap().is_dir() {
                        folders.insert(e.path());
                    }
                }
                for dir in &folders {
                    for e in std::fs::read_dir(dir).unwrap().flatten() {
                        if e.file_type().unwrap().is_file() && own(&e.path()) {
                            files.insert(e.path(), Some(e.path()));
                        }
                    }
                }
                assert!(
                    !folders.is_empty(),
                    "no folders in {}",
                    churn.area.display()
                );
            }
            Mix::All => {
                std::fs::create_dir_all(&churn.area).unwrap();
                let mut stack = vec![churn.area.clone()];
                while let Some(dir) = stack.pop() {
                    for e in std::fs::read_dir(&dir).unwrap().flatten() {
                        let kind = e.file_type().unwrap();
                        if kind.is_dir() {
                            stack.push(e.path());
                        } else if kind.is_file() {
                            files.insert(e.path(), Some(e.path()));
                        }
                    }
                    folders.insert(dir);
                }
            }
        }
        Self {
            churn,
            rng: Rng::new(churn.seed),
            files,
            folders,
            deleted: Vec::new(),
            next: 0,
            ops: 0,
        }
    }

    /// A name no file or folder of this writer ever had.
    fn fresh(&mut self, what: &str, ext: &str) -> String {
        self.next += 1;
        format!(
            "{}.{}.{what}{}{ext}",
            self.churn.prefix, self.churn.tag, self.next
        )
    }

    fn pick(&mut self, among: Vec<PathBuf>) -> PathBuf {
        let n = self.rng.below(among.len());
        among.into_iter().nth(n).unwrap()
    }

    fn random_file(&mut self) -> PathBuf {
        self.pick(self.files.keys().cloned().collect())
    }

    /// A file to delete: mostly one made since the start, so that most of the files that
    /// were there at the start live on through renames (what the identity check follows).
    fn random_victim(&mut self) -> PathBuf {
        let mut path = self.random_file();
        for _ in 0..2 {
            if self.files[&path].is_none() || self.rng.below(50) == 0 {
                break;
            }
            path = self.random_file();
        }
        path
    }

    fn random_folder(&mut self) -> PathBuf {
        self.pick(self.folders.iter().cloned().collect())
    }

    /// A folder of the area other than the area itself, if there is one.
    fn random_subfolder(&mut self) -> Option<PathBuf> {
        let dirs: Vec<PathBuf> = self
            .folders
            .iter()
            .filter(|d| **d != self.churn.area)
            .cloned()
            .collect();
        (!dirs.is_empty()).then(|| self.pick(dirs))
    }

    fn content(&mut self) -> Vec<u8> {
        let len = 1 + self.rng.below(4096);
        let byte = b'a' + self.rng.below(26) as u8;
        let mut v = vec![byte; len];
        v.push(b'\n');
        v
    }

    fn step(&mut self) {
        self.ops += 1;
        let n = self.files.len();
        let roll = self.rng.below(100);
        let all = self.churn.mix == Mix::All;
        if n < 20 {
            if all && roll < 30 {
                self.mkdir_p();
            } else {
                self.create();
            }
            return;
        }
        if n > 600 {
            if all && roll < 5 {
                self.rm_rf();
            } else {
                self.delete();
            }
            return;
        }
        match (self.churn.mix, roll) {
            (Mix::Files, 0..30) | (Mix::All, 0..20) => self.create(),
            (Mix::Files, 30..60) | (Mix::All, 20..38) => self.append(),
            (Mix::Files, 60..85) | (Mix::All, 38..55) => self.rename(),
            (Mix::Files, _) | (Mix::All, 55..67) => self.delete(),
            (Mix::All, 67..82) => self.atomic_save(),
            (Mix::All, 82..90) => self.mkdir_p(),
            (Mix::All, 90..95) => self.mv_folder(),
            (Mix::All, _) => self.rm_rf(),
        }
    }

    fn create(&mut self) {
        let dir = self.random_folder();
        let path = dir.join(self.fresh("c", ".txt"));
        let content = self.content();
        std::fs::write(&path, content).unwrap();
        self.files.insert(path, None);
    }

    fn append(&mut self) {
        let path = self.random_file();
        let content = self.content();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(&content).unwrap();
    }

    fn rename(&mut self) {
        let from = self.random_file();
        // Half the time in the same folder, else into another one.
        let dir = if self.rng.below(2) == 0 {
            from.parent().unwrap().to_path_buf()
        } else {
            self.random_folder()
        };
        let to = dir.join(self.fresh("r", ".txt"));
        std::fs::rename(&from, &to).unwrap();
        let origin = self.files.remove(&from).unwrap();
        self.files.insert(to, origin);
    }

    fn delete(&mut self) {
        let path = self.random_victim();
        std::fs::remove_file(&path).unwrap();
        if let Some(Some(origin)) = self.files.remove(&path) {
            self.deleted.push(origin);
        }
    }

    /// Write a temporary file beside the file (a name the watch admits), rename it over.
    fn atomic_save(&mut self) {
        let path = self.random_file();
        let temp = path.with_file_name(format!(".{}.tmp", self.fresh("t", "")));
        let content = self.content();
        std::fs::write(&temp, content).unwrap();
        std::fs::rename(&temp, &path).unwrap();
    }

    /// `mkdir -p` of one to four new levels under a folder, then a file at every new level.
    fn mkdir_p(&mut self) {
        let mut dir = self.random_folder();
        let depth = 1 + self.rng.below(4);
        let mut levels = Vec::with_capacity(depth);
        for _ in 0..depth {
            dir.push(self.fresh("m", ""));
            levels.push(dir.clone());
        }
        std::fs::create_dir_all(&dir).unwrap();
        for level in levels {
            let path = level.join(self.fresh("c", ".txt"));
            let content = self.content();
            std::fs::write(&path, content).unwrap();
            self.files.insert(path, None);
            self.folders.insert(level);
        }
    }

    fn rm_rf(&mut self) {
        let Some(dir) = self.random_subfolder() else {
            return self.delete();
        };
        std::fs::remove_dir_all(&dir).unwrap();
        self.folders.retain(|d| !d.starts_with(&dir));
        let gone: Vec<PathBuf> = self
            .files
            .keys()
            .filter(|p| p.starts_with(&dir))
            .cloned()
            .collect();
        for path in gone {
            if let Some(Some(origin)) = self.files.remove(&path) {
                self.deleted.push(origin);
            }
        }
    }

    /// `mv` of a folder to a new name under a folder outside it.
    fn mv_folder(&mut self) {
        let Some(from) = self.random_subfolder() else {
            return self.rename();
        };
        let targets: Vec<PathBuf> = self
            .folders
            .iter()
            .filter(|d| !d.starts_with(&from))
            .cloned()
            .collect();
        let parent = self.pick(targets);
        let to = parent.join(self.fresh("v", ""));
        std::fs::rename(&from, &to).unwrap();
        let moved = |p: &Path| to.join(p.strip_prefix(&from).unwrap());
        self.folders = std::mem::take(&mut self.folders)
            .into_iter()
            .map(|d| if d.starts_with(&from) { moved(&d) } else { d })
            .collect();
        self.files = std::mem::take(&mut self.files)
            .into_iter()
            .map(|(p, o)| {
                if p.starts_with(&from) {
                    (moved(&p), o)
                } else {
                    (p, o)
                }
            })
            .collect();
    }

    fn report(&self) -> Report {
        let text = |p: &Path| p.to_str().unwrap().to_owned();
        Report {
            ops: self.ops,
            survivors: self
                .files
                .iter()
                .filter_map(|(p, o)| o.as_ref().map(|o| (text(o), text(p))))
                .collect(),
            deleted: self.deleted.iter().map(|p| text(p)).collect(),
            files: self.files.len(),
        }
    }
}
