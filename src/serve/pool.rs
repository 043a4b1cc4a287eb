//! Open stores kept between requests: opening one costs a connection (and, on PostgreSQL, a
//! sign-in to the server), so each request borrows one and gives it back.

use crate::error::Result;
use crate::store::Store;
use std::path::PathBuf;
use std::sync::Mutex;

/// The most stores kept idle.
const IDLE: usize = 16;

/// Stores of one database.
pub struct Pool {
    db: PathBuf,
    idle: Mutex<Vec<Store>>,
    /// The listing totals every store of the pool shares.
    counts: crate::store::listing::SharedCounts,
}

impl Pool {
    pub fn new(db: PathBuf) -> Self {
        Pool {
            db,
            idle: Mutex::new(Vec::new()),
            counts: Default::default(),
        }
    }

    /// A store (blocking: opens one when none is idle).
    pub fn get(&self) -> Result<Pooled<'_>> {
        // A store whose connection the server ended (it restarted, or an administrator
        // cut it) is dropped, and a new one opened: the server reconnects by itself. A
        // PostgreSQL connection learns that it was cut only when used: it is asked first.
        let alive =
            |store: &Store| store.usable() && (!store.is_postgres() || store.ping().is_ok());
        let idle = std::iter::from_fn(|| self.idle.lock().ok().and_then(|mut idle| idle.pop()))
            .find(alive);
        let store = match idle {
            Some(store) => store,
            None => {
                let mut store = Store::open(&self.db)?;
                store.share_counts(&self.counts);
                store
            }
        };
        Ok(Pooled {
            pool: self,
            store: Some(store),
        })
    }
}

/// A store borrowed from the pool, given back when dropped (if still usable).
pub struct Pooled<'p> {
    pool: &'p Pool,
    store: Option<Store>,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.store
            .as_ref()
            .expect("a pooled store is held until dropped")
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        self.store
            .as_mut()
            .expect("a pooled store is held until dropped")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(store) = self.store.take() {
            if store.usable() {
                store.idle();
                if let Ok(mut idle) = self.pool.idle.lock() {
                    if idle.len() < IDLE {
                        idle.push(store);
                    }
                }
            }
        }
    }
}
