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

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sheaf_bench::{Report, Result, bench_root, quick, scratch_dir, secs, seed, sheafd, status_kib};
use sheaf_client::{Client, ConnectOptions};
use sheaf_core::CollectionId;
use sheaf_proto::requests::EntryListParams;
use sheaf_tui::action::{Action, Command as Key};
use sheaf_tui::effects::Runner;
use sheaf_tui::{App, Config, update};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

const BIG: &str = "big";
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

/// Writes the database: `big` with `n` entries (distinct paths, one kind), `small` with 10.
fn write_database(path: &Path, n: usize) -> Result<()> {
    let store = seed::open(path)?;
    seed::fill(&store, BIG, n)?;
    seed::fill(&store, "small", 10)?;
    Ok(())
}

async fn connect(socket: &Path) -> Result<Client> {
    Ok(Client::connect(ConnectOptions {
        socket: Some(socket.to_path_buf()),
        autostart: false,
        ..ConnectOptions::default()
    })
    .await?)
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
    let kib = |key: &str| status_kib(Path::new("/proc/self/status"), key).unwrap_or(0);
    println!(
        "RESULT {} {} {}",
        kib("VmHWM:"),
        kib("VmRSS:"),
        walked.as_millis()
    );
    Ok(())
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
    let mut report = Report::new("sheaf-tui benchmarks", &bench_root());
    let n = if quick() { 100_000 } else { 1_000_000 };
    let bin = sheafd::build()?;
    let dir = scratch_dir("sheaf-tui-bench-")?;
    let db = dir.path().join("sheaf.redb");
    report.progress(&format!("seeding {n} entries into {}", db.display()));
    let seeding = Instant::now();
    write_database(&db, n)?;
    let seeded = seeding.elapsed();
    report.progress(&format!("seeded in {}", secs(seeded)));

    let daemon = sheafd::start(&bin, dir.path(), &db)?;
    let socket = daemon.socket.clone();
    let client = rt.block_on(connect(&socket))?;
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
            Ok::<_, sheaf_bench::BoxError>(d)
        })?;
        let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT))?;
        draw(&mut terminal, &driver.app);
        first.push(t.elapsed());
        last = Some(driver);
    }

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
    let label = if n == 1_000_000 {
        "1M".to_owned()
    } else {
        format!("{}k", n / 1000)
    };
    report.intro(format!(
        "{label} entries, seeded in {}; sheafd in release.",
        secs(seeded)
    ));
    let s = report.timing(
        "1",
        format!("time to first frame, {label}-entry collection"),
        &first,
        None,
    );
    report.goal("≤ 150 ms", s.p99 <= Duration::from_millis(150));
    let s = report.timing(
        "2",
        format!("frame render 200×60, {label} entries, 10k marks"),
        &render,
        None,
    );
    report.goal("≤ 2 ms p99", s.p99 <= Duration::from_millis(2));
    let peak = hwm.iter().copied().max().unwrap_or(0);
    report.memory(
        "3a",
        format!("TUI peak RSS, {label} scrolled end to end"),
        hwm,
        None,
    );
    report.goal("≤ 60 MiB", peak <= 60 * 1024);
    report.memory("3b", "TUI RSS after the walk", rss, None);
    report.timing(
        "3c",
        format!("`G` on {label}: walk to the last page"),
        &walks,
        None,
    );
    report.note(format!(
        "{runs} first-frame runs, {frames} frames, {child_runs} memory run(s)."
    ));
    report.save("tui", &report.summary())?;
    Ok(())
}
