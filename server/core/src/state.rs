//! The storage seam: the state machine reads and writes ordered byte tables through
//! [`StateRead`] / [`StateTxn`]. `corvo-store` implements them over redb; [`MemState`] is an
//! in-memory implementation for tests and tools.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::keys::Table;

/// A storage failure. Fatal for the node: the state machine cannot continue on a disk that
/// fails or returns corrupt data.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage: {0}")]
    Io(String),
    #[error("corrupt record in table {table:?} at key {key:02x?}: {reason}")]
    Corrupt {
        table: Table,
        key: Vec<u8>,
        reason: String,
    },
}

/// One table row: key and value.
pub type Row = (Vec<u8>, Vec<u8>);

/// A job an apply wrote or deleted, for those who follow the state (the read view).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobWrite {
    pub id: String,
    pub change: JobChange,
}

/// What happened to a job's record (the `Jobs` value, see [`crate::keys`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobChange {
    /// Written: the record as the apply left it, or `None` when it is not carried here and
    /// must be read from the state.
    Written(Option<Vec<u8>>),
    /// Deleted: the record it had.
    Deleted(Vec<u8>),
}

/// Ordered read access to the state tables.
pub trait StateRead {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Up to `limit` entries with `start <= key < end`, in key order.
    fn range(
        &self,
        table: Table,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<Row>, StoreError>;

    /// How many entries have `start <= key < end`, counting at most `limit`.
    fn count(
        &self,
        table: Table,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<usize, StoreError> {
        Ok(self.range(table, start, end, limit)?.len())
    }

    /// The first entry with `start <= key < end`.
    fn first(&self, table: Table, start: &[u8], end: &[u8]) -> Result<Option<Row>, StoreError> {
        Ok(self.range(table, start, end, 1)?.into_iter().next())
    }
}

/// Read-write access inside one transaction.
pub trait StateTxn: StateRead {
    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<(), StoreError>;
    fn delete(&mut self, table: Table, key: &[u8]) -> Result<(), StoreError>;

    /// Deletes every entry with `start <= key < end`.
    fn delete_range(&mut self, table: Table, start: &[u8], end: &[u8]) -> Result<(), StoreError> {
        for (key, _) in self.range(table, start, end, usize::MAX)? {
            self.delete(table, &key)?;
        }
        Ok(())
    }
}

/// All tables in memory. Deterministic iteration order, so two `MemState`s fed the same
/// batches compare equal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemState {
    tables: BTreeMap<Table, BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl MemState {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of entries in a table.
    pub fn len(&self, table: Table) -> usize {
        self.tables.get(&table).map_or(0, BTreeMap::len)
    }

    pub fn is_empty(&self) -> bool {
        self.tables.values().all(BTreeMap::is_empty)
    }
}

impl StateRead for MemState {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tables.get(&table).and_then(|t| t.get(key)).cloned())
    }

    fn range(
        &self,
        table: Table,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<Row>, StoreError> {
        let Some(t) = self.tables.get(&table) else {
            return Ok(Vec::new());
        };
        if start >= end {
            return Ok(Vec::new());
        }
        Ok(
            t.range::<[u8], _>((Bound::Included(start), Bound::Excluded(end)))
                .take(limit)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }
}

impl StateTxn for MemState {
    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.tables
            .entry(table)
            .or_default()
            .insert(key.to_vec(), value.to_vec());
        Ok(())
    }

    fn delete(&mut self, table: Table, key: &[u8]) -> Result<(), StoreError> {
        if let Some(t) = self.tables.get_mut(&table) {
            t.remove(key);
        }
        Ok(())
    }
}
