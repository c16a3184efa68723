//! The per-slot values filters and sorting read: one vector per field, indexed by slot.
//!
//! A column per field keeps a filter's scan on the bytes it needs and lets the snapshot write
//! each column with one bulk copy. The field list is given once, to a macro that writes the
//! struct, the row type and the operations that must touch every column.

use crate::snapshot::{Reader, Writer};
use ic_stable_structures::Memory;

/// `flags` bits.
pub const LIVE: u8 = 1;
pub const VISIBLE: u8 = 2;
pub const UNMETERED: u8 = 4;

/// `gpu` of an offering without a GPU.
pub const NO_GPU: u32 = u32::MAX;

macro_rules! columns {
    ($($(#[$doc:meta])* $name:ident: $ty:ty,)*) => {
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct Columns {
            $($(#[$doc])* pub $name: Vec<$ty>,)*
        }

        /// One slot's values.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct Row {
            $(pub $name: $ty,)*
        }

        impl Columns {
            pub fn push(&mut self, row: Row) {
                $(self.$name.push(row.$name);)*
            }

            /// The values of `slot`.
            pub fn row(&self, slot: u32) -> Option<Row> {
                let at = slot as usize;
                Some(Row { $($name: *self.$name.get(at)?,)* })
            }

            /// Keeps the slots whose `keep` is true, in order.
            pub fn retain(&mut self, keep: &[bool]) {
                $(retain(&mut self.$name, keep);)*
            }

            pub fn write<M: Memory>(&self, out: &mut Writer<M>) {
                $(out.put(&self.$name);)*
            }

            /// Bytes the columns hold on the heap.
            #[cfg(test)]
            pub fn heap_bytes(&self) -> usize {
                0 $(+ self.$name.capacity() * size_of::<$ty>())*
            }

            pub fn read<M: Memory>(input: &mut Reader<M>) -> Result<Self, String> {
                let columns = Self { $($name: input.take()?,)* };
                let len = columns.slots();
                if [$(columns.$name.len()),*].iter().all(|&n| n == len) {
                    Ok(columns)
                } else {
                    Err("columns of different lengths".into())
                }
            }
        }
    };
}

columns! {
    /// The store's offering id.
    id: u64,
    provider: u32,
    /// Monthly price in hundredths of `currency`.
    price: u64,
    currency: [u8; 3],
    country: [u8; 2],
    /// Discriminants of the `search::kinds` enums.
    product_type: u8,
    virtualization: u8,
    billing: u8,
    stock: u8,
    /// [`LIVE`], [`VISIBLE`], [`UNMETERED`].
    flags: u8,
    cores: u32,
    memory_mb: u64,
    ssd_gb: u64,
    hdd_gb: u64,
    /// Id of the folded GPU name in the index's GPU dictionary, or [`NO_GPU`].
    gpu: u32,
    /// Where the slot's offering key ends in the index's key bytes.
    key_end: u32,
}

impl Columns {
    /// How many slots there are, dead ones included.
    pub fn slots(&self) -> usize {
        self.flags.len()
    }

    pub fn has(&self, slot: u32, flag: u8) -> bool {
        self.flags
            .get(slot as usize)
            .is_some_and(|flags| flags & flag != 0)
    }
}

fn retain<T>(column: &mut Vec<T>, keep: &[bool]) {
    let mut slot = 0;
    column.retain(|_| {
        slot += 1;
        keep.get(slot - 1).copied().unwrap_or(false)
    });
}
