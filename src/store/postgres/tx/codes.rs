//! Provisioning codes: the ranges of codes this writer claims with advisory locks, draws
//! from, and releases when the transaction ends.

use super::PgTx;
use crate::error::Result;

/// The namespace of the advisory locks on ranges of provisioning codes (see
/// [`Codes`]).
const CODE_LOCKS: i32 = 0x7563_7376;

/// Provisioning codes per range claimed (codes 100000 to 999999: 900 ranges).
const CODE_RANGE: u32 = 1000;

/// Codes drawn per code of the ranges held, before another range is claimed: the ranges
/// held stay at most half used, so a draw rarely hits a code already stored.
const CODES_PER_RANGE: u64 = CODE_RANGE as u64 / 2;

/// The ranges of provisioning codes this writer draws from. Codes are random draws from a
/// small space (900,000), so two large imports at once would draw the same codes; each
/// would then wait on the other's uncommitted row and they could deadlock. Instead, each
/// writer claims ranges of a thousand codes with a session advisory lock taken without
/// waiting (a range another writer holds is not taken), and draws only from its own
/// ranges: generated codes of two writers never collide. One lock per range keeps the
/// server's lock table small whatever the size of the import. Session locks, not
/// transaction locks, so that rolling a batch back to its savepoint keeps them; they are
/// released when the transaction ends.
#[derive(Default)]
pub(super) struct Codes {
    /// The ranges held (a range is its first code / [`CODE_RANGE`]).
    held: Vec<u32>,
    /// Codes drawn so far.
    drawn: u64,
    /// Codes drawn by the batch being planned.
    batch_drawn: u64,
}

impl PgTx<'_> {
    pub(super) fn provisioning_code(&self) -> Result<String> {
        use rand::Rng;
        let full = {
            let c = self.codes.borrow();
            c.drawn >= c.held.len() as u64 * CODES_PER_RANGE
        };
        if full && !self.claim_range()? && self.codes.borrow().held.is_empty() {
            // Every range is held by other writers: a code from anywhere (a collision is
            // then refused by the unique index, as for a given code).
            return Ok(crate::record::generate_provisioning_code());
        }
        let mut codes = self.codes.borrow_mut();
        codes.drawn += 1;
        codes.batch_drawn += 1;
        let mut rng = rand::thread_rng();
        let range = codes.held[rng.gen_range(0..codes.held.len())];
        Ok((range * CODE_RANGE + rng.gen_range(0..CODE_RANGE)).to_string())
    }

    /// Before a batch is handed to the worker: ranges enough to draw as many codes again
    /// as the batch drew.
    pub(super) fn codes_ready(&self) -> Result<()> {
        let wanted = std::mem::take(&mut self.codes.borrow_mut().batch_drawn);
        while {
            let c = self.codes.borrow();
            (c.held.len() as u64 * CODES_PER_RANGE).saturating_sub(c.drawn) < wanted
        } {
            if !self.claim_range()? {
                break;
            }
        }
        Ok(())
    }

    /// Claims another range of provisioning codes (see [`Codes`]), trying random ranges
    /// until one is free; `false` when none was.
    fn claim_range(&self) -> Result<bool> {
        use rand::Rng;
        let st = self
            .statement("SELECT pg_try_advisory_lock($1, CAST($2 AS INTEGER))")
            .map_err(|e| self.db(e))?;
        for _ in 0..64 {
            let range: i32 = rand::thread_rng().gen_range(100..1000);
            if self.codes.borrow().held.contains(&(range as u32)) {
                continue;
            }
            let got: bool = self
                .client
                .borrow_mut()
                .query_one(&st, &[&CODE_LOCKS, &range])
                .map_err(|e| self.db(e))?
                .get(0);
            if got {
                self.codes.borrow_mut().held.push(range as u32);
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Releases the ranges of provisioning codes held (at the end of the transaction).
    pub(super) fn release_ranges(&self) -> std::result::Result<(), postgres::Error> {
        let held: Vec<i32> = std::mem::take(&mut self.codes.borrow_mut().held)
            .into_iter()
            .map(|r| r as i32)
            .collect();
        if held.is_empty() {
            return Ok(());
        }
        self.client.borrow_mut().execute(
            "SELECT pg_advisory_unlock($1, r) FROM unnest(CAST($2 AS INTEGER[])) r",
            &[&CODE_LOCKS, &held],
        )?;
        Ok(())
    }
}
