//! The column registry: the single source of truth for every CSV column.
//!
//! Each column's name, resource group, type and rule, whether it is a secret, whether it may
//! be unset on update, and its place in the export order live here and nowhere else. The
//! parser, the row validator, the error messages, `ucsv columns`, the Frictionless Table
//! Schema and the export all read this table.

use std::fmt::Write as _;

/// The resource a column belongs to. A group is created when its required columns are filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Group {
    User,
    Login,
    Cti,
    Line,
    Extension,
    Incall,
    Voicemail,
    Permissions,
}

impl Group {
    /// Every group, in the order rows are built.
    pub const ALL: [Group; 8] = [
        Group::User,
        Group::Login,
        Group::Cti,
        Group::Line,
        Group::Extension,
        Group::Incall,
        Group::Voicemail,
        Group::Permissions,
    ];

    /// The group's name as used in messages and error codes.
    pub fn name(self) -> &'static str {
        match self {
            Group::User => "user",
            Group::Login => "login",
            Group::Cti => "cti_profile",
            Group::Line => "line",
            Group::Extension => "extension",
            Group::Incall => "incall",
            Group::Voicemail => "voicemail",
            Group::Permissions => "call_permissions",
        }
    }

    /// The columns of this group, in registry order.
    pub fn columns(self) -> impl Iterator<Item = &'static Column> {
        COLUMNS.iter().filter(move |c| c.group == self)
    }
}

/// A set of characters a text column may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// `0-9`
    Digits,
    /// `0-9 * #` (dialable)
    Dial,
    /// `0-9 #` (voicemail PIN)
    Pin,
    /// `A-Z a-z 0-9 . _ ~ @ + -` (login)
    Login,
    /// `A-Z a-z 0-9 - _ .` (SIP user name)
    Sip,
}

impl Class {
    /// Whether `c` belongs to the class.
    pub fn contains(self, c: char) -> bool {
        match self {
            Class::Digits => c.is_ascii_digit(),
            Class::Dial => c.is_ascii_digit() || c == '*' || c == '#',
            Class::Pin => c.is_ascii_digit() || c == '#',
            Class::Login => c.is_ascii_alphanumeric() || "._~@+-".contains(c),
            Class::Sip => c.is_ascii_alphanumeric() || "-_.".contains(c),
        }
    }

    /// The class as a regular-expression bracket expression.
    pub fn regex(self) -> &'static str {
        match self {
            Class::Digits => "[0-9]",
            Class::Dial => "[0-9*#]",
            Class::Pin => "[0-9#]",
            Class::Login => "[A-Za-z0-9._~@+-]",
            Class::Sip => "[-_.a-zA-Z0-9]",
        }
    }
}

/// What a cell of a column must hold (checked row-locally, before any database lookup).
#[derive(Clone, Copy, Debug)]
pub enum Rule {
    /// Free text of `min..=max` characters.
    Text { min: usize, max: usize },
    /// Characters of a class, `min..=max` of them, optionally after one leading `+`.
    Chars {
        class: Class,
        min: usize,
        max: usize,
        plus: bool,
    },
    /// An e-mail address of at most `max` characters.
    Email { max: usize },
    /// A language tag `xx_XX`.
    Language,
    /// `0` or `1`.
    Bool { default: Option<bool> },
    /// ASCII digits, `min..=max`, a multiple of `step`.
    Int {
        min: i64,
        max: i64,
        step: i64,
        default: Option<i64>,
    },
    /// One of a fixed set of words.
    OneOf(&'static [&'static str]),
    /// A UUID.
    Uuid,
    /// A PHC-format argon2id hash whose cost parameters stay within bounds. Whoever checks
    /// a password against the hash later spends `m` KiB of memory and `m × t` KiB of memory
    /// passes on it, as the hash dictates: an unbounded hash would make each login attempt a
    /// denial of service (`m=4294967295` asks for 4 TiB). argon2id is the only algorithm
    /// accepted, so no other algorithm's cost (bcrypt's rounds, PBKDF2's iterations) needs a
    /// bound; accepting one would need its own.
    PhcHash {
        /// The most memory, in KiB (`m`).
        max_m: u32,
        /// The most passes over the memory (`t`).
        max_t: u32,
        /// The most lanes (`p`).
        max_p: u32,
        /// The most work, `m × t` in KiB passes (so `m` and `t` are not both at their maximum).
        max_work: u64,
    },
    /// The name of reference data (checked against the database in the plan stage).
    Name { max: usize },
    /// The id of an entity (checked against the database in the plan stage).
    EntityId,
    /// An IANA time zone name, e.g. `Europe/Paris`.
    Timezone,
}

impl Rule {
    /// The column's type as shown in the column reference.
    pub fn type_name(&self) -> &'static str {
        match self {
            Rule::Bool { .. } => "bool",
            Rule::Int { .. } | Rule::EntityId => "int",
            _ => "text",
        }
    }

    /// The default applied on import when the cell is absent or empty.
    pub fn default_text(&self) -> Option<String> {
        match self {
            Rule::Bool { default: Some(b) } => Some(if *b { "1" } else { "0" }.to_string()),
            Rule::Int {
                default: Some(d), ..
            } => Some(d.to_string()),
            _ => None,
        }
    }

    /// The rule as a regular expression, where one expresses it.
    pub fn pattern(&self) -> Option<String> {
        match self {
            Rule::Chars {
                class,
                min,
                max,
                plus,
            } => Some(format!(
                "^{}{}{{{},{}}}$",
                if *plus { "\\+?" } else { "" },
                class.regex(),
                min,
                max
            )),
            Rule::Language => Some("^[a-z]{2}_[A-Z]{2}$".into()),
            Rule::Bool { .. } => Some("^[01]$".into()),
            Rule::Int { .. } | Rule::EntityId => Some("^[0-9]+$".into()),
            Rule::OneOf(words) => Some(format!("^({})$", words.join("|"))),
            _ => None,
        }
    }

    /// The rule in words, for the column reference and error help.
    pub fn describe(&self) -> String {
        match self {
            Rule::Text { min, max } if *min <= 1 => format!("at most {max} characters"),
            Rule::Text { min, max } => format!("{min} to {max} characters"),
            Rule::Chars { .. } | Rule::Language => {
                let mut s = String::new();
                let _ = write!(s, "matches {}", self.pattern().unwrap_or_default());
                s
            }
            Rule::Email { max } => format!("an e-mail address, at most {max} characters"),
            Rule::Bool { default } => match default {
                Some(d) => format!("0 or 1, default {}", u8::from(*d)),
                None => "0 or 1".into(),
            },
            Rule::Int {
                min,
                max,
                step,
                default,
            } => {
                let mut s = format!("an integer from {min} to {max}");
                if *step > 1 {
                    let _ = write!(s, ", a multiple of {step}");
                }
                if let Some(d) = default {
                    let _ = write!(s, ", default {d}");
                }
                s
            }
            Rule::OneOf(words) => format!("one of {}", words.join(", ")),
            Rule::Uuid => "a UUID".into(),
            Rule::PhcHash {
                max_m,
                max_t,
                max_p,
                max_work,
            } => format!(
                "a PHC-format argon2id hash ($argon2id$v=19$m=M,t=T,p=P$salt$hash) with \
                 8 × P ≤ M ≤ {max_m} (KiB of memory), 1 ≤ T ≤ {max_t}, 1 ≤ P ≤ {max_p} \
                 and M × T ≤ {max_work}"
            ),
            Rule::Name { max } => {
                format!("a name from the reference data, at most {max} characters")
            }
            Rule::EntityId => "the id of an existing entity".into(),
            Rule::Timezone => "an IANA time zone name, e.g. Europe/Paris".into(),
        }
    }
}

/// Cells hold a `;`-separated list.
pub const LIST: u16 = 1;
/// The value is a secret: never echoed in messages.
pub const SECRET: u16 = 2;
/// Required for its group to be complete.
pub const REQUIRED: u16 = 4;
/// May be unset by an empty cell on update.
pub const UNSET: u16 = 8;
/// Not written by export.
pub const NO_EXPORT: u16 = 16;
/// The text may span several lines: line feeds and carriage returns are allowed in it.
/// Every other column is one line, because its value ends up where a line break does harm
/// (a SIP header, a phone's display, a login form): see [`crate::record::check`].
pub const MULTILINE: u16 = 32;
/// Unique across all users (and among the rows of a file).
pub const UNIQUE: u16 = 64;
/// Compared without case (with [`UNIQUE`]): `Ann@Example.com` and `ann@example.com` clash.
pub const NOCASE: u16 = 128;

/// Where a column's value is stored, for any backend: the store turns a binding into its
/// own SQL (the export's select list, the uniqueness probes), so no backend lists columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// The column of `users` named like the CSV column.
    User,
    /// A column of the user's (first) line, in `lines`.
    Line(&'static str),
    /// A column of the user's voicemail box, in `voicemails`.
    Voicemail(&'static str),
    /// The number of the first extension of the user's line.
    LineExten,
    /// One field of the user's incoming calls, a `;`-list in number order.
    Incalls(IncallField),
    /// The names of the user's call permissions, a `;`-list in name order.
    PermissionNames,
    /// The name of the user's CTI profile.
    CtiProfileName,
    /// Not stored as such (the password is kept only as its hash).
    Nothing,
}

/// The fields of an incoming call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncallField {
    /// The incoming number (an extension).
    Exten,
    /// The incall context (the extension's context).
    Context,
    /// How long it rings.
    RingSeconds,
}

/// One CSV column.
#[derive(Debug)]
pub struct Column {
    /// The column's identifier.
    pub col: Col,
    /// The header name.
    pub name: &'static str,
    /// The resource group it belongs to.
    pub group: Group,
    /// What its cells must hold.
    pub rule: Rule,
    /// `LIST | SECRET | REQUIRED | UNSET | NO_EXPORT | MULTILINE | UNIQUE | NOCASE`.
    pub flags: u16,
    /// Where the value is stored.
    pub storage: Storage,
    /// One line for the column reference.
    pub doc: &'static str,
}

impl Column {
    /// Whether the cell holds a `;`-list.
    pub fn is_list(&self) -> bool {
        self.flags & LIST != 0
    }
    /// Whether the value must never be echoed.
    pub fn is_secret(&self) -> bool {
        self.flags & SECRET != 0
    }
    /// Whether the group needs this column filled.
    pub fn is_required(&self) -> bool {
        self.flags & REQUIRED != 0
    }
    /// Whether an update may unset it with an empty cell.
    pub fn is_unsettable(&self) -> bool {
        self.flags & UNSET != 0
    }
    /// Whether export writes it.
    pub fn is_exported(&self) -> bool {
        self.flags & NO_EXPORT == 0
    }
    /// Whether the text may hold line breaks (LF, CR).
    pub fn is_multiline(&self) -> bool {
        self.flags & MULTILINE != 0
    }
    /// Whether the value must be unique across users.
    pub fn is_unique(&self) -> bool {
        self.flags & UNIQUE != 0
    }
    /// The value as uniqueness compares it (lowercased for [`NOCASE`] columns).
    pub fn unique_key(&self, v: &str) -> String {
        if self.flags & NOCASE != 0 {
            v.to_lowercase()
        } else {
            v.to_string()
        }
    }
}

macro_rules! registry {
    ($($var:ident = $name:literal, $group:ident, $rule:expr, $flags:expr, $storage:expr, $doc:literal;)*) => {
        /// A column's identifier; `Col::X as usize` is its index in [`COLUMNS`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Col { $($var),* }

        /// Every column, in export order (columns not exported come last).
        pub static COLUMNS: &[Column] = &[
            $(Column { col: Col::$var, name: $name, group: Group::$group, rule: $rule, flags: $flags, storage: $storage, doc: $doc }),*
        ];
    };
}

const B0: Rule = Rule::Bool {
    default: Some(false),
};
const B1: Rule = Rule::Bool {
    default: Some(true),
};
/// Bounds of an argon2id password_hash: at most 1 GiB of memory, 16 passes, 16 lanes, and
/// 4 GiB of memory passes in all (a check then takes a few seconds at worst; the default
/// parameters, 19 MiB × 2 passes, and RFC 9106's second recommendation, 64 MiB × 3, pass).
const PHC: Rule = Rule::PhcHash {
    max_m: 1 << 20,
    max_t: 16,
    max_p: 16,
    max_work: 1 << 22,
};
const RING: Rule = Rule::Int {
    min: 0,
    max: 10800,
    step: 5,
    default: Some(30),
};

/// Stored in `users` under the column's own name.
const U: Storage = Storage::User;

registry! {
    Uuid = "uuid", User, Rule::Uuid, UNIQUE | NOCASE, U,
        "import: the user's UUID (optional, must be unused); update: the key";
    SubscriptionType = "subscription_type", User, Rule::Int { min: 0, max: 10, step: 1, default: Some(0) }, 0, U,
        "subscription level";
    Firstname = "firstname", User, Rule::Text { min: 1, max: 128 }, REQUIRED, U,
        "first name (required)";
    Lastname = "lastname", User, Rule::Text { min: 0, max: 128 }, UNSET, U, "last name";
    Email = "email", User, Rule::Email { max: 254 }, UNSET | UNIQUE | NOCASE, U, "e-mail address, unique among users";
    MobilePhoneNumber = "mobile_phone_number", User, Rule::Chars { class: Class::Dial, min: 1, max: 80, plus: true }, UNSET, U,
        "mobile phone number";
    OutgoingCallerId = "outgoing_caller_id", User, Rule::Text { min: 0, max: 80 }, UNSET, U, "caller id for outgoing calls";
    Language = "language", User, Rule::Language, UNSET, U, "language, e.g. en_US, fr_FR";
    CallPermissionPassword = "call_permission_password", User, Rule::Chars { class: Class::Dial, min: 1, max: 16, plus: false }, SECRET | UNSET, U,
        "password for restricted calls";
    Enabled = "enabled", User, B1, 0, U, "the user may use the system";
    RingSeconds = "ring_seconds", User, RING, 0, U, "seconds a call rings";
    SimultaneousCalls = "simultaneous_calls", User, Rule::Int { min: 1, max: 20, step: 1, default: Some(5) }, 0, U,
        "calls at once";
    SupervisionEnabled = "supervision_enabled", User, B1, 0, U, "supervision";
    CallTransferEnabled = "call_transfer_enabled", User, B0, 0, U, "call transfer";
    DtmfHangupEnabled = "dtmf_hangup_enabled", User, B0, 0, U, "hang up by DTMF";
    CallRecordOutgoingExternalEnabled = "call_record_outgoing_external_enabled", User, B0, 0, U, "record outgoing external calls";
    CallRecordOutgoingInternalEnabled = "call_record_outgoing_internal_enabled", User, B0, 0, U, "record outgoing internal calls";
    CallRecordIncomingExternalEnabled = "call_record_incoming_external_enabled", User, B0, 0, U, "record incoming external calls";
    CallRecordIncomingInternalEnabled = "call_record_incoming_internal_enabled", User, B0, 0, U, "record incoming internal calls";
    OnlineCallRecordEnabled = "online_call_record_enabled", User, B0, 0, U, "on-demand call recording";
    Userfield = "userfield", User, Rule::Text { min: 0, max: 128 }, UNSET | MULTILINE, U, "free field";
    VoicemailName = "voicemail_name", Voicemail, Rule::Text { min: 1, max: 80 }, REQUIRED, Storage::Voicemail("name"), "voicemail box name";
    VoicemailNumber = "voicemail_number", Voicemail, Rule::Chars { class: Class::Digits, min: 1, max: 40, plus: false }, REQUIRED, Storage::Voicemail("number"),
        "voicemail box number";
    VoicemailContext = "voicemail_context", Voicemail, Rule::Name { max: 79 }, REQUIRED, Storage::Voicemail("context"),
        "a context of the user's entity";
    VoicemailPassword = "voicemail_password", Voicemail, Rule::Chars { class: Class::Pin, min: 1, max: 80, plus: false }, SECRET | UNSET, Storage::Voicemail("password"),
        "voicemail PIN";
    VoicemailEmail = "voicemail_email", Voicemail, Rule::Email { max: 254 }, UNSET, Storage::Voicemail("email"), "where messages are sent";
    VoicemailAttachAudio = "voicemail_attach_audio", Voicemail, B0, UNSET, Storage::Voicemail("attach_audio"), "attach the audio to e-mails";
    VoicemailDeleteMessages = "voicemail_delete_messages", Voicemail, B0, 0, Storage::Voicemail("delete_messages"),
        "delete messages once e-mailed (needs voicemail_email)";
    VoicemailAskPassword = "voicemail_ask_password", Voicemail, B1, 0, Storage::Voicemail("ask_password"), "ask the PIN";
    LineProtocol = "line_protocol", Line, Rule::OneOf(&["sip", "sccp", "webrtc"]), REQUIRED, Storage::Line("protocol"), "sip, sccp or webrtc";
    ProvisioningCode = "provisioning_code", Line, Rule::Chars { class: Class::Digits, min: 6, max: 6, plus: false }, UNIQUE, Storage::Line("provisioning_code"),
        "6 digits, unique; generated when empty";
    Context = "context", Line, Rule::Name { max: 79 }, REQUIRED, Storage::Line("context"), "an internal context of the user's entity";
    SipUsername = "sip_username", Line, Rule::Chars { class: Class::Sip, min: 1, max: 79, plus: false }, UNIQUE, Storage::Line("sip_username"),
        "unique; generated on sip/webrtc lines when empty";
    SipSecret = "sip_secret", Line, Rule::Text { min: 1, max: 128 }, SECRET, Storage::Line("sip_secret"), "generated when empty";
    Exten = "exten", Extension, Rule::Chars { class: Class::Digits, min: 1, max: 40, plus: false }, REQUIRED, Storage::LineExten,
        "internal extension, inside a user range of `context` (needs a line)";
    IncallExten = "incall_exten", Incall, Rule::Chars { class: Class::Digits, min: 1, max: 40, plus: false }, LIST | REQUIRED, Storage::Incalls(IncallField::Exten),
        "incoming number(s), inside a range of incall_context";
    IncallContext = "incall_context", Incall, Rule::Name { max: 79 }, LIST | REQUIRED, Storage::Incalls(IncallField::Context),
        "incall context(s) of the user's entity";
    CallPermissions = "call_permissions", Permissions, Rule::Name { max: 128 }, LIST | UNSET, Storage::PermissionNames,
        "call permissions of the user's entity; the user gets exactly this set";
    Username = "username", Login, Rule::Chars { class: Class::Login, min: 2, max: 254, plus: false }, REQUIRED | UNSET | UNIQUE, U,
        "login, unique";
    EntityId = "entity_id", User, Rule::EntityId, 0, U,
        "the user's entity; may be omitted with --entity or when there is one entity";
    CtiProfileEnabled = "cti_profile_enabled", Cti, B0, 0, U, "when 1: username, a password and cti_profile_name are required";
    CtiProfileName = "cti_profile_name", Cti, Rule::Name { max: 128 }, 0, Storage::CtiProfileName, "a CTI profile of the reference data";
    IncallRingSeconds = "incall_ring_seconds", Incall, Rule::Int { min: 0, max: 10800, step: 1, default: None }, LIST | UNSET, Storage::Incalls(IncallField::RingSeconds),
        "seconds an incoming call rings";
    PasswordHash = "password_hash", Login, PHC, SECRET, U,
        "a PHC-format argon2id hash, stored as given; exclusive with password";
    Timezone = "timezone", User, Rule::Timezone, UNSET, U,
        "time zone (IANA), e.g. Europe/Paris; default: the entity's default_timezone";
    Description = "description", User, Rule::Text { min: 0, max: 1024 }, UNSET, U, "free description";
    MusicOnHold = "music_on_hold", User, Rule::Text { min: 0, max: 128 }, UNSET, U, "music on hold class";
    Password = "password", Login, Rule::Text { min: 4, max: 64 }, SECRET | UNSET | NO_EXPORT, Storage::Nothing,
        "4 to 64 characters; stored only as an argon2id hash";
}

/// The number of columns.
pub const N: usize = Col::Password as usize + 1;

impl Col {
    /// The column's registry entry.
    pub fn def(self) -> &'static Column {
        &COLUMNS[self as usize]
    }
    /// The header name.
    pub fn name(self) -> &'static str {
        self.def().name
    }
}

/// The column registry as a Frictionless Table Schema (schemas/users.schema.json).
pub fn table_schema() -> serde_json::Value {
    use serde_json::{json, Map, Value};
    let fields: Vec<Value> = COLUMNS
        .iter()
        .map(|c| {
            let mut f = Map::new();
            let mut k = Map::new();
            f.insert("name".into(), json!(c.name));
            f.insert(
                "description".into(),
                json!(format!("{} ({} group)", c.doc, c.group.name())),
            );
            let ty = match (c.is_list(), &c.rule) {
                (true, _) => "string",
                (_, Rule::Bool { .. }) => {
                    f.insert("trueValues".into(), json!(["1"]));
                    f.insert("falseValues".into(), json!(["0"]));
                    "boolean"
                }
                (_, Rule::Int { min, max, .. }) => {
                    k.insert("minimum".into(), json!(min));
                    k.insert("maximum".into(), json!(max));
                    "integer"
                }
                (_, Rule::EntityId) => "integer",
                (_, Rule::Email { max }) => {
                    f.insert("format".into(), json!("email"));
                    k.insert("maxLength".into(), json!(max));
                    "string"
                }
                (_, Rule::Uuid) => {
                    f.insert("format".into(), json!("uuid"));
                    "string"
                }
                (_, Rule::Text { min, max }) => {
                    if *min > 1 {
                        k.insert("minLength".into(), json!(min));
                    }
                    k.insert("maxLength".into(), json!(max));
                    "string"
                }
                (_, Rule::Name { max }) => {
                    k.insert("maxLength".into(), json!(max));
                    "string"
                }
                _ => "string",
            };
            f.insert("type".into(), json!(ty));
            if !c.is_list()
                && !matches!(
                    c.rule,
                    Rule::Bool { .. } | Rule::Int { .. } | Rule::EntityId
                )
            {
                if let Some(p) = c.rule.pattern() {
                    k.insert("pattern".into(), json!(p));
                }
            }
            if c.col == Col::Firstname {
                k.insert("required".into(), json!(true));
            }
            if !k.is_empty() {
                f.insert("constraints".into(), Value::Object(k));
            }
            Value::Object(f)
        })
        .collect();
    json!({
        "$comment": "Generated from the ucsv column registry by `ucsv columns --format frictionless`; do not edit.",
        "fields": fields,
        "missingValues": [""],
    })
}

/// Finds a column by header name: trimmed, case-insensitive.
pub fn lookup(name: &str) -> Option<Col> {
    let name = name.trim();
    COLUMNS
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(name))
        .map(|c| c.col)
}

/// The exported columns, in export order.
pub fn exported() -> impl Iterator<Item = Col> {
    COLUMNS.iter().filter(|c| c.is_exported()).map(|c| c.col)
}

/// The columns whose values must be unique across users (and among a file's rows).
pub fn unique() -> impl Iterator<Item = Col> {
    COLUMNS.iter().filter(|c| c.is_unique()).map(|c| c.col)
}

/// The known column closest to an unknown name, if any is close enough to suggest.
pub fn closest(name: &str) -> Option<&'static str> {
    let name = name.trim().to_ascii_lowercase();
    COLUMNS
        .iter()
        .map(|c| (strsim::jaro_winkler(&name, c.name), c.name))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n)
}

/// Whether an unknown column's name suggests that it holds a secret: its closest known
/// column is a secret one, or the name speaks of a password, PIN, secret or hash. Such cells
/// are masked wherever a row is echoed, like the secret columns.
pub fn looks_secret(name: &str) -> bool {
    let lower = name.trim().to_ascii_lowercase();
    let secret_close = closest(&lower)
        .and_then(lookup)
        .is_some_and(|c| c.def().is_secret());
    secret_close
        || ["pass", "pwd", "secret", "pin", "hash"]
            .iter()
            .any(|w| lower.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_suggest_a_secret_look_secret() {
        for name in [
            "passwd",
            "PIN",
            "sip_secret2",
            "pwd",
            "user_hash",
            "voicemail_pasword",
        ] {
            assert!(looks_secret(name), "{name}");
        }
        for name in ["firstname", "nickname", "office"] {
            assert!(!looks_secret(name), "{name}");
        }
    }

    #[test]
    fn registry_index_matches_identifier() {
        for (i, c) in COLUMNS.iter().enumerate() {
            assert_eq!(c.col as usize, i, "column {} out of place", c.name);
        }
        assert_eq!(COLUMNS.len(), N);
    }

    #[test]
    fn export_order_starts_with_the_wazo_columns() {
        let exported: Vec<_> = COLUMNS.iter().filter(|c| c.is_exported()).collect();
        assert_eq!(exported.len(), 47);
        assert_eq!(exported[0].name, "uuid");
        assert_eq!(exported[38].name, "username");
        assert_eq!(exported[43].name, "password_hash");
        // The user settings of the XiVO users API come after, in this order.
        let added: Vec<&str> = exported[44..].iter().map(|c| c.name).collect();
        assert_eq!(added, ["timezone", "description", "music_on_hold"]);
    }

    #[test]
    fn lookup_trims_and_ignores_case() {
        assert_eq!(lookup("  FirstName "), Some(Col::Firstname));
        assert_eq!(lookup("fistname"), None);
        assert_eq!(closest("fistname"), Some("firstname"));
        assert_eq!(closest("zzzz"), None);
    }

    #[test]
    fn patterns_are_derived_from_rules() {
        assert_eq!(
            Col::MobilePhoneNumber.def().rule.pattern().as_deref(),
            Some("^\\+?[0-9*#]{1,80}$")
        );
        assert_eq!(
            Col::Username.def().rule.pattern().as_deref(),
            Some("^[A-Za-z0-9._~@+-]{2,254}$")
        );
    }
}
