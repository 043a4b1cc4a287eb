//! The voicemail box and the call permissions.

use super::Fields;
use crate::columns::{Col, Group};
use crate::error::RowError;

/// A voicemail box, found by `number@context` or created.
#[derive(Clone, Debug)]
pub struct Voicemail {
    /// Box name.
    pub name: String,
    /// Box number.
    pub number: String,
    /// Box context.
    pub context: String,
    /// PIN.
    pub password: Option<String>,
    /// Where messages are e-mailed.
    pub email: Option<String>,
    /// Attach the audio to e-mails.
    pub attach_audio: bool,
    /// Delete messages once e-mailed.
    pub delete_messages: bool,
    /// Ask the PIN.
    pub ask_password: bool,
}

impl Voicemail {
    /// Builds the voicemail group; deleting messages needs an e-mail address to send them to.
    pub fn build(f: &mut Fields) -> Option<Voicemail> {
        if !f.group_filled(Group::Voicemail) || !f.require(Group::Voicemail) {
            return None;
        }
        let delete_messages = f.bool(Col::VoicemailDeleteMessages).unwrap_or(false);
        if delete_messages && !f.filled(Col::VoicemailEmail) {
            f.push(RowError::new(
                Col::VoicemailEmail,
                "required",
                "voicemail_email is required when voicemail_delete_messages is 1",
            ));
        }
        Some(Voicemail {
            name: f.take_text(Col::VoicemailName)?,
            number: f.take_text(Col::VoicemailNumber)?,
            context: f.take_text(Col::VoicemailContext)?,
            password: f.take_text(Col::VoicemailPassword),
            email: f.take_text(Col::VoicemailEmail),
            attach_audio: f.bool(Col::VoicemailAttachAudio).unwrap_or(false),
            delete_messages,
            ask_password: f.bool(Col::VoicemailAskPassword).unwrap_or(true),
        })
    }
}

/// The call permission names of the row, sorted and without repeats.
pub fn build_permissions(f: &mut Fields) -> Option<Vec<String>> {
    let mut names = f.take_list(Col::CallPermissions)?;
    names.retain(|n| !n.is_empty());
    names.sort();
    names.dedup();
    Some(names)
}
