//! The TUI's benchmark, against a real `sheafd` (release) on a temp socket whose database
//! holds a collection of a million entries (written with `sheaf-store` directly before the
//! daemon opens it, as the daemon's benchmark does; `SHEAF_BENCH_QUICK=1`: 100 000).
//! The TUI runs headless: the same `update`, effects and view as `sheaf tui`, drawing into
//! ratatui's `TestBackend`. Prints a Markdown table; timings are reported, never asserted.
//!
//! 1. time to first frame: connect, list the collections, open the big collection, fetch
//!    its first page, draw the first frame (daemon already running);
//! 2. frame render time at 200×60 with the big collection open and 10 000 marks;
//! 3. resident memory of a TUI process (a child of this one) that opened the big collection,
//!    went to its end (`G`) and scrolled back to the top a screen at a time (`pgup`: every
//!    page fetched backwards in turn); the time of that walk is reported too;
//! 4. `G` on the big collection: from the key to its last row shown (one `order=desc` page);
//! 5. the preview of a text file: from the key that selects it to the first frame showing
//!    it (10 000 real files of 200 bytes, registered through the daemon);
//! 6. scrolling through those 10 000 entries a row at a time, previews asked for each row:
//!    the render time of every frame, and key to frame (update, answers taken in, draw).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sheaf_bench::{Report, Result, bench_root, quick, scratch_dir, secs, seed, sheafd, status_kib};
use sheaf_client::{Client, ConnectOptions};
use sheaf_core::CollectionId;
use sheaf_proto::requests::{BatchAddBody, EntryListParams, ItemRef, RegisterBody};
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

/// Whether the listing's last row is here.
fn at_end(a: &App) -> bool {
    a.pages.is_exact() && a.pages.row(a.pages.len().saturating_sub(1)).is_some()
}

/// The memory child: opens the big collection, goes to the end and scrolls back to the top
/// a screen at a time; prints `RESULT <VmHWM KiB> <VmRSS KiB> <walk ms>`.
async fn memory_child(socket: &Path) -> Result<()> {
    let client = connect(socket).await?;
    let mut d = Driver::new(&client, Some(BIG));
    d.first_page().await?;
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT))?;
    d.apply(Action::Command(Key::Bottom));
    d.settle(at_end).await?;
    draw(&mut terminal, &d.app);
    let walk = Instant::now();
    while d.app.cursor > 0 {
        d.apply(Action::Command(Key::PageUp));
        d.settle(|a| a.entry_under_cursor().is_some()).await?;
    }
    let walked = walk.elapsed();
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

    // 4. `G`: a fresh listing each time, its first page here, then the key.
    let total = d.app.pages.len() as u64;
    let mut bottom = Vec::with_capacity(runs);
    for _ in 0..runs {
        let big = Some(CollectionId::parse(BIG)?);
        d.app.pages.reset(big, d.app.sort(), None, Some(total));
        d.apply(Action::Command(Key::Top));
        rt.block_on(d.settle(|a| a.pages.row(0).is_some()))?;
        let t = Instant::now();
        d.apply(Action::Command(Key::Bottom));
        rt.block_on(d.settle(at_end))?;
        draw(&mut terminal, &d.app);
        bottom.push(t.elapsed());
    }
    drop(d);

    // 5 and 6. Previews of real files.
    let previews = rt.block_on(preview_rows(&client, dir.path(), &socket))?;

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
        format!("{label}: scroll from the end to the top by screens (paging backwards)"),
        &walks,
        None,
    );
    let s = report.timing(
        "4",
        format!("`G` on {label}: key to last row shown"),
        &bottom,
        None,
    );
    report.goal("≤ 50 ms p99", s.p99 <= Duration::from_millis(50));
    let s = report.timing(
        "5",
        "preview of a text file: key to first frame with it",
        &previews.first,
        None,
    );
    report.goal("≤ 30 ms p99", s.p99 <= Duration::from_millis(30));
    let s = report.timing(
        "6a",
        format!(
            "frame render, scrolling {} entries with previews",
            count(PREVIEW_FILES)
        ),
        &previews.render,
        None,
    );
    report.goal("≤ 2 ms p99", s.p99 <= Duration::from_millis(2));
    report.timing(
        "6b",
        "key to frame while scrolling (update, answers in, draw)",
        &previews.key_to_frame,
        None,
    );
    report.note(format!(
        "{runs} first-frame, `G` and preview runs, {frames} frames, {child_runs} memory run(s)."
    ));
    report.save("tui", &report.summary())?;
    Ok(())
}

/// Files for the preview rows.
const PREVIEW_FILES: usize = 10_000;

/// Samples of rows 5 and 6.
struct PreviewRuns {
    first: Vec<Duration>,
    render: Vec<Duration>,
    key_to_frame: Vec<Duration>,
}

/// `count` with thousands separators, for labels.
fn count(n: usize) -> String {
    sheaf_tui::plain::count(n as u64)
}

/// Whether the preview of the row under the cursor is here.
fn previewed(a: &App) -> bool {
    a.preview_target()
        .is_some_and(|(key, _)| a.previews.get(&key).is_some())
}

/// Writes [`PREVIEW_FILES`] text files under `dir`, registers them into a collection
/// `previews` through the daemon, and measures rows 5 and 6 on it.
async fn preview_rows(client: &Client, dir: &Path, socket: &Path) -> Result<PreviewRuns> {
    let root = dir.join("preview-files");
    sheaf_bench::files::make_tree(&root, PREVIEW_FILES, 1000)?;
    let mut paths = Vec::with_capacity(PREVIEW_FILES);
    for i in 0..PREVIEW_FILES {
        let p = root.join(format!("d{:04}/f{i:06}.txt", i / 1000));
        paths.push(p.to_str().ok_or("a non-UTF-8 temp path")?.to_owned());
    }
    for chunk in paths.chunks(1000) {
        let items = client
            .register_items(&RegisterBody {
                paths: chunk.to_vec(),
            })
            .await?;
        let body = BatchAddBody {
            items: Some(
                items
                    .items
                    .iter()
                    .map(|i| ItemRef::Plain(i.id.to_string()))
                    .collect(),
            ),
            create: true,
            ..BatchAddBody::default()
        };
        client.batch_add("previews", &body).await?;
    }
    let client = connect(socket).await?;
    let mut d = Driver::new(&client, Some("previews"));
    d.first_page().await?;
    d.settle(previewed).await?;
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT))?;
    let runs = if quick() { 10 } else { 30 };
    let mut first = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        d.apply(Action::Command(Key::Down));
        d.settle(previewed).await?;
        draw(&mut terminal, &d.app);
        first.push(t.elapsed());
    }
    // Every row after those, to the end.
    let steps = PREVIEW_FILES - runs - 2;
    let mut render = Vec::with_capacity(steps);
    let mut key_to_frame = Vec::with_capacity(steps);
    for _ in 0..steps {
        let t = Instant::now();
        d.apply(Action::Command(Key::Down));
        while let Ok(action) = d.rx.try_recv() {
            d.apply(action);
        }
        let drawn = Instant::now();
        draw(&mut terminal, &d.app);
        render.push(drawn.elapsed());
        key_to_frame.push(t.elapsed());
        // Faster than key repeat (about 30 a second), so the reads pile up as they would.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(PreviewRuns {
        first,
        render,
        key_to_frame,
    })
}
