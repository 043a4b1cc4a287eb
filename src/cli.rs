//! The command line (clap derive). These are raw values; `cmd` turns them into the library's
//! option structs in one place per command.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Bulk-provision IPBX users from CSV spreadsheets into an embedded SQLite database or a
/// PostgreSQL database.
#[derive(Debug, Parser)]
#[command(name = "ucsv", version, about, long_about = None)]
pub struct Cli {
    /// The database: an SQLite file (created with the default reference data if missing) or
    /// postgres://USER[:PASS]@HOST[:PORT]/DB (its tables created on first use).
    /// [default: ucsv.db]
    #[arg(long, global = true, env = "UCSV_DB")]
    pub db: Option<PathBuf>,

    /// Print only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new database (refuses an existing file).
    Init {
        /// Reference data to start with, instead of the embedded default.
        #[arg(long, value_name = "FILE.toml")]
        reference: Option<PathBuf>,
    },
    /// Show or change the reference data (entities, contexts, permissions, CTI profiles).
    #[command(subcommand)]
    Reference(ReferenceCommand),
    /// Create the users of a CSV file, all or nothing.
    Import(ImportArgs),
    /// Change the users of a CSV file, keyed by uuid (e.g. an edited export), all or nothing.
    Update(ImportArgs),
    /// Check a CSV file against the database without writing (a dry run of import or update).
    Validate(ValidateArgs),
    /// Write the users as CSV, in the import format (one row per user).
    Export(ExportArgs),
    /// Add, change, delete, show or list users one at a time, or a range of numbers at a time.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage the accounts that may use the server (roles, tenants, lock-out).
    #[command(subcommand)]
    Account(AccountCommand),
    /// Serve the users REST API (and the import page) over HTTP; every request signs in
    /// with an account (see `ucsv account`).
    Serve(ServeArgs),
    /// List the history (every write is a batch), show a batch, or prune old batches.
    History(HistoryArgs),
    /// Take back a batch of the history in one transaction (the undo is a batch too, so it
    /// can be undone).
    Undo(UndoArgs),
    /// Print the column reference.
    Columns {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ColumnsFormat::Table)]
        format: ColumnsFormat,
    },
    /// Print the completion script of a shell, made from these commands and options
    /// (e.g. `ucsv completions bash > /etc/bash_completion.d/ucsv`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print the OpenAPI 3.1 document of `ucsv serve`'s routes (also at /1.1/openapi.json).
    Openapi,
    /// Print the manual page (roff) of ucsv and of each command, to stdout or into a
    /// directory (`ucsv.1`, `ucsv-import.1`, ...).
    Man {
        /// Write one page per command into this directory instead.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// A shell `ucsv completions` writes for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
}

/// `ucsv history ...`
#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[command(subcommand)]
    pub command: Option<HistoryCommand>,
    /// The most batches listed, newest first.
    #[arg(long, default_value_t = 20)]
    pub limit: u64,
    /// Output format of the list.
    #[arg(long, value_enum, default_value_t = HistoryFormat::Table)]
    pub format: HistoryFormat,
}

/// `ucsv history show|prune`
#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Show a batch and what it did to each user: as CSV, the users' states before it.
    Show {
        /// The batch's id.
        id: i64,
        /// Output format.
        #[arg(long, value_enum, default_value_t = HistoryShowFormat::Csv)]
        format: HistoryShowFormat,
    },
    /// Delete the batches recorded before a date, with what they kept (by default, the
    /// batches older than 90 days).
    Prune {
        /// A date (YYYY-MM-DD) or a time (RFC 3339, UTC: 2026-12-01T00:00:00Z).
        #[arg(long, value_name = "DATE")]
        before: Option<String>,
    },
}

/// Formats of `history`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum HistoryFormat {
    Table,
    Json,
}

/// Formats of `history show`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum HistoryShowFormat {
    Csv,
    Json,
}

/// `ucsv undo`
#[derive(Debug, Args)]
pub struct UndoArgs {
    /// The batch to take back (see `ucsv history`).
    pub id: i64,
    /// Show what the undo would do, and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = HistoryFormat::Table)]
    pub format: HistoryFormat,
}

/// `ucsv reference ...`
#[derive(Debug, Subcommand)]
pub enum ReferenceCommand {
    /// Print the reference data.
    Show {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReferenceFormat::Toml)]
        format: ReferenceFormat,
    },
    /// Add or update reference data from a TOML file (idempotent).
    Apply {
        /// The TOML file.
        file: PathBuf,
    },
}

/// Formats of `reference show`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ReferenceFormat {
    Toml,
    Json,
}

/// Formats of `columns`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ColumnsFormat {
    Table,
    Json,
    Markdown,
    /// A Frictionless Table Schema (schemas/users.schema.json).
    Frictionless,
}

/// How to read the input file.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// The CSV file, or - for standard input.
    pub file: String,

    /// The input's encoding (a WHATWG label: utf-8, windows-1252, iso-8859-15, utf-16le, ...).
    /// Default: UTF-8, or UTF-16 when a BOM says so.
    #[arg(long, value_name = "LABEL")]
    pub encoding: Option<String>,

    /// The field delimiter (one character, or "tab"). Default: sniffed from the header
    /// among , ; TAB |.
    #[arg(long, value_name = "C")]
    pub delimiter: Option<String>,

    /// The entity of rows without entity_id.
    #[arg(long, value_name = "ID")]
    pub entity: Option<i64>,

    /// Unknown columns are errors, not warnings.
    #[arg(long)]
    pub strict: bool,
}

/// How to apply rows and report.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Commit the good rows and reject the bad ones (exit 1 if any is rejected).
    #[arg(long)]
    pub keep_going: bool,

    /// Write the rejected rows to FILE as CSV, with the original header and cells.
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,

    /// Write the errors to FILE as CSV (row_number, line, column, code, message).
    #[arg(long, value_name = "FILE")]
    pub errors: Option<PathBuf>,

    /// Report format: human (stderr) or json (stdout).
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,

    /// No progress bar (it shows only when stderr is a terminal anyway).
    #[arg(long)]
    pub no_progress: bool,
}

/// Report formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Human,
    Json,
}

/// `ucsv import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub apply: ApplyArgs,
    /// Check everything and roll back: nothing is written.
    #[arg(long)]
    pub dry_run: bool,
}

/// `ucsv validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub apply: ApplyArgs,
    /// Check the file as an update (uuid-keyed) instead of an import.
    #[arg(long)]
    pub update: bool,
}

/// `ucsv serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// A TOML file of these settings (keys: database, listen, tls_cert, tls_key,
    /// insecure_http, max_body, body_timeout, grace, log_format); an option given, or its
    /// environment variable, wins over the file.
    #[arg(long, value_name = "FILE.toml", env = "UCSV_CONFIG")]
    pub config: Option<PathBuf>,

    /// The address and port to listen on (port 0: any free port, printed at start)
    /// [default: 127.0.0.1:9486].
    #[arg(long, value_name = "ADDR:PORT", env = "UCSV_LISTEN")]
    pub listen: Option<std::net::SocketAddr>,

    /// The largest request body accepted (bytes, or with a K, M or G suffix); larger: 413
    /// [default: 1G].
    #[arg(long, value_name = "SIZE", env = "UCSV_MAX_BODY", value_parser = parse_size)]
    pub max_body: Option<u64>,

    /// Seconds an upload may stop arriving before it is given up (408, nothing written)
    /// [default: 60].
    #[arg(long, value_name = "SECS", env = "UCSV_BODY_TIMEOUT",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout: Option<u64>,

    /// Seconds the requests in flight may go on after SIGTERM or ctrl-C; past them the
    /// server stops anyway and their writes roll back [default: 30].
    #[arg(long, value_name = "SECS", env = "UCSV_GRACE")]
    pub grace: Option<u64>,

    /// Serve HTTPS with this certificate chain (PEM, the server's certificate first); read
    /// again on SIGHUP. Needs --tls-key.
    #[arg(long, value_name = "FILE.pem", env = "UCSV_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,

    /// The certificate's private key (PEM); read again on SIGHUP. Needs --tls-cert.
    #[arg(long, value_name = "FILE.pem", env = "UCSV_TLS_KEY")]
    pub tls_key: Option<PathBuf>,

    /// How the log lines are written on stderr (a line per request, and the server's
    /// events); RUST_LOG filters them (default: info) [default: text].
    #[arg(long, value_enum, env = "UCSV_LOG_FORMAT")]
    pub log_format: Option<crate::serve::log::LogFormat>,

    /// Listen on an address other than the loopback without TLS: every request's password
    /// then crosses the network in clear (use only behind a TLS proxy on a trusted network).
    #[arg(long, env = "UCSV_INSECURE_HTTP")]
    pub insecure_http: bool,
}

/// A size in bytes, with an optional K, M or G suffix (powers of 1024).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, unit) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&t[..i], c.to_ascii_uppercase()),
        _ => (t, 'B'),
    };
    let shift = match unit {
        'B' => 0,
        'K' => 10,
        'M' => 20,
        'G' => 30,
        _ => return Err(format!("'{text}': the suffix is K, M or G")),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a size such as 1048576, 300M or 1G"))?;
    n.checked_mul(1 << shift)
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("'{text}' is out of range"))
}

/// `ucsv export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Where to write; - for standard output.
    #[arg(short, long, value_name = "FILE", default_value = "-")]
    pub output: String,

    /// Only the users of this entity.
    #[arg(long, value_name = "ID")]
    pub entity: Option<i64>,

    /// The columns to write, in this order (comma-separated). Default: all, in the standard order.
    #[arg(long, value_name = "a,b,..", value_delimiter = ',')]
    pub columns: Vec<String>,

    /// Leave out sip_secret, voicemail_password, call_permission_password and password_hash.
    #[arg(long)]
    pub no_secrets: bool,

    /// The output encoding (a WHATWG label: utf-8, windows-1252, utf-16le, ...).
    #[arg(long, value_name = "LABEL", default_value = "utf-8")]
    pub encoding: String,

    /// The field delimiter (one character, or "tab").
    #[arg(long, value_name = "C", default_value = ",")]
    pub delimiter: String,

    /// Start with a byte-order mark (for Excel).
    #[arg(long)]
    pub bom: bool,

    /// Prefix with ' the cells a spreadsheet would run as a formula (starting with =, @, TAB,
    /// CR, or + or - not followed by a number), for files opened in a spreadsheet. Such a file
    /// no longer re-imports byte for byte.
    #[arg(long)]
    pub excel_safe: bool,

    /// No progress bar (it shows only when stderr is a terminal and -o names a file).
    #[arg(long)]
    pub no_progress: bool,
}

/// `ucsv user ...`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user for each number of a range, as import would (prints the credentials).
    Add(UserAddArgs),
    /// Change columns of the target users, as update would.
    Set(UserSetArgs),
    /// Delete the target users with their line, numbers, permissions and login.
    Delete(UserDeleteArgs),
    /// Show the target users.
    Show(UserShowArgs),
    /// List users, with search, order and pages.
    List(UserListArgs),
}

/// Where DNs are and which entity.
#[derive(Debug, Args)]
pub struct DnArgs {
    /// The internal context of the DNs (default: the entity's only internal context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,

    /// The entity of the users (default: the only entity).
    #[arg(long, value_name = "ID")]
    pub entity: Option<i64>,
}

/// `ucsv user add`.
#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// A number or a range of numbers (A..B, same digit count, at most 100000).
    #[arg(value_name = "DN[..DN]")]
    pub dns: String,
    #[command(flatten)]
    pub at: DnArgs,
    /// The line's protocol, or none for a user without a line.
    #[arg(long, value_enum, default_value_t = Protocol::Sip)]
    pub protocol: Protocol,
    /// Any import column; {dn} in VALUE is replaced by the number (repeatable).
    #[arg(long = "set", value_name = "COLUMN=VALUE")]
    pub set: Vec<String>,
    /// The login password of each user (stored as an argon2id hash).
    #[arg(long, value_name = "P", conflicts_with = "password_stdin")]
    pub password: Option<String>,
    /// Read the login password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// Commit the good numbers and report the bad ones (exit 1 if any).
    #[arg(short, long)]
    pub keep_going: bool,
    /// How to print the new users' credentials.
    #[arg(long, value_enum, default_value_t = UserFormat::Table)]
    pub format: UserFormat,
}

/// `ucsv user set`.
#[derive(Debug, Args)]
pub struct UserSetArgs {
    /// A DN or range, or one user by uuid, id:N, username or e-mail.
    pub target: String,
    #[command(flatten)]
    pub at: DnArgs,
    /// A column and its new value; an empty value unsets it (repeatable).
    #[arg(long = "set", value_name = "COLUMN=VALUE", required = true)]
    pub set: Vec<String>,
    /// Commit the good users and report the bad ones (exit 1 if any).
    #[arg(short, long)]
    pub keep_going: bool,
    /// How to print the changed users.
    #[arg(long, value_enum, default_value_t = UserFormat::Table)]
    pub format: UserFormat,
}

/// `ucsv user delete`.
#[derive(Debug, Args)]
pub struct UserDeleteArgs {
    /// A DN or range, or one user by uuid, id:N, username or e-mail.
    pub target: String,
    #[command(flatten)]
    pub at: DnArgs,
    /// Delete the voicemail box a user alone has, too (else such a user is refused).
    #[arg(long)]
    pub delete_voicemail: bool,
    /// Delete the others when some are refused (exit 1).
    #[arg(short, long)]
    pub force: bool,
}

/// `ucsv user show`.
#[derive(Debug, Args)]
pub struct UserShowArgs {
    /// A DN or range, or one user by uuid, id:N, username or e-mail.
    pub target: String,
    #[command(flatten)]
    pub at: DnArgs,
    /// Only uuid, firstname, lastname, exten@context, line protocol and username.
    #[arg(long)]
    pub short: bool,
    /// Show the users found even if some numbers of the range have none (exit 1).
    #[arg(short, long)]
    pub keep_going: bool,
    /// Output format (csv: the export format).
    #[arg(long, value_enum, default_value_t = UserFormat::Table)]
    pub format: UserFormat,
}

/// `ucsv user list`.
#[derive(Debug, Args)]
pub struct UserListArgs {
    /// Only the users of this entity.
    #[arg(long, value_name = "ID")]
    pub entity: Option<i64>,
    /// Only users whose firstname, lastname, email, username or exten contains TEXT
    /// (without case).
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Order by this column's exported value (default: id).
    #[arg(long, value_name = "COLUMN")]
    pub order: Option<String>,
    /// The order's direction.
    #[arg(long, value_enum, default_value_t = Direction::Asc)]
    pub direction: Direction,
    /// At most N users.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Skip the first N users.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub offset: u64,
    /// Output format (json: {"items", "total"}; csv: the export format, for `ucsv update`).
    #[arg(long, value_enum, default_value_t = UserFormat::Table)]
    pub format: UserFormat,
}

/// Line protocols of `user add`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Protocol {
    Sip,
    Sccp,
    Webrtc,
    None,
}

pub use crate::sink::users::UserFormat;

/// Directions of `user list --order`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Direction {
    Asc,
    Desc,
}

/// `ucsv account ...`
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Add an account; its password is read from standard input (--password-stdin).
    Add {
        username: String,
        /// sys_admin manages everything; default only what its tenant roles allow.
        #[arg(long, default_value = "default")]
        role: String,
        /// A role in an entity: ENTITY=manager|user|viewer (repeatable).
        #[arg(long = "tenant", value_name = "ENTITY=ROLE")]
        tenants: Vec<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the accounts.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = AccountFormat::Table)]
        format: AccountFormat,
    },
    /// Show an account.
    Show {
        username: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = AccountFormat::Table)]
        format: AccountFormat,
    },
    /// Delete an account.
    Delete { username: String },
    /// Set an account's password, read from the first line of standard input.
    SetPassword { username: String },
    /// Set an account's role (sys_admin or default).
    SetRole { username: String, role: String },
    /// Give an account a role in an entity (ENTITY=manager|user|viewer), or take it (ENTITY=none).
    SetTenant {
        username: String,
        #[arg(value_name = "ENTITY=ROLE")]
        tenant: String,
    },
    /// Let the account sign in again after a deactivation.
    Activate { username: String },
    /// Refuse the account's sign-ins until it is activated.
    Deactivate { username: String },
    /// Unlock an account locked by five failed sign-ins in a row.
    Unlock { username: String },
}

/// Output formats of `ucsv account`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AccountFormat {
    Table,
    Json,
}
