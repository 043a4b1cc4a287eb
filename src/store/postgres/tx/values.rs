//! The values written: a [`Val`] goes to a COPY buffer (in COPY's text format) or becomes a
//! statement's parameter; the values of a user, line or voicemail row, in the order of
//! their columns.

use crate::columns::Col;
use crate::domain::port::{LineRow, UserRow};
use crate::record::{self, Value};
use crate::store::sql::Param;
use std::borrow::Cow;
use std::io::Write as _;

/// A value as written: to a COPY buffer or as a parameter.
#[derive(Clone, Debug)]
pub(super) enum Val<'a> {
    Null,
    Int(i64),
    Text(Cow<'a, str>),
}

impl<'a> Val<'a> {
    pub(super) fn text(s: Option<&'a str>) -> Self {
        s.map_or(Val::Null, |s| Val::Text(Cow::Borrowed(s)))
    }

    pub(super) fn int(i: Option<i64>) -> Self {
        i.map_or(Val::Null, Val::Int)
    }

    pub(super) fn param(&self) -> Param<'_> {
        match self {
            Val::Null => Param::Null,
            Val::Int(i) => Param::Int(*i),
            Val::Text(s) => Param::Text(s),
        }
    }

    /// Appends the value in COPY's text format.
    pub(super) fn copy(&self, buf: &mut Vec<u8>) {
        match self {
            Val::Null => buf.extend_from_slice(b"\\N"),
            Val::Int(i) => {
                let _ = write!(buf, "{i}");
            }
            Val::Text(s) => {
                for b in s.bytes() {
                    match b {
                        b'\\' => buf.extend_from_slice(b"\\\\"),
                        b'\t' => buf.extend_from_slice(b"\\t"),
                        b'\n' => buf.extend_from_slice(b"\\n"),
                        b'\r' => buf.extend_from_slice(b"\\r"),
                        _ => buf.push(b),
                    }
                }
            }
        }
    }
}

/// A checked cell as stored; an empty cell takes the column's default.
pub(super) fn field(col: Col, v: Option<&Value>) -> Val<'_> {
    match v {
        Some(Value::Text(s)) => Val::Text(Cow::Borrowed(s)),
        Some(Value::Int(i)) => Val::Int(*i),
        Some(Value::Bool(b)) => Val::Int(i64::from(*b)),
        Some(Value::List(items)) => Val::Text(Cow::Owned(items.join(";"))),
        None => match col.def().rule {
            crate::columns::Rule::Bool { default: Some(b) } => Val::Int(i64::from(b)),
            crate::columns::Rule::Int {
                default: Some(d), ..
            } => Val::Int(d),
            _ => Val::Null,
        },
    }
}

/// The values of a user row after its id, in the order of [`user_columns`].
pub(super) fn user_values<'a>(u: &'a UserRow<'a>) -> Vec<Val<'a>> {
    let mut values = vec![
        Val::Text(Cow::Borrowed(u.uuid)),
        Val::Int(u.entity),
        Val::text(u.username),
        Val::text(u.password_hash),
        Val::Int(i64::from(u.cti_profile_enabled)),
        Val::int(u.cti_profile),
    ];
    values.extend(
        record::user_fields()
            .zip(u.fields)
            .map(|(c, v)| field(c, v.as_ref())),
    );
    values
}

/// The columns of `users` a user row fills, after its id.
pub(super) fn user_columns() -> Vec<&'static str> {
    let mut cols = vec![
        "uuid",
        "entity_id",
        "username",
        "password_hash",
        "cti_profile_enabled",
        "cti_profile_id",
    ];
    cols.extend(record::user_fields().map(Col::name));
    cols
}

pub(super) fn line_values<'a>(user_id: i64, l: &'a LineRow<'a>) -> Vec<Val<'a>> {
    vec![
        Val::Int(user_id),
        Val::text(Some(l.protocol)),
        Val::text(Some(l.context)),
        Val::text(l.sip_username),
        Val::text(l.sip_secret),
        Val::text(l.provisioning_code),
    ]
}

pub(super) fn voicemail_values(vm: &record::Voicemail) -> Vec<Val<'_>> {
    vec![
        Val::text(Some(&vm.name)),
        Val::text(Some(&vm.number)),
        Val::text(Some(&vm.context)),
        Val::text(vm.password.as_deref()),
        Val::text(vm.email.as_deref()),
        Val::Int(i64::from(vm.attach_audio)),
        Val::Int(i64::from(vm.delete_messages)),
        Val::Int(i64::from(vm.ask_password)),
    ]
}

/// A value that owns its text (for statements built from several borrowed rows).
pub(super) fn own(v: Val<'_>) -> Val<'static> {
    match v {
        Val::Null => Val::Null,
        Val::Int(i) => Val::Int(i),
        Val::Text(s) => Val::Text(Cow::Owned(s.into_owned())),
    }
}
