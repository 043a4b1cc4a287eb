//! The phone line and its internal extension.

use super::Fields;
use crate::columns::{Col, Group};
use crate::error::RowError;
use rand::distributions::{Alphanumeric, DistString};
use rand::Rng;

/// A line's protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// SIP: has SIP credentials.
    Sip,
    /// SCCP (Cisco Skinny): no SIP credentials.
    Sccp,
    /// WebRTC: SIP credentials, used from a browser.
    Webrtc,
}

impl Protocol {
    /// Parses a checked `line_protocol` cell.
    pub fn parse(s: &str) -> Option<Protocol> {
        match s {
            "sip" => Some(Protocol::Sip),
            "sccp" => Some(Protocol::Sccp),
            "webrtc" => Some(Protocol::Webrtc),
            _ => None,
        }
    }
    /// The name stored and exported.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Sip => "sip",
            Protocol::Sccp => "sccp",
            Protocol::Webrtc => "webrtc",
        }
    }
    /// Whether the line has SIP credentials.
    pub fn has_sip(self) -> bool {
        self != Protocol::Sccp
    }
}

/// A phone line.
#[derive(Clone, Debug)]
pub struct Line {
    /// The protocol.
    pub protocol: Protocol,
    /// The internal context (checked against the reference data when planned).
    pub context: String,
    /// SIP user name (sip/webrtc), given or generated.
    pub sip_username: Option<String>,
    /// Whether `sip_username` was generated (and may be drawn again on a collision).
    pub sip_username_generated: bool,
    /// SIP secret (sip/webrtc), given or generated.
    pub sip_secret: Option<String>,
    /// The 6-digit provisioning code, if given (generated when planned, to avoid collisions).
    pub provisioning_code: Option<String>,
}

impl Line {
    /// Builds the line group; SIP credentials on an sccp line are refused.
    pub fn build(f: &mut Fields) -> Option<Line> {
        if !f.group_filled(Group::Line) || !f.require(Group::Line) {
            return None;
        }
        let protocol = Protocol::parse(f.value(Col::LineProtocol)?.as_text()?)?;
        if !protocol.has_sip() {
            for col in [Col::SipUsername, Col::SipSecret] {
                if f.filled(col) {
                    f.push(RowError::new(
                        col,
                        "not_applicable",
                        format!("{} applies to sip and webrtc lines, not sccp", col.name()),
                    ));
                }
            }
        }
        Some(Line {
            protocol,
            context: f.take_text(Col::Context)?,
            sip_username: f.take_text(Col::SipUsername),
            sip_username_generated: false,
            sip_secret: f.take_text(Col::SipSecret),
            provisioning_code: f.take_text(Col::ProvisioningCode),
        })
    }

    /// Fills in the SIP credentials a sip/webrtc line needs and the file left empty.
    pub fn with_generated(mut self) -> Line {
        if self.protocol.has_sip() {
            if self.sip_username.is_none() {
                self.sip_username = Some(generate_sip_username());
                self.sip_username_generated = true;
            }
            if self.sip_secret.is_none() {
                self.sip_secret = Some(Alphanumeric.sample_string(&mut rand::thread_rng(), 16));
            }
        }
        self
    }
}

/// A random SIP user name: 8 lowercase letters and digits.
pub fn generate_sip_username() -> String {
    Alphanumeric
        .sample_string(&mut rand::thread_rng(), 8)
        .to_ascii_lowercase()
}

/// A random 6-digit provisioning code (never starting with 0, so spreadsheets keep it).
pub fn generate_provisioning_code() -> String {
    rand::thread_rng().gen_range(100_000..1_000_000).to_string()
}

/// Builds the extension group: `exten` needs a line.
pub fn build_exten(f: &mut Fields) -> Option<String> {
    if !f.group_filled(Group::Extension) {
        return None;
    }
    if !f.group_filled(Group::Line) {
        f.push(RowError::new(
            Col::Exten,
            "needs_line",
            "an extension needs a line: fill line_protocol and context",
        ));
        return None;
    }
    f.take_text(Col::Exten)
}
