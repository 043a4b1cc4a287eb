//! The one-user operations beside create (import) and patch (update): show, list and
//! delete. They ask the store through the same [`Tx`](crate::domain::port::Tx) seam, so every
//! door (the batch commands, `ucsv user`, the server) gets the same answers and rules.

use super::Domain;
use crate::columns::Col;
use crate::domain::port::{Filter, Page, UserKey, UserView};
use crate::error::{Result, RowError};

/// How to delete a user.
#[derive(Clone, Copy, Debug, Default)]
pub struct DeleteOptions {
    /// Delete the voicemail box the user alone has, instead of refusing.
    pub delete_voicemail: bool,
}

/// What a delete removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deleted {
    /// The user's id.
    pub user_id: i64,
    /// The user's UUID.
    pub user_uuid: String,
    /// The voicemail box deleted with the user (a box shared with others stays).
    pub voicemail_id: Option<i64>,
}

impl Domain<'_> {
    /// The user named by `key` (in the run's entity, if `--entity` was given).
    pub fn show(&self, key: &UserKey) -> Result<Option<UserView>> {
        Ok(self.show_with_voicemail(key)?.map(|(view, _)| view))
    }

    /// The user named by `key`, with the id of its voicemail box (if it has one).
    pub fn show_with_voicemail(&self, key: &UserKey) -> Result<Option<(UserView, Option<i64>)>> {
        Ok(self.tx.stored_user(key, self.scope)?.map(|u| {
            (
                UserView {
                    id: u.user_id,
                    cells: u.cells.to_vec(),
                },
                u.voicemail_id,
            )
        }))
    }

    /// A page of the users `filter` keeps, in id order, and how many it keeps in all.
    pub fn list(&self, filter: &Filter, page: Page) -> Result<(Vec<UserView>, u64)> {
        self.tx.list_users(filter, page)
    }

    /// Deletes the user named by `key` with its line, extension, incoming numbers, call
    /// permissions and login. A voicemail box shared with another user stays; a box the user
    /// alone has is refused (`user.owns_voicemail`) unless `opts.delete_voicemail`, which
    /// deletes it too. `Ok(Err(..))` is a refusal: nothing was written.
    pub fn delete(
        &mut self,
        key: &UserKey,
        opts: DeleteOptions,
    ) -> Result<std::result::Result<Deleted, RowError>> {
        let Some(user) = self.tx.stored_user(key, self.scope)? else {
            let named = match key {
                UserKey::Uuid(u) => format!("uuid {u}"),
                UserKey::Id(id) => format!("id {id}"),
            };
            return Ok(Err(RowError::with_code(
                None,
                "user.unknown",
                format!("no user has {named}"),
            )));
        };
        self.delete_stored(user, opts)
    }

    /// [`Domain::delete`] of a user already read (see [`crate::domain::port::Tx::stored_users`]).
    pub(crate) fn delete_stored(
        &mut self,
        user: crate::domain::port::StoredUser,
        opts: DeleteOptions,
    ) -> Result<std::result::Result<Deleted, RowError>> {
        let mut voicemail = None;
        if let Some(v) = user.voicemail_id {
            if self.tx.voicemail_users(v)? <= 1 {
                if !opts.delete_voicemail {
                    return Ok(Err(RowError::with_code(
                        None,
                        "user.owns_voicemail",
                        format!(
                            "the user has the voicemail box {}@{} to itself: delete it too \
                             (--delete-voicemail) or give it to someone else first",
                            &user.cells[Col::VoicemailNumber as usize],
                            &user.cells[Col::VoicemailContext as usize]
                        ),
                    )));
                }
                voicemail = Some(v);
            }
        }
        self.note_changed(super::port::history::Action::Deleted, &user)?;
        self.tx.delete_user(user.user_id)?;
        Ok(Ok(Deleted {
            user_id: user.user_id,
            user_uuid: user.cells[Col::Uuid as usize].to_string(),
            voicemail_id: voicemail,
        }))
    }
}

impl Domain<'_> {
    /// Creates a user from a draft (see [`crate::record::draft`]): the rules of an import
    /// row, the same outcome.
    pub fn create(&mut self, draft: &crate::record::Parsed) -> Result<super::RowOutcome> {
        let outcome = self.import(draft)?;
        if let Ok((created, _)) = &outcome {
            self.note_created(created);
        }
        Ok(outcome)
    }

    /// Changes the given columns of the user with `uuid`, with update's rules (an empty text
    /// unsets; the merged record is checked).
    pub fn patch(
        &mut self,
        uuid: &str,
        cells: &[(Col, &str)],
    ) -> Result<super::update::UpdateOutcome> {
        let mut all = vec![(Col::Uuid, uuid)];
        all.extend_from_slice(cells);
        let (header, raw) = crate::record::row_of(&all, 1);
        let row = match crate::record::parse_update(&header, &raw) {
            Ok(row) => row,
            Err(errors) => return Ok(Err(errors)),
        };
        let scope = self.scope;
        self.update(row, scope)
    }
}
