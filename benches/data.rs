//! Generated benchmark rows, shared by the generator (gen.rs) and the stage benchmarks:
//! every group filled (user, login, sip/sccp line with extension, voicemail, an incoming
//! number, two call permissions; every tenth user has no line), varied non-ASCII names and
//! quoted fields, deterministic by seed, plus the reference data they need.

use std::io::Write;

/// A small deterministic generator (SplitMix64), so the data is the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

const FIRST: &[&str] = &[
    "Anaïs",
    "Björn",
    "Chloé",
    "Dušan",
    "Élodie",
    "François",
    "Günther",
    "Hélène",
    "Iñaki",
    "Jürgen",
    "Kévin",
    "Łukasz",
    "Maëlle",
    "Nuño",
    "Øyvind",
    "Pénélope",
    "Ramón",
    "Søren",
    "Thérèse",
    "Zoë",
    "Ana",
    "Bob",
    "Chen",
    "Dmitri",
    "Emma",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "João",
];
const LAST: &[&str] = &[
    "Müller",
    "O'Brien",
    "Dupont, Jr",
    "García",
    "Nguyễn",
    "Kowalski",
    "Smith",
    "Lefèvre",
    "\"The Boss\" Brown",
    "Østergaard",
    "Ibáñez",
    "Şahin",
    "Novák",
    "Björk",
    "Rossi",
    "Yamada",
];
const LANG: &[&str] = &["fr_FR", "en_US", "de_DE", "es_ES", "fr_CA"];

pub const REFERENCE: &str = r#"# Reference data for generated benchmark rows.
[[entity]]
id = 1
name = "default"

[[context]]
name = "default"
entity = 1
type = "internal"
ranges = ["10000000-19999999"]

[[context]]
name = "from-extern"
entity = 1
type = "incall"
ranges = ["20000000-29999999"]

[[call_permission]]
name = "international"
entity = 1

[[call_permission]]
name = "mobile"
entity = 1

[[cti_profile]]
name = "Client"
"#;

/// The header the generator writes.
pub const HEADER: &str = "firstname,lastname,email,mobile_phone_number,language,enabled,ring_seconds,simultaneous_calls,username,password_hash,password,line_protocol,context,exten,sip_username,provisioning_code,incall_exten,incall_context,voicemail_name,voicemail_number,voicemail_context,voicemail_email,call_permissions,cti_profile_enabled,cti_profile_name";

/// Writes the header and `rows` rows numbered from `offset` into `w`. With `passwords`,
/// rows carry plaintext passwords (hashed on import) instead of one precomputed PHC hash.
pub fn write_rows(
    w: &mut impl Write,
    rows: u64,
    seed: u64,
    offset: u64,
    passwords: bool,
) -> std::io::Result<()> {
    let mut rng = Rng(seed);
    // One real argon2id hash (of "benchmark") for every row: the main benchmark measures the
    // import, not password hashing (measured on its own with --passwords).
    let phc = format!("\"{}\"", ucsv::record::hash_password("benchmark"));
    writeln!(w, "{HEADER}")?;
    for i in offset..offset + rows {
        let first = rng.pick(FIRST);
        let last = rng.pick(LAST);
        let last = if last.contains([',', '"']) {
            format!("\"{}\"", last.replace('"', "\"\""))
        } else {
            last.to_string()
        };
        let sip = i % 3 != 0;
        let (hash, password) = if passwords {
            ("", format!("pw-{:08x}", rng.next() as u32))
        } else {
            (phc.as_str(), String::new())
        };
        // Provisioning codes have 6 digits, so a database holds at most a million lines. Every
        // tenth user has no line; the codes of the first million users' numbers are theirs,
        // and users numbered from a million on take the codes lineless users left free.
        let line = if i % 10 == 9 {
            ",,,,".to_string()
        } else {
            let code = if i < 1_000_000 {
                i
            } else {
                ((i - 1_000_000) * 10 + 9) % 1_000_000
            };
            format!(
                "{},default,{},{},{code:06}",
                if sip { "sip" } else { "sccp" },
                10_000_000 + i,
                if sip {
                    format!("sip{i:07}")
                } else {
                    String::new()
                },
            )
        };
        writeln!(
            w,
            "{first},{last},user{i}@example.com,+33{:09},{},{},{},{},user.{i},{hash},{password},{line},{},from-extern,\"{first} {i}\",{},default,vm{i}@example.com,international;mobile,{},{}",
            rng.next() % 1_000_000_000,
            rng.pick(LANG),
            u8::from(i % 50 != 0),
            5 * (rng.next() % 12 + 2),
            rng.next() % 20 + 1,
            20_000_000 + i,
            10_000_000 + i,
            u8::from(i % 10 == 0),
            if i % 10 == 0 { "Client" } else { "" },
        )?;
    }
    Ok(())
}
