//! Query parameters: one parser for every route, so that no parameter can be misread.
//!
//! Each route declares the parameters it takes ([`Param`]); [`Query::parse`] reads the
//! query string against that list and refuses, with 400 and the parameter's name, anything
//! it cannot read for certain: an unknown parameter (a typo must never turn a dry run into
//! a real import), a parameter given twice, a flag or a number spelt in a way not listed.
//! A flag present without a value (`?dry_run`, `?dry_run=`) is true, as in the seed APIs
//! (`?deleteVoicemail`). [`ROUTES`] lists every route's parameters, for the tests and the
//! documentation.

use super::ApiError;
use std::collections::BTreeMap;

/// What a parameter holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// true or false: see [`TRUE`] and [`FALSE`].
    Flag,
    /// A whole number (ASCII digits).
    Number,
    /// Any text.
    Text,
}

/// One parameter a route takes.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// Its name, as written in the query (case matters).
    pub name: &'static str,
    /// What it holds.
    pub kind: Kind,
}

const fn flag(name: &'static str) -> Param {
    Param {
        name,
        kind: Kind::Flag,
    }
}

const fn number(name: &'static str) -> Param {
    Param {
        name,
        kind: Kind::Number,
    }
}

const fn text(name: &'static str) -> Param {
    Param {
        name,
        kind: Kind::Text,
    }
}

/// The spellings of true, compared without case (the empty value: a flag given alone).
pub const TRUE: [&str; 5] = ["", "true", "1", "yes", "on"];
/// The spellings of false, compared without case.
pub const FALSE: [&str; 4] = ["false", "0", "no", "off"];

/// Routes without parameters.
pub const NONE: &[Param] = &[];
/// `GET /1.1/users`.
pub const USERS_LIST: &[Param] = &[
    text("search"),
    text("order"),
    text("direction"),
    number("limit"),
    number("offset"),
    text("entity"),
    flag("with_secrets"),
];
/// `GET /1.1/users/{id}`.
pub const USERS_SHOW: &[Param] = &[flag("with_secrets")];
/// `POST /1.1/users` and `PUT /1.1/users/{id}`.
pub const USERS_WRITE: &[Param] = &[flag("with_secrets")];
/// `DELETE /1.1/users/{id}`.
pub const USERS_DELETE: &[Param] = &[flag("delete_voicemail")];
/// `POST` and `PUT /1.1/users/import`.
pub const USERS_IMPORT: &[Param] = &[
    flag("dry_run"),
    flag("keep_going"),
    number("report_limit"),
    text("filename"),
];
/// `GET /1.1/users/export`.
pub const USERS_EXPORT: &[Param] = &[text("columns"), flag("no_secrets"), text("entity")];
/// `GET /1.1/accounts` (Cloudify's `_offset` and `_size` too).
pub const ACCOUNTS_LIST: &[Param] = &[
    number("offset"),
    number("size"),
    number("_offset"),
    number("_size"),
];
/// `DELETE /1.0/users/{id}` (seed 002).
pub const XIVO_DELETE: &[Param] = &[flag("deleteVoicemail")];
/// `GET /1.1/batches`.
pub const BATCHES_LIST: &[Param] = &[number("limit")];
/// `GET /1.1/batches/{id}`.
pub const BATCHES_SHOW: &[Param] = &[flag("with_secrets")];
/// `POST /1.1/batches/{id}/undo`.
pub const BATCHES_UNDO: &[Param] = &[flag("dry_run")];
/// `GET /1.0/users`.
pub const XIVO_LIST: &[Param] = &[number("limit"), number("offset"), text("search")];
/// Cloudify's reads (`/api/v3.1/...`): the parameters its client sends.
pub const CLOUDIFY_READ: &[Param] = &[
    flag("_get_data"),
    text("_include"),
    text("_sort"),
    number("_offset"),
    number("_size"),
    flag("_get_all_results"),
];
/// Cloudify's reads of one user or tenant (`/api/v3.1/users/{name}`, `/tenants/{name}`).
pub const CLOUDIFY_SHOW: &[Param] = &[flag("_get_data"), text("_include")];
/// `GET /sapi/users`.
pub const SAPI_LIST: &[Param] = &[
    text("domain"),
    number("limit"),
    number("offset"),
    text("search"),
];

/// Every route of the server with the parameters it takes (method, path pattern, params).
pub const ROUTES: &[(&str, &str, &[Param])] = &[
    ("GET", "/1.1/users", USERS_LIST),
    ("POST", "/1.1/users", USERS_WRITE),
    ("GET", "/1.1/users/{id}", USERS_SHOW),
    ("PUT", "/1.1/users/{id}", USERS_WRITE),
    ("DELETE", "/1.1/users/{id}", USERS_DELETE),
    ("POST", "/1.1/users/import", USERS_IMPORT),
    ("PUT", "/1.1/users/import", USERS_IMPORT),
    ("GET", "/1.1/users/export", USERS_EXPORT),
    ("GET", "/1.1/batches", BATCHES_LIST),
    ("GET", "/1.1/batches/{id}", BATCHES_SHOW),
    ("POST", "/1.1/batches/{id}/undo", BATCHES_UNDO),
    ("GET", "/healthz", NONE),
    ("GET", "/metrics", NONE),
    ("GET", "/1.1/openapi.json", NONE),
    ("GET", "/readyz", NONE),
    ("GET", "/1.1/me", NONE),
    ("GET", "/1.1/entities", NONE),
    ("POST", "/1.1/entities", NONE),
    ("GET", "/1.1/entities/{id}", NONE),
    ("PUT", "/1.1/entities/{id}", NONE),
    ("GET", "/1.1/accounts", ACCOUNTS_LIST),
    ("POST", "/1.1/accounts", NONE),
    ("GET", "/1.1/accounts/{username}", NONE),
    ("POST", "/1.1/accounts/{username}", NONE),
    ("DELETE", "/1.1/accounts/{username}", NONE),
    ("POST", "/1.1/accounts/{username}/{action}", NONE),
    ("GET", "/api/v3.1/users", CLOUDIFY_READ),
    ("PUT", "/api/v3.1/users", NONE),
    ("GET", "/api/v3.1/user", CLOUDIFY_SHOW),
    ("GET", "/api/v3.1/users/{username}", CLOUDIFY_SHOW),
    ("POST", "/api/v3.1/users/{username}", NONE),
    ("DELETE", "/api/v3.1/users/{username}", NONE),
    ("POST", "/api/v3.1/users/active/{username}", NONE),
    ("POST", "/api/v3.1/users/unlock/{username}", NONE),
    ("GET", "/api/v3.1/tenants", CLOUDIFY_READ),
    ("GET", "/api/v3.1/tenants/{name}", CLOUDIFY_SHOW),
    ("POST", "/api/v3.1/tenants/{name}", NONE),
    ("DELETE", "/api/v3.1/tenants/{name}", NONE),
    ("PUT", "/api/v3.1/tenants/users", NONE),
    ("PATCH", "/api/v3.1/tenants/users", NONE),
    ("DELETE", "/api/v3.1/tenants/users", NONE),
    ("GET", "/1.0/users", XIVO_LIST),
    ("POST", "/1.0/users", NONE),
    ("GET", "/1.0/users/{id}", NONE),
    ("PUT", "/1.0/users/{id}", NONE),
    ("DELETE", "/1.0/users/{id}", XIVO_DELETE),
    ("GET", "/sapi/users", SAPI_LIST),
    ("POST", "/sapi/users", NONE),
    ("GET", "/sapi/users/{uuid}", NONE),
    ("PUT", "/sapi/users/{uuid}", NONE),
    ("DELETE", "/sapi/users/{uuid}", NONE),
];

/// A parameter's value, read.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Value {
    Flag(bool),
    Number(u64),
    Text(String),
}

/// The parameters of one request, read and checked against its route's list.
#[derive(Debug, Default)]
pub struct Query {
    values: BTreeMap<&'static str, Value>,
}

/// Reads a flag's value: `Some(bool)` for a listed spelling.
pub fn read_flag(value: &str) -> Option<bool> {
    let v = value;
    if TRUE.iter().any(|t| t.eq_ignore_ascii_case(v)) {
        Some(true)
    } else if FALSE.iter().any(|f| f.eq_ignore_ascii_case(v)) {
        Some(false)
    } else {
        None
    }
}

impl Query {
    /// Reads `raw` (the query string, without `?`) against `params`; 400 naming the
    /// parameter for an unknown one, one given twice, or a value that cannot be read.
    pub fn parse(raw: Option<&str>, params: &[Param]) -> Result<Query, ApiError> {
        let mut values = BTreeMap::new();
        for (name, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            if name.is_empty() && value.is_empty() {
                continue;
            }
            let Some(param) = params.iter().find(|p| p.name == name) else {
                let mut message = if params.is_empty() {
                    format!("unknown query parameter '{name}': this route takes none")
                } else {
                    let names: Vec<&str> = params.iter().map(|p| p.name).collect();
                    format!(
                        "unknown query parameter '{name}': this route takes {}",
                        names.join(", ")
                    )
                };
                if let Some(close) = params
                    .iter()
                    .map(|p| (strsim::jaro_winkler(&name, p.name), p.name))
                    .filter(|(score, _)| *score > 0.8)
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                {
                    message += &format!(" (did you mean '{}'?)", close.1);
                }
                return Err(ApiError::bad_parameter("query.unknown", &name, message));
            };
            let read = match param.kind {
                Kind::Flag => Value::Flag(read_flag(&value).ok_or_else(|| {
                    ApiError::bad_parameter(
                        "query.invalid",
                        param.name,
                        format!(
                            "{} is a flag: give it alone, or =true, 1, yes, on, or =false, 0, no, off",
                            param.name
                        ),
                    )
                })?),
                Kind::Number => Value::Number(
                    Some(&value)
                        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                        .and_then(|v| v.parse::<u64>().ok())
                        .ok_or_else(|| {
                            ApiError::bad_parameter(
                                "query.invalid",
                                param.name,
                                format!("{} is a whole number, e.g. 20", param.name),
                            )
                        })?,
                ),
                Kind::Text => Value::Text(value.into_owned()),
            };
            if values.insert(param.name, read).is_some() {
                return Err(ApiError::bad_parameter(
                    "query.repeated",
                    param.name,
                    format!("{} is given more than once", param.name),
                ));
            }
        }
        Ok(Query { values })
    }

    /// A flag: false when absent.
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.values.get(name), Some(Value::Flag(true)))
    }

    /// A number, if given.
    pub fn number(&self, name: &str) -> Option<u64> {
        match self.values.get(name) {
            Some(Value::Number(n)) => Some(*n),
            _ => None,
        }
    }

    /// A text, if given (possibly empty).
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.values.get(name) {
            Some(Value::Text(t)) => Some(t),
            _ => None,
        }
    }

    /// A text, if given and not empty.
    pub fn filled(&self, name: &str) -> Option<&str> {
        self.text(name).filter(|t| !t.is_empty())
    }
}

/// The extractor of a route that takes no parameter: 400 for any (put it after the
/// sign-in, so that a request without credentials is a 401 whatever its query).
pub struct NoParams;

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for NoParams {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, ApiError> {
        Query::parse(parts.uri.query(), NONE).map(|_| NoParams)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn status(raw: &str, params: &[Param]) -> Result<Query, u16> {
        Query::parse(Some(raw), params).map_err(|e| e.status.as_u16())
    }

    /// Every spelling of a flag, in several cases, with what it must read as.
    fn spellings() -> Vec<(String, Option<bool>)> {
        let mut all = Vec::new();
        for t in TRUE {
            for v in [t.to_string(), t.to_uppercase(), capitalised(t)] {
                all.push((v, Some(true)));
            }
        }
        for f in FALSE {
            for v in [f.to_string(), f.to_uppercase(), capitalised(f)] {
                all.push((v, Some(false)));
            }
        }
        for bad in [
            "maybe", "2", "-1", "tru", "y", "n", "null", "none", "t", "f",
        ] {
            all.push((bad.to_string(), None));
        }
        all
    }

    fn capitalised(s: &str) -> String {
        let mut c = s.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect())
            .unwrap_or_default()
    }

    #[test]
    fn every_flag_of_every_route_reads_each_spelling_as_documented() {
        for (method, path, params) in ROUTES {
            for p in params.iter().filter(|p| p.kind == Kind::Flag) {
                // Present without a value: true.
                let alone = status(p.name, params).expect("a flag alone");
                assert!(alone.flag(p.name), "{method} {path} ?{}", p.name);
                // Absent: false.
                assert!(!status("", params).expect("no query").flag(p.name));
                for (spelling, expected) in spellings() {
                    let raw = format!("{}={}", p.name, spelling);
                    match (status(&raw, params), expected) {
                        (Ok(q), Some(b)) => {
                            assert_eq!(q.flag(p.name), b, "{method} {path} ?{raw}")
                        }
                        (Err(400), None) => {}
                        (got, _) => {
                            panic!("{method} {path} ?{raw}: {got:?}, expected {expected:?}")
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_flag_given_twice_or_an_unknown_parameter_is_refused() {
        assert_eq!(
            status("dry_run&dry_run=false", USERS_IMPORT).unwrap_err(),
            400
        );
        let e = Query::parse(Some("dryrun=true"), USERS_IMPORT).unwrap_err();
        assert_eq!(e.body["errors"][0]["code"], "query.unknown");
        assert_eq!(e.body["errors"][0]["parameter"], "dryrun");
        assert!(
            e.body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("did you mean 'dry_run'"),
            "{}",
            e.body
        );
        assert_eq!(status("limit=-1", USERS_LIST).unwrap_err(), 400);
        assert_eq!(status("limit=+1", USERS_LIST).unwrap_err(), 400);
        assert_eq!(status("limit=", USERS_LIST).unwrap_err(), 400);
        assert_eq!(status("x", NONE).unwrap_err(), 400);
        assert_eq!(
            status("search=a%20b&limit=2", USERS_LIST)
                .unwrap()
                .text("search"),
            Some("a b")
        );
    }

    proptest! {
        /// Whatever the query, a dry run is either read as a dry run or refused: no
        /// spelling of `dry_run` reads as false unless it is one of FALSE's.
        #[test]
        fn no_spelling_of_dry_run_reads_as_a_real_import(value in "\\PC{0,8}", case in any::<bool>()) {
            let name = if case { "dry_run" } else { "DRY_RUN" };
            let raw = format!("{name}={}", form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>());
            match Query::parse(Some(&raw), USERS_IMPORT) {
                Ok(q) => {
                    prop_assert!(case, "an unknown name was accepted: {raw}");
                    let is_false = FALSE.iter().any(|f| f.eq_ignore_ascii_case(&value));
                    prop_assert_eq!(q.flag("dry_run"), !is_false, "{}", raw);
                }
                Err(e) => prop_assert_eq!(e.status.as_u16(), 400),
            }
        }
    }
}
