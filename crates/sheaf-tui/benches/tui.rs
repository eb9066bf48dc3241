//! The TUI's benchmark, against a real `sheafd` (release) on a temp socket whose database
//! holds a collection of a million entries (written with `sheaf-store` directly before the
//! daemon opens it, as the daemon's benchmark does; `SHEAF_BENCH_QUICK=1`: 100 000).
//! The TUI runs headless: the same `update`, effects and view as `sheaf tui`, drawing into
//! ratatui's `TestBackend`. Prints a Markdown table; timings are reported, never asserted.
//!
//! 1. time to first frame: connect, list the collections, open the big collection, fetch
//!    its first page, draw the first frame (daemon already running);
//! 2. frame render time at 200×60 with the big collection open and 10 000 marks;
//! 3. resident memory of a TUI process (a child of this one) that opened the big collection
//!    and went to its end (`G`: every page fetched in turn) and back to the top (`g`);
//!    the time of that walk is reported too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sheaf_client::{Client, ConnectOptions};
use sheaf_core::rules::{BatchAdd, BatchItems, ItemRef, Mode, NewCollection};
use sheaf_core::{CollectionId, FileFacts, ItemId, ItemTarget, Limits, Outcome, Timestamp};
use sheaf_proto::requests::EntryListParams;
use sheaf_store::{Options, Store};
use sheaf_tui::action::{Action, Command as Key};
use sheaf_tui::effects::Runner;
use sheaf_tui::{App, Config, update};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use std::fmt::Write as _;

type Result<T, E = Box<dyn Error + Send + Sync>> = std::result::Result<T, E>;

const BIG: &str = "big";
const BATCH: usize = 1000;
const MARKS: usize = 10_000;
const WIDTH: u16 = 200;
const HEIGHT: u16 = 60;

/// The TUI headless: the model, the effect runner, and the channel answers come back on.
struct Driver {
    app: App,
    runner: Runner,
    rx: UnboundedReceiver<Action>,
}

impl Driver {
    fn new(client: &Client, open: Option<&str>) -> Self {
        let (tx, rx) = unbounded_channel();
        let runner = Runner::new(client.clone(), tx);
        let max_batch = client.limits().max_batch as usize;
        let app = App::new(
            Config::default(),
            max_batch,
            open.map(|c| CollectionId::parse(c).unwrap()),
        );
        Self { app, runner, rx }
    }

    fn apply(&mut self, action: Action) {
        for effect in update(&mut self.app, action) {
            self.runner.run(effect);
        }
    }

    /// Takes answers in until `done` holds.
    async fn settle(&mut self, done: impl Fn(&App) -> bool) -> Result<()> {
        while !done(&self.app) {
            let action = tokio::time::timeout(Duration::from_secs(60), self.rx.recv())
                .await
                .map_err(|_| "no answer within 60 s")?
                .ok_or("the effect channel closed")?;
            self.apply(action);
        }
        Ok(())
    }

    /// Resize, start, and wait for the first page of the collection asked for.
    async fn first_page(&mut self) -> Result<()> {
        self.apply(Action::Resize {
            width: WIDTH,
            height: HEIGHT,
        });
        self.apply(Action::Start);
        self.settle(|a| a.collections_loaded && a.pages.row(0).is_some())
            .await
    }
}

fn draw(terminal: &mut Terminal<TestBackend>, app: &App) {
    terminal
        .draw(|f| sheaf_tui::view::draw(f, app))
        .expect("drawing into a TestBackend");
}

fn quick() -> bool {
    std::env::var_os("SHEAF_BENCH_QUICK").is_some_and(|v| v != "0")
}

/// `target/`, found from this executable (`target/release/deps/tui-…`).
fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .filter(|t| t.join("CACHEDIR.TAG").exists())
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

fn build_sheafd() -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "sheaf-daemon",
            "--bin",
            "sheafd",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()?;
    if !status.success() {
        return Err("building sheafd failed".into());
    }
    Ok(target_dir().join("release/sheafd"))
}

/// Writes the database: `big` with `n` entries (distinct paths, one kind), `small` with 10.
fn seed(path: &Path, n: usize) -> Result<()> {
    let store = Store::open(
        path,
        Options {
            durable: false,
            limits: Limits {
                max_batch: BATCH,
                ..Limits::default()
            },
            ..Options::default()
        },
    )?;
    for (slug, count) in [(BIG, n), ("small", 10)] {
        let id = CollectionId::parse(slug)?;
        store.create_collection(&NewCollection {
            id: Some(id.clone()),
            ..NewCollection::default()
        })?;
        for start in (0..count).step_by(BATCH) {
            let facts: Vec<FileFacts> = (start..(start + BATCH).min(count))
                .map(|i| FileFacts {
                    path: format!("/bench/{slug}/{:04}/report-{i:08}.pdf", i / 10_000),
                    size: 123_456,
                    mtime: Timestamp::from_micros(1_700_000_000_000_000),
                    content_type: "application/pdf".into(),
                    file_id: None,
                })
                .collect();
            let ids: Vec<ItemId> = match store.register(&facts)?.outcome {
                Outcome::Items(ids) => ids,
                other => return Err(format!("register answered {other:?}").into()),
            };
            let add = BatchAdd {
                collection: id.clone(),
                items: BatchItems::Refs(
                    ids.iter()
                        .map(|i| ItemRef::to(ItemTarget::Id(*i)))
                        .collect(),
                ),
                mode: Mode::Link,
                from: None,
                create: false,
                relocate: false,
            };
            store.batch_add(&add)?;
        }
    }
    Ok(())
}

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let pid = rustix::process::Pid::from_child(&self.0);
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        let _ = self.0.wait();
    }
}

async fn connect(socket: &Path) -> Result<Client> {
    Ok(Client::connect(ConnectOptions {
        socket: Some(socket.to_path_buf()),
        autostart: false,
        ..ConnectOptions::default()
    })
    .await?)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// The memory child: opens the big collection, goes to the end and back; prints
/// `RESULT <VmHWM KiB> <VmRSS KiB> <walk ms>`.
async fn memory_child(socket: &Path) -> Result<()> {
    let client = connect(socket).await?;
    let mut d = Driver::new(&client, Some(BIG));
    d.first_page().await?;
    let walk = Instant::now();
    d.apply(Action::Command(Key::Bottom));
    d.settle(|a| a.pages.is_exact() && a.pages.row(a.pages.len().saturating_sub(1)).is_some())
        .await?;
    let walked = walk.elapsed();
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT))?;
    draw(&mut terminal, &d.app);
    d.apply(Action::Command(Key::Top));
    d.settle(|a| a.pages.row(0).is_some()).await?;
    draw(&mut terminal, &d.app);
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kib = |key: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    println!(
        "RESULT {} {} {}",
        kib("VmHWM:"),
        kib("VmRSS:"),
        walked.as_millis()
    );
    Ok(())
}

struct Row {
    name: String,
    median: String,
    p99: String,
    goal: &'static str,
    met: &'static str,
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    // Effects are spawned on this runtime, also from the synchronous parts below.
    let _entered = rt.enter();
    if let Some(i) = args.iter().position(|a| a == "--memory-child") {
        let socket = PathBuf::from(args.get(i + 1).ok_or("--memory-child SOCKET")?);
        return rt.block_on(memory_child(&socket));
    }
    let n = if quick() { 100_000 } else { 1_000_000 };
    let sheafd = build_sheafd()?;
    let dir = tempfile::Builder::new()
        .prefix("sheaf-tui-bench-")
        .tempdir()?;
    let db = dir.path().join("sheaf.redb");
    eprintln!("seeding {n} entries into {}", db.display());
    let seeding = Instant::now();
    seed(&db, n)?;
    let seeded = seeding.elapsed();
    eprintln!("seeded in {seeded:.1?}");

    let socket = dir.path().join("run/sheafd.sock");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "")?;
    let log = std::fs::File::create(dir.path().join("sheafd.log"))?;
    let _daemon = Daemon(
        Command::new(&sheafd)
            .arg("--socket")
            .arg(&socket)
            .arg("--database")
            .arg(&db)
            .arg("--config")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()?,
    );
    let started = Instant::now();
    let client = loop {
        match rt.block_on(connect(&socket)) {
            Ok(c) => break c,
            Err(e) if started.elapsed() > Duration::from_secs(60) => {
                return Err(format!("sheafd did not answer: {e}").into());
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    // The first sorted or deep read warms the daemon's caches; the TUI is what is measured.
    rt.block_on(client.list_entries(BIG, &EntryListParams::default()))?;

    // 1. Time to first frame.
    let runs = if quick() { 10 } else { 30 };
    let mut first = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let driver = rt.block_on(async {
            let client = connect(&socket).await?;
            let mut d = Driver::new(&client, Some(BIG));
            d.first_page().await?;
            Ok::<_, Box<dyn Error + Send + Sync>>(d)
        })?;
        let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT))?;
        draw(&mut terminal, &driver.app);
        first.push(t.elapsed());
        last = Some(driver);
    }
    first.sort();

    // 2. Frame render with 10 000 marks, the cursor among them.
    let mut d = last.ok_or("no run")?;
    let ids = rt.block_on(async {
        let mut ids = Vec::with_capacity(MARKS);
        let mut cursor = None;
        while ids.len() < MARKS {
            let page = client
                .list_entries(
                    BIG,
                    &EntryListParams {
                        cursor: cursor.take(),
                        limit: Some(1000),
                        ..EntryListParams::default()
                    },
                )
                .await?;
            ids.extend(page.entries.iter().map(|e| e.item_id));
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        Ok::<_, sheaf_client::Error>(ids)
    })?;
    d.app.marks.extend(ids);
    for _ in 0..5 {
        d.apply(Action::Command(Key::PageDown));
    }
    rt.block_on(d.settle(|a| a.entry_under_cursor().is_some()))?;
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT))?;
    let frames = if quick() { 500 } else { 2000 };
    let mut render = Vec::with_capacity(frames);
    for i in 0..frames {
        // Alternate the cursor so that every frame has cells to change.
        d.apply(Action::Command(if i % 2 == 0 {
            Key::Down
        } else {
            Key::Up
        }));
        let t = Instant::now();
        draw(&mut terminal, &d.app);
        render.push(t.elapsed());
    }
    render.sort();
    drop(d);

    // 3. Memory of a TUI process that walked the collection end to end.
    let child_runs = if quick() { 1 } else { 3 };
    let mut hwm = Vec::new();
    let mut rss = Vec::new();
    let mut walks = Vec::new();
    for _ in 0..child_runs {
        let out = Command::new(std::env::current_exe()?)
            .arg("--memory-child")
            .arg(&socket)
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("RESULT "))
            .ok_or_else(|| {
                format!(
                    "the memory child failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                )
            })?;
        let v: Vec<u64> = line.split(' ').filter_map(|x| x.parse().ok()).collect();
        hwm.push(v[0]);
        rss.push(v[1]);
        walks.push(Duration::from_millis(v[2]));
    }
    hwm.sort_unstable();
    rss.sort_unstable();
    walks.sort();
    let mib = |kib: u64| format!("{:.1} MiB", kib as f64 / 1024.0);
    let label = if n == 1_000_000 {
        "1M".to_owned()
    } else {
        format!("{}k", n / 1000)
    };
    let met = |ok: bool| if ok { "yes" } else { "no" };
    let rows = [
        Row {
            name: format!("time to first frame, {label}-entry collection"),
            median: ms(percentile(&first, 0.5)),
            p99: ms(percentile(&first, 0.99)),
            goal: "≤ 150 ms",
            met: met(percentile(&first, 0.99) <= Duration::from_millis(150)),
        },
        Row {
            name: format!("frame render 200×60, {label} entries, 10k marks"),
            median: ms(percentile(&render, 0.5)),
            p99: ms(percentile(&render, 0.99)),
            goal: "≤ 2 ms p99",
            met: met(percentile(&render, 0.99) <= Duration::from_millis(2)),
        },
        Row {
            name: format!("TUI peak RSS, {label} scrolled end to end"),
            median: mib(hwm[hwm.len() / 2]),
            p99: mib(hwm[hwm.len() - 1]),
            goal: "≤ 60 MiB",
            met: met(hwm[hwm.len() - 1] <= 60 * 1024),
        },
        Row {
            name: "TUI RSS after the walk".to_owned(),
            median: mib(rss[rss.len() / 2]),
            p99: mib(rss[rss.len() - 1]),
            goal: "—",
            met: "—",
        },
        Row {
            name: format!("`G` on {label}: walk to the last page"),
            median: ms(walks[walks.len() / 2]),
            p99: ms(walks[walks.len() - 1]),
            goal: "—",
            met: "—",
        },
    ];
    let mut md = format!(
        "# sheaf-tui benchmarks\n\n{label} entries, seeded in {seeded:.1?}; sheafd in release.\n\n\
         | benchmark | median | p99 (max for RSS/walk) | goal | met |\n|---|---|---|---|---|\n"
    );
    for r in rows {
        writeln!(
            md,
            "| {} | {} | {} | {} | {} |",
            r.name, r.median, r.p99, r.goal, r.met
        )?;
    }
    writeln!(
        md,
        "\n{runs} first-frame runs, {frames} frames, {child_runs} memory run(s)."
    )?;
    println!("\n{md}");
    let out = target_dir().join("bench-tui.md");
    std::fs::write(&out, &md)?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
