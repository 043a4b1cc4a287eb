//! `ucsv serve` over HTTPS (`--tls-cert`, `--tls-key`): a certificate made in the test
//! (rcgen), curl as the client trusting it, the files read again on SIGHUP; and plain HTTP
//! refused on an address other than the loopback unless `--insecure-http`.

use crate::serve::{account, Server, PW};
use crate::workdir::Workdir;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A self-signed certificate for 127.0.0.1 and localhost: (certificate, key), PEM.
fn certificate() -> (String, String) {
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("make a certificate");
    (made.cert.pem(), made.key_pair.serialize_pem())
}

/// curl's exit code and the HTTP status it got for a signed-in GET of `url`, trusting `ca`
/// (`None`: only the system's authorities).
fn curl(url: &str, ca: Option<&Path>) -> (i32, String) {
    let mut cmd = Command::new("curl");
    cmd.args([
        "-sS",
        "-o",
        "/dev/null",
        "--max-time",
        "20",
        "-w",
        "%{http_code}",
    ])
    .args(["-u", &format!("admin:{PW}")]);
    if let Some(ca) = ca {
        cmd.arg("--cacert").arg(ca);
    }
    let out = cmd.arg(url).output().expect("curl is installed");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Writes `text` to `path` through a rename, as a certificate renewal would.
fn replace(path: &Path, text: &str) {
    let fresh = path.with_extension("new");
    std::fs::write(&fresh, text).unwrap();
    std::fs::rename(&fresh, path).unwrap();
}

/// Waits until the server's log holds `text` `count` times.
fn logged(server: &Server, text: &str, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.log().matches(text).count() < count {
        assert!(Instant::now() < deadline, "no {text:?} in {}", server.log());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn https_serves_the_api_with_the_given_certificate_and_reads_it_again_on_sighup() {
    let wd = Workdir::with_db();
    account(&wd, "admin", &["--role", "sys_admin"]);
    let (cert, key) = certificate();
    let (cert_file, key_file) = (wd.path("cert.pem"), wd.path("key.pem"));
    std::fs::write(&cert_file, &cert).unwrap();
    std::fs::write(&key_file, &key).unwrap();
    let first_ca = wd.path("first-ca.pem");
    std::fs::write(&first_ca, &cert).unwrap();
    let server = Server::start(
        &wd,
        &[
            "--tls-cert",
            cert_file.to_str().unwrap(),
            "--tls-key",
            key_file.to_str().unwrap(),
        ],
    );
    assert!(
        server.base.starts_with("https://127.0.0.1:"),
        "{}",
        server.base
    );
    let users = format!("{}/1.1/users", server.base);
    assert_eq!(curl(&users, Some(&first_ca)), (0, "200".into()));
    // Not trusted without its authority (curl: 60, the peer's certificate not verified).
    assert_eq!(curl(&users, None).0, 60);
    // Plain HTTP on the same port gets no answer.
    let plain = users.replacen("https://", "http://", 1);
    assert_ne!(curl(&plain, None).1, "200");

    // A renewed certificate: served once SIGHUP has been received, the old one no longer.
    let (cert2, key2) = certificate();
    replace(&cert_file, &cert2);
    replace(&key_file, &key2);
    let second_ca = wd.path("second-ca.pem");
    std::fs::write(&second_ca, &cert2).unwrap();
    unsafe {
        libc::kill(server.pid() as i32, libc::SIGHUP);
    }
    logged(&server, "was read again", 1);
    assert_eq!(curl(&users, Some(&second_ca)), (0, "200".into()));
    assert_eq!(curl(&users, Some(&first_ca)).0, 60);

    // A key that cannot be read: said, and the certificate in use kept.
    replace(
        &key_file,
        "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n",
    );
    unsafe {
        libc::kill(server.pid() as i32, libc::SIGHUP);
    }
    logged(&server, "the certificate in use is kept", 1);
    assert_eq!(curl(&users, Some(&second_ca)), (0, "200".into()));
    let log = server.log();
    assert!(
        log.contains("key.pem: holds no private key that can be used"),
        "{log}"
    );
    for secret in [&key, &key2] {
        let body = secret.lines().nth(1).unwrap();
        assert!(!log.contains(body), "the log shows a key");
    }
}

#[test]
fn tls_files_that_cannot_be_used_are_clear_errors_before_serving() {
    let wd = Workdir::with_db();
    let (cert, key) = certificate();
    let (_, other_key) = certificate();
    for (name, text) in [
        ("cert.pem", cert.as_str()),
        ("key.pem", key.as_str()),
        ("other.pem", other_key.as_str()),
        ("empty.pem", ""),
    ] {
        std::fs::write(wd.path(name), text).unwrap();
    }
    let serve = |cert: &str, key: &str| {
        wd.run(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            wd.path(cert).to_str().unwrap(),
            "--tls-key",
            wd.path(key).to_str().unwrap(),
        ])
    };
    let run = serve("missing.pem", "key.pem");
    run.expect(2);
    assert!(
        run.stderr.contains("missing.pem: cannot be read"),
        "{}",
        run.stderr
    );
    let run = serve("empty.pem", "key.pem");
    run.expect(2);
    assert!(
        run.stderr.contains("empty.pem: holds no certificate"),
        "{}",
        run.stderr
    );
    let run = serve("cert.pem", "empty.pem");
    run.expect(2);
    assert!(
        run.stderr.contains("empty.pem: holds no PEM private key"),
        "{}",
        run.stderr
    );
    let run = serve("cert.pem", "other.pem");
    run.expect(2);
    assert!(
        run.stderr
            .contains("other.pem: does not go with the certificate"),
        "{}",
        run.stderr
    );
    // One without the other.
    let run = wd.run(&["serve", "--tls-cert", wd.path("cert.pem").to_str().unwrap()]);
    run.expect(2);
    assert!(run.stderr.contains("--tls-key"), "{}", run.stderr);
}

#[test]
fn plain_http_on_an_address_other_than_the_loopback_is_refused_unless_insecure_http() {
    let wd = Workdir::with_db();
    let run = wd.run(&["serve", "--listen", "0.0.0.0:0"]);
    run.expect(2);
    assert!(
        run.stderr
            .contains("refusing to listen on 0.0.0.0:0 without TLS"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--tls-cert"), "{}", run.stderr);
    // With --insecure-http it serves.
    let mut child = Command::new(env!("CARGO_BIN_EXE_ucsv"))
        .current_dir(wd.dir())
        .env_remove("UCSV_DB")
        .arg("--db")
        .arg(wd.db())
        .args(["serve", "--listen", "0.0.0.0:0", "--insecure-http"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let first = BufReader::new(stderr).lines().next();
    let _ = child.kill();
    let _ = child.wait();
    let line = first.expect("a line").unwrap();
    assert!(line.contains("serving http://0.0.0.0:"), "{line}");
}
