//! The bulk path: a batch's rows encoded into COPY buffers, one a table, with ids drawn
//! ahead from the sequences; the batch's savepoint; the worker thread that sends a batch
//! while the next is planned, or the rows sent sooner when a statement needs them; a
//! batch refused taken back, and the rest of its pass spoiled.

use super::values::Val;
use super::PgTx;
use crate::domain::port::{BatchEnd, Table};
use crate::error::Result;
use postgres::Client;
use std::io::Write as _;

/// At most how many ids are drawn from a sequence at a time. The first draw of a run takes
/// 16 and each next one twice as many, so that a small import leaves small gaps.
const ID_BLOCK: i64 = 2048;

/// The tables written by COPY, in the order their rows can be sent (referenced rows first).
pub(super) const COPIED: [(Table, &str); 7] = [
    (Table::Users, ""),
    (Table::Lines, "COPY lines (id, user_id, protocol, context, sip_username, sip_secret, provisioning_code) FROM STDIN"),
    (Table::Extensions, "COPY extensions (id, exten, context, line_id) FROM STDIN"),
    (Table::Incalls, "COPY incalls (id, user_id, extension_id, ring_seconds) FROM STDIN"),
    (Table::Voicemails, "COPY voicemails (id, name, number, context, password, email, attach_audio, delete_messages, ask_password) FROM STDIN"),
    (Table::UserVoicemails, "COPY user_voicemails (user_id, voicemail_id) FROM STDIN"),
    (Table::UserCallPermissions, "COPY user_call_permissions (user_id, call_permission_id) FROM STDIN"),
];

/// The sequences ids are drawn from, by table.
fn sequence(table: Table) -> &'static str {
    match table {
        Table::Users => "users_id_seq",
        Table::Lines => "lines_id_seq",
        Table::Extensions => "extensions_id_seq",
        Table::Incalls => "incalls_id_seq",
        Table::Voicemails => "voicemails_id_seq",
        Table::UserVoicemails | Table::UserCallPermissions => unreachable!("keyed by user"),
    }
}

fn slot(table: Table) -> usize {
    COPIED
        .iter()
        .position(|(t, _)| *t == table)
        .unwrap_or_default()
}

/// Rows waiting to be sent, and ids drawn ahead.
#[derive(Default)]
pub(super) struct Pending {
    /// COPY text per table of [`COPIED`].
    buffers: [Vec<u8>; 7],
    /// Whether any buffer holds a row.
    pub(super) any: bool,
    /// Ids drawn from each sequence and not used yet (by [`slot`] of the table).
    ids: [Vec<i64>; 5],
    /// How many ids the next draw from each sequence takes.
    block: [i64; 5],
    /// Ids of each sequence used by the batch being planned.
    used: [usize; 5],
}

/// The COPY of a batch, for the worker.
struct Job {
    buffers: Vec<Vec<u8>>,
    /// Whether the batch's savepoint is open already (rows were sent sooner).
    open: bool,
}

/// The thread that sends batches while the next one is planned.
pub(super) struct Worker {
    jobs: Option<std::sync::mpsc::Sender<Job>>,
    results: std::sync::mpsc::Receiver<Result<bool>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Sends a batch's COPY buffers inside its savepoint (opened first unless `open`). Kept:
/// the savepoint is released when `release`, and `true`. Refused by a unique index (or a
/// deadlock with another writer): taken back to the savepoint, and `false`.
fn copy_batch(
    client: &mut Client,
    copy_users: &str,
    path: &std::path::Path,
    buffers: &[Vec<u8>],
    open: bool,
    release: bool,
) -> Result<bool> {
    let db = |e| crate::store::postgres::error(path, e);
    if !open {
        client.batch_execute("SAVEPOINT ucsv_batch").map_err(db)?;
    }
    for ((_, copy), buf) in COPIED.iter().zip(buffers) {
        if buf.is_empty() {
            continue;
        }
        let copy = if copy.is_empty() { copy_users } else { *copy };
        let sent = (|| {
            let mut writer = client.copy_in(copy)?;
            writer
                .write_all(buf)
                .map_err(|e| std::io::Error::other(e.to_string()))
                .ok();
            writer.finish()
        })();
        if let Err(e) = sent {
            let code = e.as_db_error().map(|d| d.code().code().to_string());
            if matches!(code.as_deref(), Some("23505" | "40P01")) {
                client
                    .batch_execute("ROLLBACK TO SAVEPOINT ucsv_batch; RELEASE SAVEPOINT ucsv_batch")
                    .map_err(db)?;
                return Ok(false);
            }
            return Err(db(e));
        }
    }
    if release {
        client
            .batch_execute("RELEASE SAVEPOINT ucsv_batch")
            .map_err(db)?;
    }
    Ok(true)
}

impl PgTx<'_> {
    pub(super) fn begin_batch(&self, bulk: bool) -> Result<()> {
        self.spoiled.set(false);
        self.held_refused.set(false);
        self.open.set(false);
        self.bulk.set(bulk);
        if !bulk {
            // A careful batch writes at once: nothing may be in flight (the caller settles
            // a held batch first).
            if self.wait()? == Some(false) {
                return Err(self.db_message("a batch was taken back without being replayed"));
            }
            self.batch("SAVEPOINT ucsv_batch")?;
        }
        Ok(())
    }

    pub(super) fn end_batch(&self) -> Result<BatchEnd> {
        if !self.bulk.get() {
            self.batch("RELEASE SAVEPOINT ucsv_batch")?;
            return Ok(BatchEnd::Kept);
        }
        self.bulk.set(false);
        if self.spoiled.get() {
            // Taken back while sending rows sooner (the savepoint is released).
            self.take_buffers();
            return Ok(BatchEnd::Refused {
                held_kept: !self.held_refused.get(),
            });
        }
        // (Rows sent sooner already waited for the held batch: none is in flight then.)
        if self.wait()? == Some(false) {
            self.take_buffers();
            return Ok(BatchEnd::Refused { held_kept: false });
        }
        if !self.pending.borrow().any && !self.open.get() {
            return Ok(BatchEnd::Kept);
        }
        let buffers = self.take_buffers();
        self.ready_for_next()?;
        self.hand_over(Job {
            buffers,
            open: self.open.get(),
        })?;
        Ok(BatchEnd::Held)
    }

    pub(super) fn settle(&self) -> Result<bool> {
        Ok(self.wait()?.unwrap_or(true))
    }

    /// Writes a row into its table's COPY buffer, with an id drawn ahead. Returns the row's
    /// id (for tables keyed by user, the user id given first).
    pub(super) fn copy_row(&self, table: Table, values: &[Val<'_>]) -> Result<i64> {
        let keyed_by_user = matches!(table, Table::UserVoicemails | Table::UserCallPermissions);
        let id = if keyed_by_user {
            None
        } else {
            Some(self.next_id(table)?)
        };
        if table == Table::Users {
            self.copied.set(self.copied.get() + 1);
        }
        let mut pending = self.pending.borrow_mut();
        pending.any = true;
        let buf = &mut pending.buffers[slot(table)];
        let mut first = true;
        for v in id.map(Val::Int).iter().chain(values) {
            if !first {
                buf.push(b'\t');
            }
            first = false;
            v.copy(buf);
        }
        buf.push(b'\n');
        Ok(id.unwrap_or_else(|| {
            values.first().map_or(0, |v| match v {
                Val::Int(i) => *i,
                _ => 0,
            })
        }))
    }

    /// An id drawn ahead from the table's sequence.
    fn next_id(&self, table: Table) -> Result<i64> {
        let i = slot(table);
        self.pending.borrow_mut().used[i] += 1;
        if self.pending.borrow().ids[i].is_empty() {
            let block = match self.pending.borrow().block[i] {
                0 => 16,
                b => b,
            };
            self.draw(i, block)?;
        }
        Ok(self.pending.borrow_mut().ids[i].pop().unwrap_or_default())
    }

    /// Draws `n` more ids from the sequence of slot `i` (the next draw takes twice as many,
    /// up to [`ID_BLOCK`]).
    fn draw(&self, i: usize, n: i64) -> Result<()> {
        let table = COPIED[i].0;
        let st = self
            .statement(&format!(
                "SELECT nextval('{}') FROM generate_series(1, CAST($1 AS BIGINT)) ORDER BY 1 DESC",
                sequence(table)
            ))
            .map_err(|e| self.db(e))?;
        {
            let mut pending = self.pending.borrow_mut();
            pending.block[i] = (n.max(pending.block[i]) * 2).min(ID_BLOCK);
        }
        let rows = self
            .client
            .borrow_mut()
            .query(&st, &[&n])
            .map_err(|e| self.db(e))?;
        // Largest first: ids are taken from the end, smallest first; the ids left from an
        // earlier draw are smaller still.
        let mut ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        let mut pending = self.pending.borrow_mut();
        ids.append(&mut pending.ids[i]);
        pending.ids[i] = ids;
        Ok(())
    }

    /// Before a batch is handed to the worker: as many ids and provisioning codes ready as
    /// the batch used, so that planning the next one rarely needs the connection (it would
    /// wait for the worker).
    fn ready_for_next(&self) -> Result<()> {
        for i in 0..5 {
            let (have, used) = {
                let p = self.pending.borrow();
                (p.ids[i].len(), p.used[i])
            };
            if have < used {
                self.draw(i, (used - have) as i64)?;
            }
        }
        self.pending.borrow_mut().used = [0; 5];
        self.codes_ready()
    }

    /// What the worker made of the batch it was sending, if it was sending one: `true`
    /// kept, `false` taken back.
    fn wait(&self) -> Result<Option<bool>> {
        if !self.in_flight.get() {
            return Ok(None);
        }
        self.in_flight.set(false);
        let worker = self.worker.borrow();
        let result = worker
            .as_ref()
            .ok_or_else(|| self.db_message("the batch being sent was lost"))?
            .results
            .recv()
            .map_err(|_| self.db_message("the thread sending batches stopped"))?;
        result.map(Some)
    }

    /// The COPY buffers, emptied.
    fn take_buffers(&self) -> Vec<Vec<u8>> {
        let mut pending = self.pending.borrow_mut();
        pending.any = false;
        pending.buffers.iter_mut().map(std::mem::take).collect()
    }

    /// Sends the pending rows of a bulk batch now, because a statement is about to need
    /// them (a probe sees every row before it). The batch's savepoint stays open. If the
    /// batch held before was taken back, or these rows are refused, the rest of the pass
    /// is discarded and its end says so.
    pub(super) fn send_sooner(&self) -> Result<()> {
        if !self.bulk.get() || self.spoiled.get() {
            return Ok(());
        }
        if self.wait()? == Some(false) {
            self.held_refused.set(true);
            self.spoiled.set(true);
            self.take_buffers();
            return Ok(());
        }
        if !self.pending.borrow().any {
            return Ok(());
        }
        let buffers = self.take_buffers();
        let kept = copy_batch(
            &mut self.client.borrow_mut(),
            &self.copy_users,
            &self.path,
            &buffers,
            self.open.get(),
            false,
        )?;
        self.open.set(kept);
        if !kept {
            self.spoiled.set(true);
        }
        Ok(())
    }

    /// Hands the batch to the worker (started on first use).
    fn hand_over(&self, job: Job) -> Result<()> {
        let mut worker = self.worker.borrow_mut();
        if worker.is_none() {
            let (jobs, inbox) = std::sync::mpsc::channel::<Job>();
            let (outbox, results) = std::sync::mpsc::channel();
            let conn = self.client.clone();
            let copy_users = self.copy_users.clone();
            let path = self.path.clone();
            let thread = std::thread::Builder::new()
                .name("ucsv-copy".into())
                .spawn(move || {
                    for job in inbox {
                        let result = copy_batch(
                            &mut conn.borrow_mut(),
                            &copy_users,
                            &path,
                            &job.buffers,
                            job.open,
                            true,
                        );
                        if outbox.send(result).is_err() {
                            break;
                        }
                    }
                })
                .map_err(|e| self.db_message(&format!("cannot start a thread: {e}")))?;
            *worker = Some(Worker {
                jobs: Some(jobs),
                results,
                thread: Some(thread),
            });
        }
        worker
            .as_ref()
            .and_then(|w| w.jobs.as_ref())
            .ok_or_else(|| self.db_message("the thread sending batches stopped"))?
            .send(job)
            .map_err(|_| self.db_message("the thread sending batches stopped"))?;
        self.in_flight.set(true);
        Ok(())
    }
}
