//! The stable encodings of the ledger's keys and values.

use crate::types::{Block, Config};
use ic_stable_structures::storable::{Bound, Storable};
use icrc_ledger_types::icrc1::account::Account;
use std::borrow::Cow;

/// An account as a fixed 62-byte key: principal length, principal (padded to 29 bytes),
/// effective subaccount. `subaccount = null` and the 32 zero bytes give the same key, as the
/// standard says they are the same account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct AccountKey(pub [u8; 62]);

impl AccountKey {
    pub fn of(account: &Account) -> Self {
        let mut key = [0u8; 62];
        let owner = account.owner.as_slice();
        key[0] = owner.len() as u8;
        key[1..1 + owner.len()].copy_from_slice(owner);
        key[30..].copy_from_slice(account.effective_subaccount());
        Self(key)
    }

    #[cfg(test)]
    pub fn account(&self) -> Account {
        let len = usize::from(self.0[0]).min(29);
        let mut subaccount = [0u8; 32];
        subaccount.copy_from_slice(&self.0[30..]);
        Account {
            owner: candid::Principal::from_slice(&self.0[1..1 + len]),
            subaccount: Some(subaccount),
        }
    }
}

impl Storable for AccountKey {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.0)
    }
    fn into_bytes(self) -> Vec<u8> {
        self.0.to_vec()
    }
    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        let mut key = [0u8; 62];
        key.copy_from_slice(&bytes);
        Self(key)
    }
    const BOUND: Bound = Bound::Bounded {
        max_size: 62,
        is_fixed_size: true,
    };
}

/// An allowance as stored: the amount left and its expiry (nanoseconds), if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllowanceValue {
    pub amount: u128,
    pub expires_at: Option<u64>,
}

impl Storable for AllowanceValue {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.into_bytes())
    }
    fn into_bytes(self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(25);
        bytes.extend_from_slice(&self.amount.to_le_bytes());
        bytes.push(u8::from(self.expires_at.is_some()));
        bytes.extend_from_slice(&self.expires_at.unwrap_or(0).to_le_bytes());
        bytes
    }
    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        let amount = u128::from_le_bytes(bytes[0..16].try_into().expect("16 bytes"));
        let expires = u64::from_le_bytes(bytes[17..25].try_into().expect("8 bytes"));
        Self {
            amount,
            expires_at: (bytes[16] == 1).then_some(expires),
        }
    }
    const BOUND: Bound = Bound::Bounded {
        max_size: 25,
        is_fixed_size: true,
    };
}

/// The configuration cell: `None` before `init`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigCell(pub Option<Config>);

impl Storable for ConfigCell {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(candid::encode_one(&self.0).expect("the configuration encodes"))
    }
    fn into_bytes(self) -> Vec<u8> {
        self.to_bytes().into_owned()
    }
    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        Self(candid::decode_one(&bytes).expect("the stored configuration decodes"))
    }
    const BOUND: Bound = Bound::Unbounded;
}

impl Storable for Block {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(candid::encode_one(self).expect("a block encodes"))
    }
    fn into_bytes(self) -> Vec<u8> {
        self.to_bytes().into_owned()
    }
    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        candid::decode_one(&bytes).expect("a stored block decodes")
    }
    const BOUND: Bound = Bound::Unbounded;
}
