//! A small load client for `ucsv serve`, for the load and safety benchmarks that
//! `benches/serve.sh` drives. It only ever talks to a server on the loopback (the URL must
//! be `http://127.0.0.1...`, `http://localhost...` or `http://[::1]...`), and every run is
//! bounded: readers stop after `--seconds`, a flood after `--wrong` requests, and each
//! request has a timeout.
//!
//! ```text
//! load read  --url URL[,URL...] --user NAME --password PW [--clients 50] [--rate 10] [--seconds 30]
//!            [--ids N] [--max-offset 200] [--list-share 0.5]
//!            [--import FILE --import-user NAME --import-password PW --import-after 2]
//! load flood --url URL --user NAME --password PW --victim NAME [--victim-password PW]
//!            [--wrong 1000] [--flood-clients 8] [--clients 5] [--rate 10] [--seconds 10]
//! ```
//!
//! `read`: each of `--clients` threads (spread over the servers `--url` lists, for several
//! servers on one database) sends `--rate` requests a second (one every
//! 1/rate s, staggered between clients; a late request goes at once and the next one a
//! period after it, so a slow server sees fewer requests, never a burst): a listing
//! (`GET /1.1/users?limit=20&offset=...&search=...`) or a user shown by id
//! (`GET /1.1/users/{1..=ids}`). With `--import`, a thread posts FILE as a streamed
//! `text/csv` body to `POST /1.1/users/import` `--import-after` seconds after the readers
//! start; the readers go on until `--seconds` have passed and the import is done. With
//! `--clients 0` it is the import alone.
//!
//! `flood`: `--flood-clients` threads send `--wrong` requests in all with the victim's name
//! and wrong passwords, while `--clients` readers do as above with a good account, until
//! the flood is answered; with `--wrong 0`, the readers alone for `--seconds`.
//!
//! Prints one `key value` line per figure on stdout (latencies in milliseconds, times in
//! seconds); every non-2xx answer and every transport error of a reader counts as an error.

use base64::Engine;
use std::collections::BTreeMap;
use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Search terms of the listings: names and numbers of the generated rows (benches/data.rs),
/// some matching many users, some few, one none.
const SEARCHES: &[&str] = &[
    "kowalski", "ana", "smith", "hiro", "user5000", "rossi", "100002", "zoë", "nobody",
];

/// The command line (see the top of this file); times in seconds.
#[derive(Clone)]
struct Opts {
    mode: String,
    /// The first server (imports and floods go there).
    url: String,
    /// Every server: reader n reads from `urls[n % urls.len()]`.
    urls: Vec<String>,
    user: String,
    password: String,
    clients: usize,
    rate: f64,
    seconds: f64,
    ids: u64,
    max_offset: u64,
    list_share: f64,
    import: Option<String>,
    import_user: String,
    import_password: String,
    import_after: f64,
    victim: String,
    victim_password: Option<String>,
    wrong: u64,
    flood_clients: usize,
    timeout: f64,
}

fn usage(message: &str) -> ! {
    eprintln!("load: {message} (see the comment at the top of benches/load.rs)");
    std::process::exit(2);
}

/// Reads the command line; exits with a message on a bad one.
fn parse() -> Opts {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_default();
    if mode != "read" && mode != "flood" {
        usage("the first argument is read or flood");
    }
    let mut o = Opts {
        mode,
        url: String::new(),
        urls: Vec::new(),
        user: String::new(),
        password: String::new(),
        clients: 50,
        rate: 10.0,
        seconds: 30.0,
        ids: 1000,
        max_offset: 200,
        list_share: 0.5,
        import: None,
        import_user: String::new(),
        import_password: String::new(),
        import_after: 2.0,
        victim: String::new(),
        victim_password: None,
        wrong: 1000,
        flood_clients: 8,
        timeout: 60.0,
    };
    while let Some(a) = args.next() {
        let value = args
            .next()
            .unwrap_or_else(|| usage(&format!("{a} needs a value")));
        let number = |v: &str| -> f64 {
            v.parse()
                .unwrap_or_else(|_| usage(&format!("{a}: not a number: {v}")))
        };
        match a.as_str() {
            "--url" => {
                o.urls = value
                    .split(',')
                    .map(|u| u.trim_end_matches('/').to_string())
                    .collect();
                o.url = o.urls[0].clone();
            }
            "--user" => o.user = value,
            "--password" => o.password = value,
            "--clients" => o.clients = number(&value) as usize,
            "--rate" => o.rate = number(&value),
            "--seconds" => o.seconds = number(&value),
            "--ids" => o.ids = number(&value) as u64,
            "--max-offset" => o.max_offset = number(&value) as u64,
            "--list-share" => o.list_share = number(&value),
            "--import" => o.import = Some(value),
            "--import-user" => o.import_user = value,
            "--import-password" => o.import_password = value,
            "--import-after" => o.import_after = number(&value),
            "--victim" => o.victim = value,
            "--victim-password" => o.victim_password = Some(value),
            "--wrong" => o.wrong = number(&value) as u64,
            "--flood-clients" => o.flood_clients = number(&value) as usize,
            "--timeout" => o.timeout = number(&value),
            _ => usage(&format!("unknown argument {a}")),
        }
    }
    let loopback = ["http://127.", "http://localhost:", "http://[::1]:"];
    if o.urls.is_empty()
        || !o
            .urls
            .iter()
            .all(|u| loopback.iter().any(|p| u.starts_with(p)))
    {
        usage("--url is a server on the loopback (http://127.0.0.1:PORT)");
    }
    if o.rate <= 0.0 || o.seconds <= 0.0 || o.seconds > 600.0 || o.ids == 0 {
        usage("--rate and --seconds are positive (--seconds at most 600), --ids at least 1");
    }
    if o.mode == "flood" && o.victim.is_empty() {
        usage("flood needs --victim");
    }
    o
}

fn basic(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

/// A small deterministic generator (xorshift), one per thread.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// What one request gave: its status (0 for a transport error) and its latency.
enum Outcome {
    Status(u16),
    Transport(String),
}

/// Sends one GET and reads its whole body (so the connection is kept).
fn get(agent: &ureq::Agent, url: &str, auth: &str) -> Outcome {
    let answer = match agent.get(url).set("Authorization", auth).call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(ureq::Error::Transport(t)) => return Outcome::Transport(t.to_string()),
    };
    let status = answer.status();
    match std::io::copy(&mut answer.into_reader(), &mut std::io::sink()) {
        Ok(_) => Outcome::Status(status),
        Err(e) => Outcome::Transport(format!("reading the body: {e}")),
    }
}

/// The reads of one thread: (start since the run began in seconds, latency in ms, status;
/// 0 for a transport error).
type Reads = Vec<(f64, f64, u16)>;

/// Shared by the threads of a run.
struct Run {
    opts: Opts,
    /// When the readers had signed in and the run began.
    start: OnceLock<Instant>,
    /// The readers wait here after signing in, then again until `start` is set.
    warmed: Barrier,
    /// Readers stop when set.
    stop: AtomicBool,
    /// Set while the import runs: readers go on past `--seconds` until it is done.
    importing: AtomicBool,
    /// Transport errors, by message (the first few kinds are printed).
    transport: Mutex<BTreeMap<String, u64>>,
}

impl Run {
    fn new(opts: Opts) -> Arc<Run> {
        Arc::new(Run {
            warmed: Barrier::new(opts.clients + 1),
            start: OnceLock::new(),
            stop: AtomicBool::new(false),
            importing: AtomicBool::new(opts.import.is_some()),
            transport: Mutex::new(BTreeMap::new()),
            opts,
        })
    }

    /// Waits for every reader to sign in, then starts the clock and lets them go.
    fn begin(&self) {
        self.warmed.wait();
        let _ = self.start.set(Instant::now());
        self.warmed.wait();
    }

    /// Seconds since the run began.
    fn elapsed(&self) -> f64 {
        self.start.get().map_or(0.0, |s| s.elapsed().as_secs_f64())
    }
    fn transport_error(&self, message: String) {
        if let Ok(mut t) = self.transport.lock() {
            *t.entry(message).or_insert(0) += 1;
        }
    }
}

/// An HTTP agent keeping one connection alive.
fn agent(timeout: f64) -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs_f64(timeout))
        .max_idle_connections_per_host(1)
        .build()
}

/// One reader: `rate` requests a second until `seconds` have passed and no import runs, or
/// until told to stop.
fn reader(run: &Run, n: usize) -> Reads {
    let o = &run.opts;
    let agent = agent(o.timeout);
    let auth = basic(&o.user, &o.password);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (n as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D));
    // The server of this reader, when there are several.
    let base = &o.urls[n % o.urls.len()];
    // Signs in once before the run (the first sign-in of an account checks its argon2 hash;
    // later ones are remembered by the server).
    let _ = get(&agent, &format!("{base}/1.1/users/1"), &auth);
    run.warmed.wait();
    run.warmed.wait();
    let period = 1.0 / o.rate;
    // Staggered: the clients' requests spread over the period.
    let mut next = period * n as f64 / o.clients.max(1) as f64;
    let mut reads = Vec::with_capacity((o.seconds * o.rate) as usize + 8);
    loop {
        let now = run.elapsed();
        if next > now {
            std::thread::sleep(Duration::from_secs_f64(next - now));
        }
        let over = run.elapsed() >= o.seconds && !run.importing.load(Ordering::Relaxed);
        if over || run.stop.load(Ordering::Relaxed) {
            break;
        }
        let url = if rng.unit() < o.list_share {
            let offset = rng.below(o.max_offset / 20 + 1) * 20;
            let search = SEARCHES[rng.below(SEARCHES.len() as u64) as usize];
            format!(
                "{base}/1.1/users?limit=20&offset={offset}&search={}",
                encode(search)
            )
        } else {
            format!("{base}/1.1/users/{}", 1 + rng.below(o.ids))
        };
        let sent = run.elapsed();
        let status = match get(&agent, &url, &auth) {
            Outcome::Status(s) => s,
            Outcome::Transport(e) => {
                run.transport_error(e);
                0
            }
        };
        let done = run.elapsed();
        reads.push((sent, (done - sent) * 1000.0, status));
        // The next request a period after this one was due, or now if that is past.
        next = (next + period).max(done);
    }
    reads
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Prints the figures of `reads` (those started in `[from, to)`) under `prefix`.
fn report(prefix: &str, reads: &[(f64, f64, u16)], from: f64, to: f64) {
    let chosen: Vec<&(f64, f64, u16)> = reads
        .iter()
        .filter(|(s, _, _)| *s >= from && *s < to)
        .collect();
    let mut ok: Vec<f64> = chosen.iter().map(|(_, l, _)| *l).collect();
    ok.sort_by(f64::total_cmp);
    let errors = chosen
        .iter()
        .filter(|(_, _, s)| !(200..300).contains(s))
        .count();
    let span = (to - from).max(1e-9);
    println!("{prefix}_requests {}", chosen.len());
    println!("{prefix}_errors {errors}");
    println!("{prefix}_per_second {:.1}", chosen.len() as f64 / span);
    println!("{prefix}_p50_ms {:.2}", percentile(&ok, 50.0));
    println!("{prefix}_p99_ms {:.2}", percentile(&ok, 99.0));
    println!("{prefix}_max_ms {:.2}", percentile(&ok, 100.0));
}

/// Prints how many answers had each status.
fn statuses(prefix: &str, reads: &[(f64, f64, u16)]) {
    let mut by: BTreeMap<u16, u64> = BTreeMap::new();
    for (_, _, s) in reads {
        *by.entry(*s).or_insert(0) += 1;
    }
    for (s, n) in by {
        println!("{prefix}_status_{s} {n}");
    }
}

/// Posts the CSV file as a streamed body; returns (status, seconds, users created).
fn import(o: &Opts, path: &str) -> (u16, f64, u64) {
    // An import of a large file takes minutes on a loaded machine: a long timeout.
    let agent = agent(o.timeout.max(1200.0));
    let file = std::fs::File::open(path).unwrap_or_else(|e| usage(&format!("{path}: {e}")));
    let start = Instant::now();
    let answer = agent
        .post(&format!("{}/1.1/users/import", o.url))
        .set("Authorization", &basic(&o.import_user, &o.import_password))
        .set("Content-Type", "text/csv")
        .send(file);
    let answer = match answer {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(ureq::Error::Transport(t)) => {
            eprintln!("load: the import failed: {t}");
            return (0, start.elapsed().as_secs_f64(), 0);
        }
    };
    let status = answer.status();
    let mut body = Vec::new();
    let read = answer.into_reader().read_to_end(&mut body);
    let seconds = start.elapsed().as_secs_f64();
    if let Err(e) = read {
        eprintln!("load: reading the import's answer failed: {e}");
        return (0, seconds, 0);
    }
    let key = b"\"user_uuid\"";
    let created = body.windows(key.len()).filter(|w| w == key).count() as u64;
    if status != 201 {
        let head = String::from_utf8_lossy(&body[..body.len().min(600)]);
        eprintln!("load: the import answered {status}: {head}");
    }
    (status, seconds, created)
}

/// The `total` of a listing of every user (for the check after an import).
fn total(o: &Opts, user: &str, password: &str) -> Option<u64> {
    let answer = agent(o.timeout)
        .get(&format!("{}/1.1/users?limit=0", o.url))
        .set("Authorization", &basic(user, password))
        .call()
        .ok()?;
    let value: serde_json::Value = serde_json::from_reader(answer.into_reader()).ok()?;
    value.get("total")?.as_u64()
}

/// Starts the readers (they sign in, then wait for [`Run::begin`]).
fn readers(run: &Arc<Run>) -> Vec<std::thread::JoinHandle<Reads>> {
    (0..run.opts.clients)
        .map(|n| {
            let run = run.clone();
            std::thread::spawn(move || reader(&run, n))
        })
        .collect()
}

/// The reads of all the threads.
fn gather(handles: Vec<std::thread::JoinHandle<Reads>>) -> Reads {
    let mut reads = Vec::new();
    for h in handles {
        reads.extend(h.join().unwrap_or_default());
    }
    reads
}

/// How many transport errors there were (the first few kinds on stderr).
fn print_transport(run: &Run) {
    let t = run.transport.lock().map(|t| t.clone()).unwrap_or_default();
    println!("transport_errors {}", t.values().sum::<u64>());
    for (message, n) in t.iter().take(5) {
        eprintln!("load: transport error x{n}: {message}");
    }
}

/// `load read`: readers, and the import if asked.
fn read_mode(o: Opts) {
    let clients = o.clients;
    let run = Run::new(o.clone());
    let handles = readers(&run);
    run.begin();
    let importer = o.import.clone().map(|path| {
        let o = o.clone();
        let run = run.clone();
        std::thread::spawn(move || {
            let now = run.elapsed();
            if o.import_after > now {
                std::thread::sleep(Duration::from_secs_f64(o.import_after - now));
            }
            let began = run.elapsed();
            let (status, seconds, created) = import(&o, &path);
            run.importing.store(false, Ordering::Relaxed);
            (began, status, seconds, created)
        })
    });
    let imported = importer.map(|h| h.join().unwrap_or((0.0, 0, 0.0, 0)));
    let reads = gather(handles);
    let end = run.elapsed();
    println!("clients {clients}");
    println!("offered_per_second {:.1}", clients as f64 * o.rate);
    if clients > 0 {
        report("read", &reads, 0.0, end);
        statuses("read", &reads);
    }
    if let Some((began, status, seconds, created)) = imported {
        println!("import_status {status}");
        println!("import_seconds {seconds:.3}");
        println!("import_created {created}");
        if clients > 0 {
            report("during_import", &reads, began, began + seconds);
            report("after_import", &reads, began + seconds, end);
        }
        if let Some(t) = total(&o, &o.import_user, &o.import_password) {
            println!("users_total {t}");
        }
    }
    print_transport(&run);
}

/// `load flood`: readers of a good account, and the wrong passwords of another.
fn flood_mode(o: Opts) {
    let clients = o.clients;
    // Readers stop when the flood is answered, or after `--seconds` without one.
    let seconds = if o.wrong > 0 { 600.0 } else { o.seconds };
    let run = Run::new(Opts {
        seconds,
        ..o.clone()
    });
    let handles = readers(&run);
    run.begin();
    let sent = Arc::new(AtomicU64::new(0));
    let flooders: Vec<_> = (0..o.flood_clients)
        .map(|n| {
            let (run, sent, o) = (run.clone(), sent.clone(), o.clone());
            std::thread::spawn(move || {
                let agent = agent(o.timeout);
                let mut answers: Reads = Vec::new();
                loop {
                    let i = sent.fetch_add(1, Ordering::Relaxed);
                    if i >= o.wrong {
                        break;
                    }
                    let auth = basic(&o.victim, &format!("wrong-{n}-{i}"));
                    let at = run.elapsed();
                    let status = match get(&agent, &format!("{}/1.1/users?limit=1", o.url), &auth) {
                        Outcome::Status(s) => s,
                        Outcome::Transport(e) => {
                            run.transport_error(e);
                            0
                        }
                    };
                    answers.push((at, (run.elapsed() - at) * 1000.0, status));
                }
                answers
            })
        })
        .collect();
    let wrong = gather(flooders);
    let flood_end = run.elapsed();
    if o.wrong > 0 {
        run.stop.store(true, Ordering::Relaxed);
    }
    let reads = gather(handles);
    let end = run.elapsed();
    println!("clients {clients}");
    println!("offered_per_second {:.1}", clients as f64 * o.rate);
    report("good", &reads, 0.0, end);
    statuses("good", &reads);
    if o.wrong > 0 {
        println!("flood_seconds {flood_end:.3}");
        println!("wrong_requests {}", wrong.len());
        println!(
            "wrong_not_401 {}",
            wrong.iter().filter(|(_, _, s)| *s != 401).count()
        );
        let mut l: Vec<f64> = wrong.iter().map(|(_, l, _)| *l).collect();
        l.sort_by(f64::total_cmp);
        println!("wrong_p50_ms {:.2}", percentile(&l, 50.0));
        println!("wrong_p99_ms {:.2}", percentile(&l, 99.0));
        statuses("wrong", &wrong);
    }
    if let Some(pw) = &o.victim_password {
        // The right password of a locked account is refused too.
        let status = match get(
            &agent(o.timeout),
            &format!("{}/1.1/users?limit=1", o.url),
            &basic(&o.victim, pw),
        ) {
            Outcome::Status(s) => s,
            Outcome::Transport(_) => 0,
        };
        println!("victim_good_password_status {status}");
    }
    print_transport(&run);
}

fn main() {
    let o = parse();
    match o.mode.as_str() {
        "read" => read_mode(o),
        _ => flood_mode(o),
    }
}
