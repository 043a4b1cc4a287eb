//! `ucsv serve --config FILE.toml`: each setting from an option, else its environment
//! variable, else the file, else the default; a bad file is a clear error naming it and the
//! key.

use crate::workdir::Workdir;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Starts `ucsv serve ARGS` in the workdir without --db, with `env`; returns its line on
/// stderr that gives the address it serves, then stops it.
fn first_line(wd: &Workdir, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ucsv"))
        .current_dir(wd.dir())
        .env_remove("UCSV_DB")
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .arg("serve")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ucsv serve");
    let stderr = child.stderr.take().unwrap();
    let line = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.contains("serving http"));
    let _ = child.kill();
    let _ = child.wait();
    line.expect("the line that gives the address")
}

#[test]
fn settings_come_from_the_option_then_the_environment_then_the_file() {
    let wd = Workdir::new();
    wd.write(
        "ucsv.toml",
        "# serve's settings\ndatabase = \"from-file.db\"\nlisten = \"127.0.0.1:0\"\n\
         log_format = \"json\"\nmax_body = \"2M\"\ngrace = 5\n",
    );
    // The file: its database, its address, JSON lines.
    let line = first_line(&wd, &["--config", "ucsv.toml"], &[]);
    let json: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("{line}"));
    assert!(
        json["message"]
            .as_str()
            .unwrap()
            .starts_with("serving http://127.0.0.1:"),
        "{line}"
    );
    assert!(wd.path("from-file.db").exists(), "the file's database");
    // The environment over the file, the option over the environment.
    let line = first_line(
        &wd,
        &["--config", "ucsv.toml"],
        &[("UCSV_LOG_FORMAT", "text")],
    );
    assert!(
        line.starts_with("ucsv: serving http://127.0.0.1:"),
        "{line}"
    );
    let line = first_line(
        &wd,
        &["--config", "ucsv.toml", "--log-format", "json"],
        &[("UCSV_LOG_FORMAT", "text")],
    );
    assert!(line.starts_with('{'), "{line}");
    // UCSV_CONFIG names the file; UCSV_DB wins over its database.
    let line = first_line(
        &wd,
        &[],
        &[("UCSV_CONFIG", "ucsv.toml"), ("UCSV_DB", "from-env.db")],
    );
    assert!(line.starts_with('{'), "{line}");
    assert!(
        wd.path("from-env.db").exists(),
        "the environment's database"
    );
}

#[test]
fn a_bad_configuration_is_a_usage_error_naming_the_file_and_the_key() {
    let wd = Workdir::new();
    let serve = |text: &str| {
        wd.write("bad.toml", text);
        let out = Command::new(env!("CARGO_BIN_EXE_ucsv"))
            .current_dir(wd.dir())
            .env_remove("UCSV_DB")
            .env("NO_COLOR", "1")
            .args(["serve", "--config", "bad.toml"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{text}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    for (text, wanted) in [
        ("lisen = \"127.0.0.1:0\"\n", "unknown field `lisen`"),
        ("listen = \"nowhere\"\n", "listen"),
        ("max_body = \"2X\"\n", "max_body"),
        ("grace = -1\n", "grace"),
        ("log_format = \"xml\"\n", "log_format"),
        ("listen = \n", "bad.toml"),
        (
            "tls_cert = \"c.pem\"\n",
            "--tls-cert (in bad.toml) is given without --tls-key",
        ),
        (
            "body_timeout = 0\n",
            "body_timeout (in bad.toml) must be 1 or more",
        ),
    ] {
        let stderr = serve(text);
        assert!(stderr.contains("bad.toml"), "{text}: {stderr}");
        assert!(stderr.contains(wanted), "{text}: {stderr}");
    }
    // A password in a file anyone may read.
    use std::os::unix::fs::PermissionsExt;
    let text = "database = \"postgres://ucsv:s3cret@127.0.0.1:1/x\"\n";
    wd.write("bad.toml", text);
    std::fs::set_permissions(wd.path("bad.toml"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let stderr = serve(text);
    assert!(stderr.contains("holds a password"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
    let out = Command::new(env!("CARGO_BIN_EXE_ucsv"))
        .current_dir(wd.dir())
        .args(["serve", "--config", "missing.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml"));
    assert!(!wd.path("ucsv.db").exists(), "nothing created");
}
